// Two `tack controller` processes on one cluster: one leads, the standby writes nothing; killing the leader
// (SIGKILL, no release) hands over within the lease duration, and the API server's audit log shows no write
// from the two replicas at once.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readAuditEvents } from "../support/cluster.ts";
import { ensureControlPlaneBinaries, startControlPlane, type ControlPlane } from "../support/control-plane.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, eventually, refreshApp, waitForApp } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const LEASE = { duration: 6, renew: 4, retry: 1 };
let cp: ControlPlane;
let git: GitServer;
let kube: TestKube;
let cacheDir: string;
const children: ChildProcess[] = [];

before(async () => {
  await ensureControlPlaneBinaries();
  cp = await startControlPlane();
  git = await startGitServer();
  kube = new TestKube(cp.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  cacheDir = await mkdtemp(join(tmpdir(), "tack-failover-"));
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await git?.stop();
  await cp?.stop();
  await rm(cacheDir, { recursive: true, force: true });
});

/** A replica with its own client identity, so the audit log tells the replicas apart. */
async function replica(name: string): Promise<ChildProcess> {
  const kubeconfig = await cp.userKubeconfig(`replica-${name}`, ["system:masters"]);
  const child = spawn(process.execPath, [MAIN, "controller", "--http-port=0", "--http-host=127.0.0.1", `--cache-dir=${join(cacheDir, name)}`,
    "--leader-elect=true", `--pod-name=${name}`, `--lease-duration-seconds=${LEASE.duration}`,
    `--lease-renew-deadline-seconds=${LEASE.renew}`, `--lease-retry-period-seconds=${LEASE.retry}`, "--log-level=warn"], {
    env: { ...process.env, KUBECONFIG: kubeconfig, TACK_NAMESPACE: "tack-system" }, stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

async function holder(): Promise<string | undefined> {
  const lease = await kube.get("coordination.k8s.io/v1", "Lease", "tack-system", "tack-controller");
  return (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? undefined;
}

test("the standby takes over within the lease duration after the leader dies; no two replicas write at once", async () => {
  const a = await replica("a");
  await eventually(async () => (await holder())?.startsWith("a_"), { timeoutMs: 30_000, message: "replica a leads" });
  await replica("b");
  const repo = await git.createRepo("failover", { "app/cm.yaml": configMapYaml("c", { v: "1" }) });
  await kube.createNamespace("failover");
  await kube.apply(application("web", "failover", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "failover" },
    syncPolicy: { automated: {} },
  }));
  await waitForApp(kube, "failover", "web", (s) => s.operationState?.phase === "Succeeded", "synced by the leader", 30_000);

  a.kill("SIGKILL");
  await new Promise((resolve) => setTimeout(resolve, 100));
  // The dead leader's last renewal: the lease duration counts from there (client-go semantics).
  const lastRenew = Date.parse(((await kube.get("coordination.k8s.io/v1", "Lease", "tack-system", "tack-controller"))?.spec as { renewTime: string }).renewTime);
  await eventually(async () => (await holder())?.startsWith("b_"), { timeoutMs: 15_000, intervalMs: 50, message: "replica b leads" });
  const takeover = Date.now() - lastRenew;
  // The standby may notice the expiry up to one retry period late; a loaded 2-core machine adds scheduling delay.
  assert.ok(takeover <= (LEASE.duration + 2 * LEASE.retry) * 1000 + 2_000, `took over ${takeover} ms after the last renewal (lease ${LEASE.duration} s)`);

  const sha = await repo.commit({ "app/cm.yaml": configMapYaml("c", { v: "2" }) }, "after failover");
  await refreshApp(kube, "failover", "web");
  await waitForApp(kube, "failover", "web", (s) => s.operationState?.phase === "Succeeded" && s.operationState.syncResult?.revision === sha,
    "synced by the new leader", 30_000);

  const writes = (await readAuditEvents(cp.auditLogPath!)).filter((e) => e.user.username.startsWith("replica-") &&
    ["create", "update", "patch", "delete"].includes(e.verb) && e.objectRef?.resource !== "leases") as Array<{ user: { username: string }; stageTimestamp?: string }>;
  const byA = writes.filter((e) => e.user.username === "replica-a").map((e) => Date.parse(e.stageTimestamp!));
  const byB = writes.filter((e) => e.user.username === "replica-b").map((e) => Date.parse(e.stageTimestamp!));
  assert.ok(byA.length > 0 && byB.length > 0, `both replicas wrote in their turn (a: ${byA.length}, b: ${byB.length})`);
  assert.ok(Math.max(...byA) < Math.min(...byB), "every write of the standby came after the last write of the old leader");
});
