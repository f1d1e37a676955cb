// B3 commit → applied. A push is announced by a signed webhook (generic flavour, X-Tack-Signature) to Tack's
// /api/webhook, sent right after `git push` returns, as a Git server would. Latency runs from the push's
// return to the moment a watch of the bench sees the new value in the API server (Tack coalesces webhooks
// for 150 ms: that is inside the number).
//   - one-object change: p50 and p99 over many commits
//   - one commit changing 100 apps: p99 of the per-app latency
//   - one commit touching no managed path: writes to managed objects and renders (render cache misses)
import { Informer } from "../src/cluster/index.ts";
import { createLogger } from "../src/main.ts";
import type { BenchContext, BenchTack, Metric } from "./lib.ts";
import {
  appFiles, appManifest, applicationObject, appSpec, auditOffset, auditSince, breakdown, counter, createApps, deleteAllApps,
  ensureNamespace, ensureWebhookSecret, isSynced, isTack, isWrite, metric, percentile, sendWebhook, sleep, startBenchTack, tackRequests, until, WEBHOOK_SECRET,
} from "./lib.ts";

export async function b3Commit(ctx: BenchContext): Promise<Metric[]> {
  const apps = 100;
  const singles = ctx.quick ? 20 : 100;
  const reps = ctx.quick ? 3 : 5;
  const ns = "bench-b3";
  await ensureNamespace(ctx, ns);
  let version = 1;
  const repo = await ctx.git.createRepo("b3", appFiles("b3", apps, 1, String(version)));
  const silent = createLogger({ logLevel: "silent" });
  // name → time the bench first saw the awaited value
  const waiting = new Map<string, { want: string; resolve: (at: number) => void }>();
  const watcher = new Informer(ctx.client, {
    path: `/api/v1/namespaces/${ns}/configmaps`, logger: silent,
    onChange: (_c, obj) => {
      const w = waiting.get(obj.metadata.name ?? "");
      if (w && (obj.data as Record<string, string> | undefined)?.["version"] === w.want) {
        waiting.delete(obj.metadata.name ?? "");
        w.resolve(performance.now());
      }
    },
  });
  watcher.start();
  await watcher.waitForSync(60_000);
  await ensureWebhookSecret(ctx);
  const tack = await startBenchTack(ctx);
  const announce = async (after: string, changedFiles?: string[]) => {
    const status = await sendWebhook(tack, WEBHOOK_SECRET, { repoURL: repo.url, ref: "refs/heads/main", after, ...(changedFiles ? { changedFiles } : {}) });
    if (status >= 300) throw new Error(`B3: webhook answered HTTP ${status}`);
  };
  const awaitValue = (cm: string, want: string) => new Promise<number>((resolve) => waiting.set(cm, { want, resolve }));
  try {
    await createApps(ctx, Array.from({ length: apps }, (_, i) => applicationObject(`b3-${i}`, appSpec(repo.url, `apps/b3-${i}`, ns))));
    await until(async () => (await ctx.kube.list("tack.dev/v1alpha1", "Application", "tack-system"))
      .filter((a) => isSynced(a)).length === apps, "B3: apps Synced", 300_000, 250);
    await tack.controller.queue.idle();
    await sleep(500);

    // One-object change, many times.
    const single: number[] = [];
    const singleGit: number[] = [];
    const singleWrites: number[] = [];
    for (let i = 0; i < singles; i++) {
      const app = `b3-${i % apps}`;
      const want = `single-${++version}`;
      const seen = awaitValue(`${app}-0`, want);
      const sha = await repo.commit({ [`apps/${app}/manifests.yaml`]: appManifest(app, 1, want) }, `change ${app}`);
      const pushed = performance.now();
      const gitBefore = ctx.git.requestCount("b3");
      const statusBefore = (await tackRequests(tack)).writes;
      await announce(sha, [`apps/${app}/manifests.yaml`]);
      single.push(await withTimeout(seen, 30_000, `B3 single ${app}`) - pushed);
      await tack.controller.queue.idle();
      singleGit.push(ctx.git.requestCount("b3") - gitBefore);
      singleWrites.push((await tackRequests(tack)).writes - statusBefore);
    }

    ctx.log(`B3: ${singles} single-object commits done`);
    // One commit changing all 100 apps.
    const wideP99: number[] = [];
    const wideMax: number[] = [];
    let wideBreakdown: Record<string, number> = {};
    for (let rep = 0; rep < reps; rep++) {
      const wideOffset = await auditOffset(ctx);
      // Two values alternate, so each app renders at most 4 distinct trees over the whole benchmark: a fifth
      // variant of one app's render parameters hangs the process (src/render/cache.ts RenderCache.set, the
      // variantsPerKey loop never shrinks its local array; reported to the lead).
      const want = rep % 2 === 0 ? "wide-a" : "wide-b";
      const seen = Array.from({ length: apps }, (_, i) => awaitValue(`b3-${i}-0`, want));
      const sha = await repo.commit(appFiles("b3", apps, 1, want), `change all (${want})`);
      const pushed = performance.now();
      await announce(sha, Object.keys(appFiles("b3", apps, 1, want)));
      const at = await withTimeout(Promise.all(seen), 60_000, "B3 wide change");
      const lat = at.map((t) => t - pushed);
      wideP99.push(percentile(lat, 99));
      wideMax.push(Math.max(...lat));
      await tack.controller.queue.idle();
      wideBreakdown = breakdown((await auditSince(ctx, wideOffset)).filter(isTack));
      await sleep(300);
    }

    ctx.log("B3: wide commits done");
    // A commit touching no managed path.
    const noWrites: number[] = [];
    const noRenders: number[] = [];
    const appWrites: number[] = [];
    let writeBreakdown: Record<string, number> = {};
    let noopNote = "";
    for (let rep = 0; rep < reps; rep++) {
      await tack.controller.queue.idle();
      await sleep(300);
      const offset = await auditOffset(ctx);
      const missesBefore = await counter(tack, "tack_render_cache_requests_total", { result: "miss" });
      const sha = await repo.commit({ [`docs/README-${rep}.md`]: `unrelated change ${rep}\n` }, "docs only");
      await announce(sha, [`docs/README-${rep}.md`]);
      // Every app moves its status to the new revision (unless the receiver skips apps whose path the push did
      // not touch: then nothing moves, and a quiet queue is the end).
      await until(async () => (await ctx.kube.list("tack.dev/v1alpha1", "Application", "tack-system"))
        .filter((a) => isSynced(a, sha)).length === apps, "B3: no-op commit seen", 15_000, 100).catch(() => { noopNote = "apps did not move to the no-op revision"; });
      await tack.controller.queue.idle();
      await sleep(300);
      const writes = (await auditSince(ctx, offset)).filter((e) => isTack(e) && isWrite(e));
      const managedWrites = writes.filter((e) => e.objectRef?.apiGroup !== "tack.dev" && e.objectRef?.resource !== "events" && !e.requestURI.includes("dryRun=All"));
      noWrites.push(managedWrites.length);
      appWrites.push((writes.length - managedWrites.length) / apps);
      writeBreakdown = breakdown(writes);
      noRenders.push(await counter(tack, "tack_render_cache_requests_total", { result: "miss" }) - missesBefore);
    }
    ctx.log(`B3: single p50 ${percentile(single, 50).toFixed(0)} ms p99 ${percentile(single, 99).toFixed(0)} ms; wide p99 ${wideP99.map((x) => x.toFixed(0)).join(",")}; no-op renders ${noRenders.join(",")}`);
    return [
      metric("B3", `one-object change, push → webhook → changed in API server, p50 (${singles} commits)`, "ms", single,
        { op: "<=", value: 250 }, undefined, percentile(single, 50)),
      metric("B3", "one-object change, push → changed in API server, p99", "ms", single, { op: "<=", value: 1000 }, undefined, percentile(single, 99)),
      metric("B3", `one-object change: Git HTTP requests Tack made per push (${apps} apps on the repo)`, "req", singleGit),
      metric("B3", "one-object change: Tack API writes per push (all kinds)", "req", singleWrites),
      metric("B3", `one commit changing ${apps} apps, p99 of per-app latency (median of ${reps})`, "ms", wideP99, { op: "<=", value: 3000 }),
      metric("B3", `one commit changing ${apps} apps, last app applied`, "ms", wideMax, undefined, `Tack requests for the commit, last run: ${JSON.stringify(wideBreakdown)}`),
      metric("B3", `commit touching no managed path (${apps} apps refreshed): writes to managed objects`, "writes", noWrites, { op: "==", value: 0 }),
      metric("B3", "commit touching no managed path: renders (tack_render_cache_requests_total{result=miss})", "renders", noRenders, { op: "==", value: 0 }),
      metric("B3", "commit touching no managed path: Application writes per app (status revision, events)", "writes", appWrites,
        undefined, `${noopNote ? `${noopNote}; ` : ""}all tack writes, last run: ${JSON.stringify(writeBreakdown)}`),
    ];
  } catch (err) {
    // What Tack warned about is the first thing to read when a push never landed.
    for (const line of tack.warnings.slice(-30)) ctx.log(`B3 tack: ${line}`);
    throw err;
  } finally {
    await tack.stop();
    await watcher.stop();
    await deleteAllApps(ctx);
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`bench: ${what} timed out after ${ms} ms`)), ms); });
  try { return await Promise.race([p, timeout]); } finally { clearTimeout(timer); }
}

export type { BenchTack };
