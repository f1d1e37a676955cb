// B2 cold apply: N apps × 4 objects (ConfigMap, Secret, ServiceAccount, Service) from one repo, created while
// Tack is down; then Tack starts and the clock runs until every app is Synced. Requests per object come from
// the audit log (user agent tack-controller). Compared with B0's SSA floor at concurrency 16 and with
// `kubectl apply --server-side` of the same manifests, app by app, in the same run.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Informer } from "../src/cluster/index.ts";
import { createLogger } from "../src/main.ts";
import type { BenchContext, Metric } from "./lib.ts";
import {
  appManifest, applicationObject, appSpec, auditOffset, auditSince, breakdown, counter, createApps, deleteAllApps, ensureNamespace,
  isSynced, isTack, isWrite, median, metric, startBenchTack, until,
} from "./lib.ts";

const execFileAsync = promisify(execFile);
const PER_APP = 4;

export async function b2Cold(ctx: BenchContext, kubectl: string | undefined): Promise<Metric[]> {
  const apps = ctx.quick ? 100 : 1000;
  const reps = ctx.quick ? 3 : 5;
  const kubectlApps = ctx.quick ? 15 : 40;
  const files: Record<string, string> = {};
  for (let i = 0; i < apps; i++) files[`apps/b2-${i}/manifests.yaml`] = appManifest(`b2-${i}`, PER_APP, "1", "mixed");
  const repo = await ctx.git.createRepo("b2", files);
  const silent = createLogger({ logLevel: "silent" });

  const times: number[] = [];
  const reqPerObject: number[] = [];
  const writesPerObject: number[] = [];
  const objectReqPerObject: number[] = [];
  const floorRatio: number[] = [];
  const kubectlPerApp: number[] = [];
  const kubectlRatio: number[] = [];
  const gitListings: number[] = [];
  let lastBreakdown: Record<string, number> = {};
  const floorRate = ctx.shared["SSA PATCH@16"] ?? Number.NaN;
  const objects = apps * PER_APP;

  for (let rep = 0; rep < reps; rep++) {
    const ns = `bench-b2-${rep}`;
    await ensureNamespace(ctx, ns);
    await createApps(ctx, Array.from({ length: apps }, (_, i) => applicationObject(`b2-${rep}-${i}`, appSpec(repo.url, `apps/b2-${i}`, ns))));
    let synced = 0;
    let failure: string | undefined;
    const seen = new Set<string>();
    const watcher = new Informer(ctx.client, {
      path: "/apis/tack.dev/v1alpha1/namespaces/tack-system/applications", logger: silent,
      onChange: (_change, app) => {
        const name = app.metadata.name ?? "";
        if (name.startsWith(`b2-${rep}-`) && !seen.has(name) && isSynced(app)) { seen.add(name); synced++; }
        const op = (app.status as { operationState?: { phase?: string; message?: string } } | undefined)?.operationState;
        if (name.startsWith(`b2-${rep}-`) && op?.phase === "Failed") failure ??= `${name}: ${op.message}`;
      },
    });
    watcher.start();
    await watcher.waitForSync(60_000);
    const offset = await auditOffset(ctx);
    const started = performance.now();
    const tack = await startBenchTack(ctx);
    try {
      await until(() => {
        if (failure) throw new Error(`B2: sync failed: ${failure}`);
        return synced === apps;
      }, `B2: ${apps} apps Synced`, 900_000, 10);
      const elapsed = (performance.now() - started) / 1000;
      const events = (await auditSince(ctx, offset)).filter(isTack);
      times.push(elapsed);
      reqPerObject.push(events.length / objects);
      writesPerObject.push(events.filter((e) => isWrite(e) && !(e.requestURI.includes("dryRun=All"))).length / objects);
      floorRatio.push(elapsed / (objects / floorRate));
      const onObjects = events.filter((e) => e.objectRef?.name && e.objectRef.apiGroup !== "tack.dev" && e.objectRef.resource !== "events" && e.verb !== "watch" && e.verb !== "list");
      objectReqPerObject.push(onObjects.length / objects);
      lastBreakdown = breakdown(events);
      gitListings.push(await counter(tack, "tack_git_request_total", { request_type: "ls-remote" }));
      ctx.log(`B2 rep ${rep}: ${apps} apps Synced in ${elapsed.toFixed(2)} s, ${(events.length / objects).toFixed(2)} req/object, ` +
        `${gitListings.at(-1)} ref listings`);
    } finally {
      await tack.stop();
      await watcher.stop();
    }
    await deleteAllApps(ctx);

    if (kubectl) {
      const kns = `bench-b2-kubectl-${rep}`;
      await ensureNamespace(ctx, kns);
      const dir = await mkdtemp(join(tmpdir(), "tack-bench-kubectl-"));
      try {
        const perApp: number[] = [];
        for (let i = 0; i < kubectlApps; i++) {
          const file = join(dir, `app-${i}.yaml`);
          await writeFile(file, files[`apps/b2-${i}/manifests.yaml`]!);
          const t0 = performance.now();
          await execFileAsync(kubectl, ["--kubeconfig", ctx.cp.kubeconfigPath, "apply", "--server-side", "--field-manager=kubectl-bench",
            "-n", kns, "-f", file], { timeout: 60_000, maxBuffer: 1 << 20 });
          perApp.push((performance.now() - t0) / 1000);
        }
        const m = median(perApp);
        kubectlPerApp.push(m);
        kubectlRatio.push((m * apps) / times.at(-1)!);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  const out = [
    metric("B2", `cold apply: ${apps} apps × ${PER_APP} objects until all Synced (Tack start included)`, "s", times),
    metric("B2", "API requests per object (audit log, tack-controller, all verbs)", "req", reqPerObject, { op: "<=", value: 1.05 },
      `last run: ${JSON.stringify(lastBreakdown)}`),
    metric("B2", "requests on the managed objects themselves per object (GET, dry run, apply; no status, Events, lists, watches)", "req", objectReqPerObject, { op: "<=", value: 1.05 }),
    metric("B2", "writes per object, all kinds (non-dry-run create/patch/update/delete, incl. status and Events)", "req", writesPerObject),
    metric("B2", `Git ref listings (ls-remote) to sync ${apps} apps of one repository`, "req", gitListings),
    metric("B2", `ratio to B0 floor (objects ÷ SSA PATCH rate at concurrency 16 = ${floorRate} req/s)`, "×", floorRatio, { op: "<=", value: 1.25 }),
  ];
  if (kubectl) {
    out.push(metric("B2", `kubectl apply --server-side, one app (median of ${kubectlApps} apps per run)`, "s", kubectlPerApp));
    out.push(metric("B2", `speed-up over kubectl app by app (kubectl per-app time × ${apps} ÷ Tack time)`, "×", kubectlRatio, { op: ">=", value: 5 }));
  } else {
    out.push(metric("B2", "speed-up over kubectl app by app", "×", [Number.NaN], { op: ">=", value: 5 }, "no working kubectl found"));
  }
  return out;
}
