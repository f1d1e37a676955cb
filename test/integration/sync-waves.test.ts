// Sync waves: objects are written wave by wave, in the order the API server receives them, and a later
// wave waits until the earlier one is Healthy. A controller restarted in the middle of wave 2 finishes the
// sync without re-running completed hooks.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readAuditEvents, startTestCluster, type TestCluster } from "../support/cluster.ts";
import { slowDeploymentYaml, waveConfigMapYaml } from "../support/manifests.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, startTestTack, waitForApp, type TestTack } from "../support/kube.ts";

let cluster: TestCluster;
let git: GitServer;
let kube: TestKube;
let tack: TestTack | undefined;

before(async () => {
  cluster = await startTestCluster();
  git = await startGitServer();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
});

after(async () => {
  await tack?.stop();
  await git?.stop();
  await cluster?.stop();
});

function hookJob(name: string, phase: string, wave: number): string {
  return `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  annotations:
    argocd.argoproj.io/hook: ${phase}
    argocd.argoproj.io/sync-wave: "${wave}"
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: registry.invalid/${name}:1}]
`;
}

interface RawAudit { verb: string; userAgent?: string; objectRef?: { resource?: string; name?: string; namespace?: string }; stageTimestamp?: string; requestURI: string }

async function tackWrites(namespace: string): Promise<RawAudit[]> {
  const events = (await readAuditEvents(cluster.auditLogPath!)) as unknown as RawAudit[];
  return events.filter((e) => e.userAgent?.startsWith("tack-controller") && (e.verb === "patch" || e.verb === "create") &&
    e.objectRef?.namespace === namespace && !e.requestURI.includes("dryRun") && e.objectRef.resource !== "events");
}

test("waves in one multi-document file are written in order, each after the previous one is Healthy", async (t) => {
  if (!cluster.auditLogPath) { t.skip("needs the local control plane's audit log (TACK_TEST_KUBECONFIG is set)"); return; }
  tack = await startTestTack(cluster.kubeconfigPath);
  try {
    const manifest = [waveConfigMapYaml("late", 2), slowDeploymentYaml("db", 1, "2s"), waveConfigMapYaml("early", -1, "tack.dev/sync-wave"), waveConfigMapYaml("plain", 0)].join("---\n");
    const repo = await git.createRepo("waves", { "app/all.yaml": manifest });
    await kube.createNamespace("waves");
    await kube.apply(application("web", "waves", {
      source: { repoURL: repo.url, path: "app" },
      destination: { server: "https://kubernetes.default.svc", namespace: "waves" },
      syncPolicy: { automated: {} },
    }));
    await waitForApp(kube, "waves", "web", (s) => s.operationState?.phase === "Succeeded", "sync Succeeded", 60_000);

    const writes = (await tackWrites("waves")).filter((e) => e.objectRef?.resource !== "applications" && e.objectRef?.resource !== "appprojects");
    const order = writes.map((e) => e.objectRef!.name);
    assert.deepEqual(order, ["early", "plain", "db", "late"], `write order seen by the API server: ${order.join(", ")}`);
    const at = (name: string) => Date.parse(writes.find((e) => e.objectRef!.name === name)!.stageTimestamp!);
    assert.ok(at("late") - at("db") >= 1_800, `wave 2 waited for wave 1's rollout (${at("late") - at("db")} ms)`);
    const db = await kube.get("apps/v1", "Deployment", "waves", "db");
    const available = ((db?.status as { conditions?: Array<{ type: string; status: string; lastUpdateTime?: string }> }).conditions ?? [])
      .find((c) => c.type === "Available" && c.status === "True");
    assert.ok(available, "wave 1's Deployment is Available");
  } finally {
    await tack.stop();
    tack = undefined;
  }
});

test("a controller restarted in the middle of wave 2 finishes without re-running completed hooks", async () => {
  // PreSync hook (wave 0) → Deployment (wave 1, slow) → ConfigMap (wave 2, behind a slow Deployment).
  const manifest = [hookJob("migrate", "PreSync", 0), slowDeploymentYaml("api", 1, "1s"), slowDeploymentYaml("worker", 2, "3s"), waveConfigMapYaml("after", 3)].join("---\n");
  const repo = await git.createRepo("restart", { "app/all.yaml": manifest });
  await kube.createNamespace("restart");
  tack = await startTestTack(cluster.kubeconfigPath);
  await kube.apply(application("web", "restart", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "restart" },
    syncPolicy: { automated: {} },
  }));
  // Stop the controller as soon as wave 2 is being waited on.
  await waitForApp(kube, "restart", "web", (s) => /wave 2/.test(s.operationState?.message ?? ""), "wave 2 in progress", 60_000);
  await tack.stop();
  const hookUid = (await kube.get("batch/v1", "Job", "restart", "migrate"))?.metadata.uid;
  assert.ok(hookUid, "the PreSync hook ran before the restart");

  tack = await startTestTack(cluster.kubeconfigPath);
  const status = await waitForApp(kube, "restart", "web", (s) => s.operationState?.phase === "Succeeded", "sync Succeeded after restart", 60_000);
  assert.equal((await kube.get("batch/v1", "Job", "restart", "migrate"))?.metadata.uid, hookUid, "the completed hook was not run again");
  const hookResults = status.operationState?.syncResult?.resources?.filter((r) => r.hookType === "PreSync") ?? [];
  assert.equal(hookResults.length, 1);
  assert.equal(hookResults[0]!.hookPhase, "Succeeded");
  assert.ok(await kube.get("v1", "ConfigMap", "restart", "after"), "the last wave was applied");
});
