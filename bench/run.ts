// The benchmark suite: `npm run bench` (full) or `npm run bench -- --quick` (under 5 minutes on 2 cores).
// Starts its own local control plane (etcd and kube-apiserver only, audit log on) and git server on 127.0.0.1,
// runs B0–B6, writes bench/results/<timestamp>.json and regenerates BENCHMARKS.md.
// `--only=B0,B3` runs a subset (B2 needs B0's floor: it runs B0 too).
import { execFile } from "node:child_process";
import { access, mkdir, writeFile } from "node:fs/promises";
import { cpus, homedir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { KubeClient } from "../src/cluster/index.ts";
import { startControlPlane } from "../test/support/control-plane.ts";
import { startGitServer } from "../test/support/git-server.ts";
import { TestKube } from "../test/support/kube.ts";
import { b0Floor } from "./b0-floor.ts";
import { b1Idle } from "./b1-idle.ts";
import { b2Cold } from "./b2-cold.ts";
import { b3Commit } from "./b3-commit.ts";
import { b4Drift } from "./b4-drift.ts";
import { b5Memory } from "./b5-memory.ts";
import { b6Git } from "./b6-git.ts";
import type { BenchContext, Metric } from "./lib.ts";
import { writeReport, type RunResult } from "./report.ts";

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.find((a) => a.startsWith("--only="))?.slice(7).split(",").map((s) => s.trim().toUpperCase());
const wants = (b: string) => !only || only.includes(b) || (b === "B0" && only.includes("B2"));
const started = Date.now();
const log = (line: string) => process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

/** A kubectl that answers `version --client`: $TACK_BENCH_KUBECTL, the bench cache, PATH; else build one from the wrapper module. */
async function findKubectl(): Promise<string | undefined> {
  const cacheDir = join(process.env["TACK_CACHE_DIR"] ?? join(homedir(), ".cache", "tack"), "bench");
  const candidates = [process.env["TACK_BENCH_KUBECTL"], join(cacheDir, "kubectl"), "/usr/lib/google-cloud-sdk/bin/kubectl.1.33", "kubectl"].filter((c): c is string => !!c);
  for (const c of candidates) {
    try {
      const { stdout } = await exec(c, ["version", "--client", "-o", "json"], { timeout: 20_000 });
      const v = (JSON.parse(stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
      if (v) { log(`kubectl: ${c} (${v})`); return c; }
    } catch { /* next */ }
  }
  if (process.env["TACK_BENCH_NO_BUILD"]) return undefined;
  log(`no kubectl found: building k8s.io/kubernetes/cmd/kubectl into ${cacheDir} (several minutes, once)`);
  try {
    await mkdir(cacheDir, { recursive: true });
    await exec("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(cacheDir, "kubectl"), "k8s.io/kubernetes/cmd/kubectl"],
      { cwd: join(ROOT, "hack/control-plane/kubernetes"), timeout: 1_800_000, maxBuffer: 16 << 20 });
    await access(join(cacheDir, "kubectl"));
    return join(cacheDir, "kubectl");
  } catch (err) {
    log(`kubectl build failed: ${(err as Error).message.split("\n", 1)[0]}`);
    return undefined;
  }
}

// Say which signal ended a run (the control plane's own handler kills its processes on these).
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => { log(`received ${signal}: stopping`); process.exit(130); });
}
const [kubectl, cp, gitServer] = await Promise.all([
  wants("B2") ? findKubectl() : Promise.resolve(undefined),
  startControlPlane({ controllers: false, log }),
  startGitServer(),
]);
// A watchdog on its own thread: if the suite overruns (or the main thread is stuck in a loop, where no timer
// of ours would fire), it kills the control plane and this process instead of hanging forever.
const watchdog = new Worker(`
  const { workerData } = require("node:worker_threads");
  setTimeout(() => {
    process.stderr.write("[bench] watchdog: suite exceeded " + workerData.seconds + " s; killing the control plane and the bench\\n");
    for (const pid of workerData.pids) { try { process.kill(pid, "SIGKILL"); } catch {} }
    process.kill(workerData.self, "SIGKILL");
  }, workerData.seconds * 1000);
`, { eval: true, workerData: { seconds: quick ? 900 : 5400, self: process.pid, pids: [cp.pids.apiserver, cp.pids.etcd].filter((p) => p > 0) } });
watchdog.unref();
const results: Metric[] = [];
const errors: Record<string, string> = {};
const durations: Record<string, number> = {};
try {
  const kube = new TestKube(cp.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  const client = KubeClient.load({ kubeconfigPath: cp.kubeconfigPath, userAgent: "tack-bench", timeoutMs: 60_000 });
  const version = await client.request<{ gitVersion: string }>({ method: "GET", path: "/version" });
  const ctx: BenchContext = { quick, cp, kube, client, git: gitServer, log, shared: {} };
  const benches: Array<[string, () => Promise<Metric[]>]> = [
    ["B0", () => b0Floor(ctx)],
    ["B1", () => b1Idle(ctx)],
    ["B2", () => b2Cold(ctx, kubectl)],
    ["B3", () => b3Commit(ctx)],
    ["B4", () => b4Drift(ctx)],
    ["B6", () => b6Git(ctx)],
    ["B5", () => b5Memory(ctx)],   // last: it fills the cluster with objects the others would then watch
  ];
  for (const [name, run] of benches) {
    if (!wants(name)) continue;
    const t0 = Date.now();
    log(`${name} starting`);
    try {
      results.push(...await run());
    } catch (err) {
      errors[name] = (err as Error).stack ?? String(err);
      log(`${name} FAILED: ${(err as Error).message}`);
    }
    durations[name] = (Date.now() - t0) / 1000;
    log(`${name} done in ${durations[name]!.toFixed(1)} s`);
  }
  const run: RunResult = {
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "?", memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform} ${process.arch}` },
    node: process.version,
    kubernetes: version.gitVersion,
    kubectl: kubectl ? (await exec(kubectl, ["version", "--client", "-o", "json"]).then((r) => (JSON.parse(r.stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion, () => "?")) : undefined,
    durationSeconds: (Date.now() - started) / 1000,
    benchDurations: durations,
    metrics: results,
    errors,
  };
  const file = await writeReport(ROOT, run);
  log(`results: ${file}; BENCHMARKS.md regenerated (${run.durationSeconds.toFixed(0)} s)`);
  if (Object.keys(errors).length > 0) process.exitCode = 1;
} finally {
  await watchdog.terminate();
  await gitServer.stop();
  await cp.stop();
}
