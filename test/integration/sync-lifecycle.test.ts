// The sync lifecycle beyond one apply: retries with backoff and supersession by a newer commit, rollback,
// cascade and non-cascade deletion, shared objects, the prune guard, and ignoreDifferences.
import { test } from "node:test";
import assert from "node:assert/strict";
import { application, eventually, refreshApp, requestSync, waitForApp, startEnvironment } from "../support/kube.ts";
import { configMapYaml, deploymentYaml } from "../support/manifests.ts";

const { cluster, git, kube, tack } = await startEnvironment({ "resync-seconds": 600 });

async function newApp(ns: string, files: Record<string, string>, spec: Record<string, unknown>) {
  const repo = await git.createRepo(ns, files);
  await kube.createNamespace(ns);
  await kube.apply(application("web", ns, {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: ns },
    ...spec,
  }));
  return repo;
}

const phase = (p: string, revision?: string) => (s: { operationState?: { phase?: string; syncResult?: { revision?: string } } }) =>
  s.operationState?.phase === p && (!revision || s.operationState.syncResult?.revision === revision);

/** A ConfigMap with a data value the API server refuses (not a string). */
const invalid = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  count: 3\n";

test("a failing sync retries with backoff, then succeeds after a fixing commit that supersedes it", async () => {
  const repo = await newApp("retry", { "app/cm.yaml": invalid }, {
    syncPolicy: { automated: {}, retry: { limit: 10, backoff: { duration: "1s", factor: 2, maxDuration: "4s" } } },
  });
  const failed = await waitForApp(kube, "retry", "web", (s) => (s.operationState?.retryCount ?? 0) >= 1 && s.operationState?.phase === "Failed",
    "retried after failing", 30_000);
  assert.match(failed.operationState!.message!, /ConfigMap\/retry\/broken/);
  const fix = await repo.commit({ "app/cm.yaml": configMapYaml("broken", { count: "3" }) }, "fix");
  await refreshApp(kube, "retry", "web");
  const fixed = await waitForApp(kube, "retry", "web", phase("Succeeded", fix), "the fix synced");
  assert.equal(fixed.operationState!.retryCount, 0, "a new revision starts a fresh operation");
  assert.ok(!fixed.conditions?.some((c) => c.type === "SyncError"), "SyncError cleared");
});

test("a newer commit supersedes a sync stuck waiting for health", async () => {
  const stuck = deploymentYaml("web").replace("      labels:\n        app: web\n    spec:", "      labels:\n        app: web\n      annotations:\n        sim.tack.dev/outcome: unready\n    spec:");
  // The operation waits only between waves (it ends once its last step is applied), so a second wave keeps it
  // waiting on the unready Deployment of the first.
  const later = configMapYaml("after", { k: "v" }).replace("metadata:\n", "metadata:\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\n");
  const repo = await newApp("supersede", { "app/deploy.yaml": stuck, "app/later.yaml": later }, { syncPolicy: { automated: {} } });
  await waitForApp(kube, "supersede", "web", (s) => s.operationState?.phase === "Running" && /waiting/.test(s.operationState.message ?? ""), "stuck on health");
  const fix = await repo.commit({ "app/deploy.yaml": deploymentYaml("web") }, "fix readiness");
  await refreshApp(kube, "supersede", "web");
  await waitForApp(kube, "supersede", "web", phase("Succeeded", fix), "the newer commit synced", 60_000);
});

test("rollback to an earlier revision with a manual operation; history records both", async () => {
  const repo = await newApp("rollback", { "app/cm.yaml": configMapYaml("c", { v: "1" }) }, {});
  const first = await repo.head();
  await requestSync(kube, "rollback", "web");
  await waitForApp(kube, "rollback", "web", phase("Succeeded", first), "first manual sync");
  const second = await repo.commit({ "app/cm.yaml": configMapYaml("c", { v: "2" }) }, "v2");
  await refreshApp(kube, "rollback", "web");
  await requestSync(kube, "rollback", "web");
  await waitForApp(kube, "rollback", "web", phase("Succeeded", second), "second manual sync");
  await requestSync(kube, "rollback", "web", { revision: first });
  const rolled = await waitForApp(kube, "rollback", "web", phase("Succeeded", first), "rolled back");
  const cm = await kube.get("v1", "ConfigMap", "rollback", "c");
  assert.equal((cm?.data as Record<string, string>).v, "1");
  assert.deepEqual(rolled.history?.map((h) => h.revision), [first, second, first]);
  assert.equal(rolled.sync?.status, "OutOfSync", "the target revision still differs from what runs");
});

test("cascade deletion with the finalizer deletes what the app owns and nothing else; without it, objects stay", async () => {
  await newApp("cascade", { "app/cm.yaml": configMapYaml("owned", { k: "v" }), "app/keep.yaml": configMapYaml("kept", { k: "v" })
    .replace("metadata:\n", "metadata:\n  annotations:\n    argocd.argoproj.io/sync-options: Delete=false\n") }, { syncPolicy: { automated: {} } });
  await waitForApp(kube, "cascade", "web", phase("Succeeded"), "synced");
  await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bystander", namespace: "cascade" }, data: { k: "v" } });
  await kube.mergePatch("tack.dev/v1alpha1", "Application", "cascade", "web", { metadata: { finalizers: ["resources-finalizer.tack.dev"] } });
  await kube.delete("tack.dev/v1alpha1", "Application", "cascade", "web");
  await eventually(async () => !(await kube.app("cascade", "web")), { message: "the Application goes after its objects", timeoutMs: 30_000 });
  assert.equal(await kube.get("v1", "ConfigMap", "cascade", "owned"), undefined, "owned object deleted");
  assert.ok(await kube.get("v1", "ConfigMap", "cascade", "kept"), "Delete=false kept");
  assert.ok(await kube.get("v1", "ConfigMap", "cascade", "bystander"), "an object the app does not own is never deleted");

  await newApp("no-cascade", { "app/cm.yaml": configMapYaml("owned", { k: "v" }) }, { syncPolicy: { automated: {} } });
  await waitForApp(kube, "no-cascade", "web", phase("Succeeded"), "synced");
  await kube.delete("tack.dev/v1alpha1", "Application", "no-cascade", "web");
  await eventually(async () => !(await kube.app("no-cascade", "web")), { message: "deleted" });
  assert.ok(await kube.get("v1", "ConfigMap", "no-cascade", "owned"), "non-cascade deletion keeps the objects");
});

test("an object tracked by another app raises SharedResourceWarning and is not taken over, unless the operation asks", async () => {
  await newApp("shared", { "app/cm.yaml": configMapYaml("common", { owner: "first" }) }, { syncPolicy: { automated: {} } });
  await waitForApp(kube, "shared", "web", phase("Succeeded"), "first app synced");
  const repo = await git.createRepo("shared-second", { "app/cm.yaml": configMapYaml("common", { owner: "second" }) });
  await kube.apply(application("second", "shared", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "shared" },
  }));
  await requestSync(kube, "shared", "second");
  const warned = await waitForApp(kube, "shared", "second", (s) => s.conditions?.some((c) => c.type === "SharedResourceWarning") ?? false, "warning");
  assert.match(JSON.stringify(warned.conditions), /ConfigMap\/shared\/common is tracked by Application shared\/web/);
  let cm = await kube.get("v1", "ConfigMap", "shared", "common");
  assert.equal((cm?.data as Record<string, string>).owner, "first", "not taken over");
  await eventually(async () => {
    const app = (await kube.app("shared", "second")) as { operation?: unknown; status?: { operationState?: { phase?: string } } };
    return !app.operation && app.status?.operationState?.phase !== "Running";
  }, { message: "first operation finished" });
  await requestSync(kube, "shared", "second", { syncOptions: ["TakeOwnership=true"] });
  await eventually(async () => {
    cm = await kube.get("v1", "ConfigMap", "shared", "common");
    return (cm?.data as Record<string, string> | undefined)?.owner === "second";
  }, { message: "taken over when the operation asks" });
  assert.equal(cm!.metadata.annotations?.["tack.dev/tracking-id"], "shared_second:/ConfigMap:shared/common");
});

test("the prune guard stops a mass deletion; AllowMassPrune=true lets it through", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 6; i++) files[`app/cm-${i}.yaml`] = configMapYaml(`cm-${i}`, { i: String(i) });
  const repo = await newApp("guard", files, { syncPolicy: { automated: { prune: true }, retry: { limit: 0 } } });
  await waitForApp(kube, "guard", "web", phase("Succeeded"), "synced");
  const removal: Record<string, null> = {};
  for (let i = 1; i < 6; i++) removal[`app/cm-${i}.yaml`] = null;
  const sha = await repo.commit(removal, "remove most");
  await refreshApp(kube, "guard", "web");
  const stopped = await waitForApp(kube, "guard", "web", phase("Failed", sha), "prune guard");
  assert.match(stopped.operationState!.message!, /prune guard: this sync would delete 5 of the app's 6 objects \(83%/);
  assert.equal((await kube.list("v1", "ConfigMap", "guard")).filter((c) => c.metadata.name?.startsWith("cm-")).length, 6, "nothing deleted");
  await requestSync(kube, "guard", "web", { prune: true, syncOptions: ["AllowMassPrune=true"] });
  await waitForApp(kube, "guard", "web", (s) => s.operationState?.phase === "Succeeded" && s.operationState.syncResult?.revision === sha, "allowed");
  await eventually(async () => (await kube.list("v1", "ConfigMap", "guard")).filter((c) => c.metadata.name?.startsWith("cm-") && !c.metadata.deletionTimestamp).length === 1,
    { message: "mass prune allowed explicitly" });
});

test("ignoreDifferences keeps an HPA-managed replicas field from showing as drift; RespectIgnoreDifferences keeps it from being overwritten", async () => {
  const hpaScale = async (ns: string) => {
    // Another field manager (as an HPA does) takes spec.replicas.
    await kube.client.request({
      method: "PATCH", path: `/apis/apps/v1/namespaces/${ns}/deployments/web`, query: { fieldManager: "hpa-controller", force: true },
      contentType: "application/apply-patch+yaml", body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: ns }, spec: { replicas: 4 } },
    });
  };
  const ignore = [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }];
  for (const [ns, options] of [["ignore", []], ["respect", ["RespectIgnoreDifferences=true"]]] as const) {
    const repo = await newApp(ns, { "app/deploy.yaml": deploymentYaml("web", 1), "app/cm.yaml": configMapYaml("c", { v: "1" }) },
      { ignoreDifferences: ignore, syncPolicy: { automated: { selfHeal: true }, syncOptions: [...options] } });
    await waitForApp(kube, ns, "web", phase("Succeeded"), "synced", 60_000);
    await hpaScale(ns);
    // "No drift" is only news from a comparison that saw the scaled Deployment. The rollout to 4 available
    // replicas comes after the spec change on the same watch, so once it is done the controller's cache holds
    // the new spec; then one more reconcile, run to the end, is a comparison made with it.
    await eventually(async () => {
      const deploy = await kube.get("apps/v1", "Deployment", ns, "web");
      const status = deploy?.status as { availableReplicas?: number; observedGeneration?: number } | undefined;
      return status?.availableReplicas === 4 && status.observedGeneration === deploy?.metadata.generation;
    }, { message: `${ns}: the Deployment scaled to 4 by the other field manager` });
    tack.controller.queue.add(`${ns}/web`);
    await tack.controller.queue.settled([`${ns}/web`], 10_000);
    const status = await waitForApp(kube, ns, "web", (s) => s.sync?.status === "Synced", "no drift reported");
    assert.equal(status.resources?.find((r) => r.kind === "Deployment")?.status, "Synced");
    // A sync of another change re-applies the Deployment only with RespectIgnoreDifferences keeping replicas.
    const sha = await repo.commit({ "app/deploy.yaml": deploymentYaml("web", 1, "registry.invalid/web:2.0") }, "new image");
    await refreshApp(kube, ns, "web");
    await waitForApp(kube, ns, "web", phase("Succeeded", sha), "second sync", 60_000);
    const deploy = await kube.get("apps/v1", "Deployment", ns, "web");
    const replicas = (deploy?.spec as { replicas?: number }).replicas;
    if (ns === "respect") assert.equal(replicas, 4, "RespectIgnoreDifferences kept the HPA's replicas");
    else assert.equal(replicas, 1, "without RespectIgnoreDifferences, Git's replicas are applied");
  }
});
