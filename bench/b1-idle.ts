// B1 idle cost: N apps × 20 objects synced, then forced re-reconciles of every app (queue.add + idle):
// API requests per unchanged reconcile (Tack's own tack_app_k8s_request_total and the audit log), CPU
// microseconds per object per reconcile (process.cpuUsage), RSS, and heap held per managed object.
import type { BenchContext, Metric } from "./lib.ts";
import {
  appFiles, applicationObject, appSpec, auditOffset, auditSince, breakdown, cpuMicros, createApps, deleteAllApps,
  ensureNamespace, isSynced, isTack, metric, settledHeap, startBenchTack, tackRequests, until,
} from "./lib.ts";

export async function b1Idle(ctx: BenchContext): Promise<Metric[]> {
  const apps = ctx.quick ? 30 : 200;
  const perApp = 20;
  const rounds = 5;
  const perRound = 20;   // 5 rounds × 20 = 100 forced re-reconciles of each app
  const ns = "bench-b1";
  await ensureNamespace(ctx, ns);
  const repo = await ctx.git.createRepo("b1", appFiles("b1", apps, perApp, "1"));
  const heapBefore = await settledHeap();
  const tack = await startBenchTack(ctx);
  try {
    await createApps(ctx, Array.from({ length: apps }, (_, i) => applicationObject(`b1-${i}`, appSpec(repo.url, `apps/b1-${i}`, ns))));
    await until(async () => {
      const list = await ctx.kube.list("tack.dev/v1alpha1", "Application", "tack-system");
      return list.filter((a) => a.metadata.name?.startsWith("b1-") && isSynced(a)).length === apps;
    }, `B1: ${apps} apps Synced`, 600_000, 500);
    // Let the echoes of our own writes (watch events of applied objects and status) settle.
    await tack.controller.queue.idle();
    await new Promise((r) => setTimeout(r, 1_000));
    await tack.controller.queue.idle();
    const heapSynced = await settledHeap();
    const keys = Array.from({ length: apps }, (_, i) => `tack-system/b1-${i}`);

    const requestsPer: number[] = [];
    const auditPer: number[] = [];
    const cpuPerObject: number[] = [];
    const rss: number[] = [];
    const reconcileMs: number[] = [];
    let auditBreakdown: Record<string, number> = {};
    for (let round = 0; round < rounds; round++) {
      const before = await tackRequests(tack);
      const offset = await auditOffset(ctx);
      const cpu = cpuMicros();
      const started = performance.now();
      for (let i = 0; i < perRound; i++) {
        for (const key of keys) tack.controller.queue.add(key);
        await tack.controller.queue.idle();
      }
      const elapsed = performance.now() - started;
      const cpuUsed = cpuMicros() - cpu;
      const after = await tackRequests(tack);
      const tackAudit = (await auditSince(ctx, offset)).filter((e) => isTack(e) && e.verb !== "watch");
      const reconciles = perRound * apps;
      requestsPer.push((after.total - before.total) / reconciles);
      auditPer.push(tackAudit.length / reconciles);
      auditBreakdown = breakdown(tackAudit);
      cpuPerObject.push(cpuUsed / (reconciles * perApp));
      reconcileMs.push(elapsed / reconciles);
      rss.push(process.memoryUsage().rss / 2 ** 20);
    }
    const heapPerObject = (heapSynced - heapBefore) / (apps * perApp);
    ctx.log(`B1: requests/reconcile ${requestsPer.join(",")}, cpu µs/object ${cpuPerObject.map((x) => x.toFixed(1)).join(",")}`);
    return [
      metric("B1", `API requests per unchanged reconcile (tack metric; ${apps} apps × ${perApp} objects, ${rounds * perRound} re-reconciles each)`, "req", requestsPer, { op: "==", value: 0 }),
      metric("B1", "API requests per unchanged reconcile (audit log, user agent tack-controller)", "req", auditPer, { op: "==", value: 0 },
        Object.keys(auditBreakdown).length ? `breakdown: ${JSON.stringify(auditBreakdown)}` : undefined),
      metric("B1", "CPU per object per unchanged reconcile", "µs", cpuPerObject),
      metric("B1", "wall time per unchanged reconcile (workers 10)", "ms", reconcileMs),
      metric("B1", "RSS of the bench process (Tack in-process) after the rounds", "MiB", rss),
      metric("B1", "JS heap held per managed object (whole controller: cache, comparisons, renders, ownership)", "bytes", [heapPerObject]),
    ];
  } finally {
    await tack.stop();
    await deleteAllApps(ctx);
  }
}
