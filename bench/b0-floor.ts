// B0 floor: how fast this API server takes raw server-side-apply PATCHes, GETs and dry-run PATCHes at
// concurrency 1, 4 and 16 from a minimal client (src/cluster KubeClient, no cache, no logic). The yardstick
// for every other benchmark: Tack can at best approach these rates.
import type { BenchContext, Metric } from "./lib.ts";
import { configMap, ensureNamespace, mapLimit, metric } from "./lib.ts";

const NS = "bench-b0";

export async function b0Floor(ctx: BenchContext): Promise<Metric[]> {
  const reps = 5;
  const perCell = ctx.quick ? 120 : 400;
  await ensureNamespace(ctx, NS);
  const path = (name: string) => `/api/v1/namespaces/${NS}/configmaps/${name}`;
  // Objects exist first, so that GET and dry run measure steady-state calls (and applies update, as a sync does).
  await mapLimit(Array.from({ length: perCell }, (_, i) => i), 16, (i) => apply(i, "seed", false));

  async function apply(i: number, version: string, dryRun: boolean): Promise<void> {
    const name = `floor-${i}`;
    await ctx.client.request({
      method: "PATCH", path: path(name), query: { fieldManager: "bench-floor", force: true, ...(dryRun ? { dryRun: "All" } : {}) },
      contentType: "application/apply-patch+yaml", body: configMap(NS, name, { version, a: "alpha", b: "beta" }),
    });
  }

  const ops: Record<string, (i: number, rep: number) => Promise<void>> = {
    "SSA PATCH": (i, rep) => apply(i, `v${rep}-${i}`, false),
    "GET": async (i) => { await ctx.client.request({ method: "GET", path: path(`floor-${i}`) }); },
    "dry-run SSA PATCH": (i, rep) => apply(i, `dry${rep}-${i}`, true),
  };
  const metrics: Metric[] = [];
  for (const [op, fn] of Object.entries(ops)) {
    for (const concurrency of [1, 4, 16]) {
      const rates: number[] = [];
      for (let rep = 0; rep < reps; rep++) {
        const started = performance.now();
        await mapLimit(Array.from({ length: perCell }, (_, i) => i), concurrency, (i) => fn(i, rep * 1000 + concurrency));
        rates.push(perCell / ((performance.now() - started) / 1000));
      }
      metrics.push(metric("B0", `${op} rate, concurrency ${concurrency}`, "req/s", rates));
      ctx.shared[`${op}@${concurrency}`] = metrics.at(-1)!.value;
      ctx.log(`B0 ${op} c=${concurrency}: ${metrics.at(-1)!.value} req/s`);
    }
  }
  return metrics;
}
