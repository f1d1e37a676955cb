// The `tack controller` process: exits 0 on SIGTERM after finishing its writes, serves /healthz, /readyz and
// /metrics, and a controller killed in the middle of a sync loses nothing: started again, it converges.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, eventually } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
let cluster: TestCluster;
let git: GitServer;
let kube: TestKube;
let cacheDir: string;

before(async () => {
  cluster = await startTestCluster();
  git = await startGitServer();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  cacheDir = await mkdtemp(join(tmpdir(), "tack-proc-cache-"));
});

after(async () => {
  await git?.stop();
  await cluster?.stop();
  await rm(cacheDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Proc { child: ChildProcess; port: number; output: () => string; exit: Promise<number | null> }

async function startController(): Promise<Proc> {
  const port = await freePort();
  let output = "";
  const child = spawn(process.execPath, [MAIN, "controller", `--http-port=${port}`, "--http-host=127.0.0.1", `--cache-dir=${cacheDir}`, "--log-level=info"], {
    env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, TACK_NAMESPACE: "tack-system" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => { output += d.toString(); });
  child.stderr!.on("data", (d: Buffer) => { output += d.toString(); });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
    { timeoutMs: 30_000, message: "controller ready" }).catch((err: Error) => { throw new Error(`${err.message}\n${output}`); });
  return { child, port, output: () => output, exit };
}

test("serves health, readiness and metrics; SIGTERM exits 0 after stopping its watches", async () => {
  const proc = await startController();
  assert.equal((await fetch(`http://127.0.0.1:${proc.port}/healthz`)).status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${proc.port}/metrics`)).text();
  assert.match(metrics, /# TYPE tack_app_info gauge/);
  assert.match(metrics, /tack_process_cpu_seconds_total/);
  proc.child.kill("SIGTERM");
  assert.equal(await proc.exit, 0, proc.output());
  assert.match(proc.output(), /"msg":"stopped"/);
});

test("a controller killed mid-sync resumes from status and converges", async () => {
  // Many objects so that the kill lands while the sync is still writing.
  const files: Record<string, string> = {};
  for (let i = 0; i < 150; i++) files[`app/cm-${String(i).padStart(3, "0")}.yaml`] = configMapYaml(`cm-${i}`, { index: String(i) });
  const repo = await git.createRepo("killed", files);
  await kube.createNamespace("killed");
  const first = await startController();
  await kube.apply(application("web", "killed", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "killed" },
    syncPolicy: { automated: { prune: true } },
  }));
  // Wait until the sync has started writing, then kill without warning.
  await eventually(async () => (await kube.list("v1", "ConfigMap", "killed")).length >= 5, { intervalMs: 5, message: "sync started" });
  first.child.kill("SIGKILL");
  await first.exit;
  const applied = (await kube.list("v1", "ConfigMap", "killed")).filter((c) => c.metadata.name?.startsWith("cm-")).length;
  const status = (await kube.app("killed", "web")) as { status?: { operationState?: { phase?: string } } };
  assert.ok(applied < 150 || status.status?.operationState?.phase !== "Succeeded",
    `the kill should land mid-sync (applied ${applied}, phase ${status.status?.operationState?.phase})`);

  const second = await startController();
  try {
    await eventually(async () => {
      const app = (await kube.app("killed", "web")) as { status?: { sync?: { status?: string; revision?: string }; operationState?: { phase?: string } } };
      return app.status?.sync?.status === "Synced" && app.status.operationState?.phase === "Succeeded";
    }, { timeoutMs: 60_000, message: "converged after restart" });
    const configMaps = (await kube.list("v1", "ConfigMap", "killed")).filter((c) => c.metadata.name?.startsWith("cm-"));
    assert.equal(configMaps.length, 150);
    assert.ok(configMaps.every((c) => c.metadata.annotations?.["tack.dev/tracking-id"]?.startsWith("killed_web:")));
  } finally {
    second.child.kill("SIGTERM");
    assert.equal(await second.exit, 0);
  }
});
