// Remote destination clusters: two real API servers as two clusters, one app on each. The second cluster is
// registered with a cluster Secret (Argo CD's format); stopping it marks only its app Unknown, with a
// condition, while the app on the first cluster goes on syncing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { startControlPlane, type ControlPlane } from "../support/control-plane.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, eventually, refreshApp, startTestTack, waitForApp, type TestTack } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

let home: TestCluster;
let second: ControlPlane;
let git: GitServer;
let kube: TestKube;
let remote: TestKube;
let tack: TestTack;

interface KubeconfigJson {
  clusters: Array<{ cluster: { server: string; "certificate-authority-data": string } }>;
  users: Array<{ user: { "client-certificate-data": string; "client-key-data": string } }>;
}

before(async () => {
  home = await startTestCluster();
  second = await startControlPlane({ controllers: false, auditLog: false });
  git = await startGitServer();
  kube = new TestKube(home.kubeconfigPath);
  remote = new TestKube(second.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  const kc = JSON.parse(await readFile(second.kubeconfigPath, "utf8")) as KubeconfigJson;
  await kube.apply({
    apiVersion: "v1", kind: "Secret",
    metadata: { name: "cluster-second", namespace: "tack-system", labels: { "tack.dev/secret-type": "cluster" } },
    stringData: {
      name: "second", server: second.server,
      config: JSON.stringify({ tlsClientConfig: {
        caData: kc.clusters[0]!.cluster["certificate-authority-data"],
        certData: kc.users[0]!.user["client-certificate-data"], keyData: kc.users[0]!.user["client-key-data"],
      } }),
    },
  });
  tack = await startTestTack(home.kubeconfigPath, { "resync-seconds": 600 });
});

after(async () => {
  await tack?.stop();
  await git?.stop();
  await second?.stop();
  await home?.stop();
});

test("one app on each cluster; stopping one API server leaves the other's app syncing", async () => {
  const repo = await git.createRepo("multi", { "app/cm.yaml": configMapYaml("c", { v: "1" }) });
  await kube.createNamespace("multi");
  await remote.createNamespace("multi");
  await kube.apply(application("local", "multi", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "multi" },
    syncPolicy: { automated: {} },
  }));
  await kube.apply(application("remote", "multi", {
    source: { repoURL: repo.url, path: "app" },
    destination: { name: "second", namespace: "multi" },
    syncPolicy: { automated: {} },
  }));
  await waitForApp(kube, "multi", "local", (s) => s.operationState?.phase === "Succeeded", "local app synced");
  await waitForApp(kube, "multi", "remote", (s) => s.operationState?.phase === "Succeeded", "remote app synced", 30_000);
  assert.ok(await remote.get("v1", "ConfigMap", "multi", "c"), "applied to the second cluster");
  assert.match(JSON.stringify((await remote.get("v1", "ConfigMap", "multi", "c"))?.metadata.annotations), /multi_remote:/);

  await second.stop();
  const unknown = await waitForApp(kube, "multi", "remote", (s) => s.sync?.status === "Unknown", "remote app Unknown", 30_000);
  assert.match(JSON.stringify(unknown.conditions), /cluster 'second' .* is unreachable/);
  assert.equal((await kube.app("multi", "local") as { status?: { sync?: { status?: string } } }).status?.sync?.status, "Synced");

  const sha = await repo.commit({ "app/cm.yaml": configMapYaml("c", { v: "2" }) }, "v2");
  await refreshApp(kube, "multi", "local");
  await waitForApp(kube, "multi", "local", (s) => s.operationState?.phase === "Succeeded" && s.operationState.syncResult?.revision === sha, "local app still syncing");
  const cm = await kube.get("v1", "ConfigMap", "multi", "c");
  assert.equal((cm?.data as Record<string, string>).v, "2");
  await eventually(async () => (await tack.metrics.render()).body.includes(`tack_cluster_connection_status{server="${second.server}"} 0`),
    { message: "connection status metric" });
});

test("an app naming an unregistered cluster gets an InvalidSpecError saying how to register it", async () => {
  const repo = await git.createRepo("nowhere", { "app/cm.yaml": configMapYaml("c", { v: "1" }) });
  await kube.createNamespace("nowhere");
  await kube.apply(application("web", "nowhere", {
    source: { repoURL: repo.url, path: "app" },
    destination: { name: "does-not-exist", namespace: "nowhere" },
  }));
  const status = await waitForApp(kube, "nowhere", "web", (s) => s.conditions?.some((c) => c.type === "InvalidSpecError") ?? false, "refused");
  assert.match(JSON.stringify(status.conditions), /destination cluster with name 'does-not-exist' is not registered: add a Secret labelled tack.dev\/secret-type: cluster/);
});
