// B4 drift → healed: a live edit of a managed field (a merge patch by another field manager) until Tack's
// selfHeal has put Git's value back, as seen by a watch of the bench: p99 over sequential edits; 100 edits at
// once; and 50 updates per second to unmanaged objects (from a separate process): Tack's CPU share and writes.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Informer } from "../src/cluster/index.ts";
import { createLogger } from "../src/main.ts";
import type { BenchContext, Metric } from "./lib.ts";
import {
  appFiles, applicationObject, appSpec, auditOffset, auditSince, breakdown, configMap, isTack, cpuMicros, createApps, deleteAllApps, ensureNamespace, isSynced, mapLimit,
  metric, percentile, sleep, startBenchTack, tackRequests, until,
} from "./lib.ts";
import { withTimeout } from "./b3-commit.ts";

const CHURN = fileURLToPath(new URL("./churn.ts", import.meta.url));

export async function b4Drift(ctx: BenchContext): Promise<Metric[]> {
  const apps = 100;
  const edits = ctx.quick ? 30 : 100;
  const reps = ctx.quick ? 3 : 5;
  const ns = "bench-b4";
  const unmanagedNs = "bench-b4-unmanaged";
  await ensureNamespace(ctx, ns);
  await ensureNamespace(ctx, unmanagedNs);
  const repo = await ctx.git.createRepo("b4", appFiles("b4", apps, 1, "1"));
  const silent = createLogger({ logLevel: "silent" });
  const waiting = new Map<string, { drifted: boolean; resolve: (at: number) => void }>();
  const watcher = new Informer(ctx.client, {
    path: `/api/v1/namespaces/${ns}/configmaps`, logger: silent,
    onChange: (_c, obj) => {
      const name = obj.metadata.name ?? "";
      const w = waiting.get(name);
      if (!w) return;
      const v = (obj.data as Record<string, string> | undefined)?.["version"];
      if (v === "drifted") w.drifted = true;
      else if (w.drifted && v === "1") { waiting.delete(name); w.resolve(performance.now()); }
    },
  });
  watcher.start();
  await watcher.waitForSync(60_000);
  const tack = await startBenchTack(ctx);
  const drift = async (cm: string): Promise<{ healed: Promise<number> }> => {
    const healed = new Promise<number>((resolve) => waiting.set(cm, { drifted: false, resolve }));
    await ctx.client.request({
      method: "PATCH", path: `/api/v1/namespaces/${ns}/configmaps/${cm}`, query: { fieldManager: "bench-drift" },
      contentType: "application/merge-patch+json", body: { data: { version: "drifted" } },
    });
    return { healed };
  };
  try {
    await createApps(ctx, Array.from({ length: apps }, (_, i) => applicationObject(`b4-${i}`, appSpec(repo.url, `apps/b4-${i}`, ns))));
    await until(async () => (await ctx.kube.list("tack.dev/v1alpha1", "Application", "tack-system"))
      .filter((a) => isSynced(a)).length === apps, "B4: apps Synced", 300_000, 250);
    await tack.controller.queue.idle();
    await sleep(500);

    const single: number[] = [];
    for (let i = 0; i < edits; i++) {
      const t0 = performance.now();
      const { healed } = await drift(`b4-${i % apps}-0`);
      single.push(await withTimeout(healed, 30_000, "B4 heal") - t0);
      await tack.controller.queue.idle();
      await sleep(50);   // the selfHeal of the same app is not throttled here, but spacing keeps samples independent
    }

    const burst: number[] = [];
    let burstBreakdown: Record<string, number> = {};
    for (let rep = 0; rep < reps; rep++) {
      await sleep(300);
      const offset = await auditOffset(ctx);
      const t0 = performance.now();
      const healed = await mapLimit(Array.from({ length: apps }, (_, i) => i), 16, (i) => drift(`b4-${i}-0`));
      const at = await withTimeout(Promise.all(healed.map((h) => h.healed)), 60_000, "B4 burst heal");
      burst.push(Math.max(...at) - t0);
      await tack.controller.queue.idle();
      burstBreakdown = breakdown((await auditSince(ctx, offset)).filter(isTack));
    }

    // Unmanaged churn, from another process.
    const unmanaged = 50;
    await mapLimit(Array.from({ length: unmanaged }, (_, i) => i), 16, (i) => ctx.kube.apply(configMap(unmanagedNs, `unmanaged-${i}`, { tick: "0" }), "bench-churn"));
    await sleep(1_000);
    const windowS = ctx.quick ? 3 : 10;
    const churnSeconds = windowS * reps + 2;
    const child = spawn(process.execPath, [CHURN, ctx.cp.kubeconfigPath, unmanagedNs, String(unmanaged), "50", String(churnSeconds)], { stdio: ["ignore", "pipe", "inherit"] });
    let childOut = "";
    child.stdout.on("data", (d: Buffer) => { childOut += d.toString(); });
    const childDone = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    await sleep(1_000);
    const cpuShare: number[] = [];
    const writes: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const before = await tackRequests(tack);
      const cpu = cpuMicros();
      const t0 = performance.now();
      await sleep(windowS * 1000);
      cpuShare.push((cpuMicros() - cpu) / ((performance.now() - t0) * 1000) * 100);
      writes.push((await tackRequests(tack)).writes - before.writes);
    }
    await withTimeout(childDone, 60_000, "churn process");
    ctx.log(`B4: heal p99 ${percentile(single, 99).toFixed(0)} ms, burst ${burst.map((x) => x.toFixed(0)).join(",")} ms, churn CPU ${cpuShare.map((x) => x.toFixed(1)).join(",")} % (${childOut.trim()})`);
    return [
      metric("B4", `live edit of a managed field → restored, p50 (${edits} edits)`, "ms", single, undefined, undefined, percentile(single, 50)),
      metric("B4", "live edit of a managed field → restored, p99", "ms", single, { op: "<=", value: 500 }, undefined, percentile(single, 99)),
      metric("B4", `${apps} edits at once → all restored`, "ms", burst, { op: "<=", value: 2000 }, `Tack requests for the ${apps} heals, last run: ${JSON.stringify(burstBreakdown)}`),
      metric("B4", "50 updates/s to unmanaged objects: CPU of the Tack process (bench idle meanwhile)", "% of a core", cpuShare, { op: "<=", value: 5 },
        `churn: ${childOut.trim()}`),
      metric("B4", "50 updates/s to unmanaged objects: Tack writes", "writes", writes, { op: "==", value: 0 }),
    ];
  } finally {
    await tack.stop();
    await watcher.stop();
    await deleteAllApps(ctx);
  }
}
