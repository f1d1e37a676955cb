// Sync options, app-wide and per object: each one changes behaviour as Argo CD users expect (one test each).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readAuditEvents } from "../support/cluster.ts";
import { type TestRepo } from "../support/git-server.ts";
import { application, eventually, refreshApp, requestSync, waitForApp, startEnvironment } from "../support/kube.ts";
import { configMapYaml, deploymentYaml } from "../support/manifests.ts";

const { cluster, git, kube, tack } = await startEnvironment();

function withAnnotations(yaml: string, annotations: Record<string, string>): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"`).join("\n");
  return yaml.replace(/^metadata:\n/m, `metadata:\n  annotations:\n${lines}\n`);
}

async function createApp(name: string, files: Record<string, string>, syncPolicy: Record<string, unknown>, namespace = name): Promise<TestRepo> {
  const repo = await git.createRepo(name, files);
  if (!JSON.stringify(syncPolicy).includes("CreateNamespace=true")) await kube.createNamespace(namespace);
  await kube.apply(application(name, "tack-system", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace },
    syncPolicy,
  }));
  return repo;
}

async function commitAndRefresh(repo: TestRepo, name: string, files: Record<string, string | null>): Promise<string> {
  const sha = await repo.commit(files, "change");
  await refreshApp(kube, "tack-system", name);
  return sha;
}

const succeededAt = (sha?: string) => (s: { operationState?: { phase?: string; syncResult?: { revision?: string } } }) =>
  s.operationState?.phase === "Succeeded" && (!sha || s.operationState.syncResult?.revision === sha);


test("CreateNamespace=true creates the destination namespace with managedNamespaceMetadata", async () => {
  await createApp("create-ns", { "app/cm.yaml": configMapYaml("a", { k: "v" }) },
    { automated: {}, syncOptions: ["CreateNamespace=true"], managedNamespaceMetadata: { labels: { team: "blue" }, annotations: { owner: "ops" } } });
  await waitForApp(kube, "tack-system", "create-ns", succeededAt(), "synced");
  const ns = await kube.get("v1", "Namespace", undefined, "create-ns");
  assert.equal(ns?.metadata.labels?.team, "blue");
  assert.equal(ns?.metadata.annotations?.owner, "ops");
  assert.ok(await kube.get("v1", "ConfigMap", "create-ns", "a"));
});

test("Prune=false on an object keeps it when it leaves Git; PruneLast prunes after the other waves", async () => {
  const repo = await createApp("prune-opts", {
    "app/keep.yaml": withAnnotations(configMapYaml("keep", { k: "v" }), { "argocd.argoproj.io/sync-options": "Prune=false" }),
    "app/gone.yaml": configMapYaml("gone", { k: "v" }),
    "app/stay.yaml": configMapYaml("stay", { k: "v" }),
  }, { automated: { prune: true }, syncOptions: ["PruneLast=true"] });
  await waitForApp(kube, "tack-system", "prune-opts", succeededAt(), "synced");
  const sha = await commitAndRefresh(repo, "prune-opts", { "app/keep.yaml": null, "app/gone.yaml": null, "app/stay.yaml": configMapYaml("stay", { k: "v2" }) });
  const status = await waitForApp(kube, "tack-system", "prune-opts", succeededAt(sha), "second sync");
  const results = status.operationState!.syncResult!.resources!;
  assert.equal(results.find((r) => r.name === "keep")?.status, "PruneSkipped");
  assert.equal(results.find((r) => r.name === "gone")?.status, "Pruned");
  // PruneLast: the prune comes after the apply of the remaining objects.
  assert.ok(results.findIndex((r) => r.name === "gone") > results.findIndex((r) => r.name === "stay"));
  assert.ok(await kube.get("v1", "ConfigMap", "prune-opts", "keep"), "Prune=false kept it");
  await eventually(async () => !(await kube.get("v1", "ConfigMap", "prune-opts", "gone")), { message: "gone pruned" });
});

test("Replace=true replaces the object instead of applying it", async () => {
  const repo = await createApp("replace", {
    "app/cm.yaml": withAnnotations(configMapYaml("replaced", { k: "v1" }), { "argocd.argoproj.io/sync-options": "Replace=true" }),
  }, { automated: {} });
  await waitForApp(kube, "tack-system", "replace", succeededAt(), "synced");
  const sha = await commitAndRefresh(repo, "replace", { "app/cm.yaml": withAnnotations(configMapYaml("replaced", { k: "v2" }), { "argocd.argoproj.io/sync-options": "Replace=true" }) });
  await waitForApp(kube, "tack-system", "replace", succeededAt(sha), "second sync");
  const events = await readAuditEvents(cluster.auditLogPath!);
  assert.ok(events.some((e) => e.userAgent?.startsWith("tack-controller") && e.verb === "update" && e.objectRef?.name === "replaced"), "written with PUT (update)");
  const cm = await kube.get("v1", "ConfigMap", "replace", "replaced");
  assert.equal((cm?.data as Record<string, string>).k, "v2");
});

test("ServerSideApply=false writes with a merge patch instead of server-side apply", async () => {
  await createApp("csa", { "app/cm.yaml": configMapYaml("merged", { k: "v" }) }, { automated: {}, syncOptions: ["ServerSideApply=false"] });
  await waitForApp(kube, "tack-system", "csa", succeededAt(), "synced");
  const cm = await kube.get("v1", "ConfigMap", "csa", "merged");
  const managers = (cm?.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
  assert.ok(managers.includes("tack-controller/Update"), managers.join(", "));
  assert.ok(!managers.includes("tack-controller/Apply"), managers.join(", "));
});

test("ApplyOutOfSyncOnly=false writes every object; the default writes only what drifted", async () => {
  for (const [name, options] of [["all-objects", ["ApplyOutOfSyncOnly=false"]], ["only-drifted", []]] as const) {
    const repo = await createApp(name, { "app/a.yaml": configMapYaml("a", { k: "1" }), "app/b.yaml": configMapYaml("b", { k: "1" }) },
      { automated: {}, syncOptions: [...options] });
    await waitForApp(kube, "tack-system", name, succeededAt(), "synced");
    const sha = await commitAndRefresh(repo, name, { "app/a.yaml": configMapYaml("a", { k: "2" }) });
    const status = await waitForApp(kube, "tack-system", name, succeededAt(sha), "second sync");
    const written = status.operationState!.syncResult!.resources!.filter((r) => r.status === "Synced").map((r) => r.name).sort();
    assert.deepEqual(written, name === "all-objects" ? ["a", "b"] : ["a"], name);
  }
});

test("Validate=false lets the server ignore unknown fields; by default they are refused", async () => {
  const bad = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\nnotAField: 1\ndata:\n  k: v\n`;
  await createApp("strict", { "app/cm.yaml": bad }, { automated: {}, retry: { limit: 0 } });
  const refused = await waitForApp(kube, "tack-system", "strict", (s) => s.operationState?.phase === "Failed" || /notAField/.test(JSON.stringify(s.resources ?? [])), "refused");
  assert.match(JSON.stringify(refused), /notAField/);
  await createApp("lenient", { "app/cm.yaml": bad }, { automated: {}, syncOptions: ["Validate=false"] });
  await waitForApp(kube, "tack-system", "lenient", succeededAt(), "applied without validation").catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify((await kube.app("tack-system", "lenient"))?.status)}`);
  });
  assert.ok(await kube.get("v1", "ConfigMap", "lenient", "typo"));
});

test("PrunePropagationPolicy=orphan leaves the pruned Deployment's ReplicaSets behind", async () => {
  const repo = await createApp("orphan", { "app/deploy.yaml": deploymentYaml("web"), "app/cm.yaml": configMapYaml("c", { k: "v" }) },
    { automated: { prune: true }, syncOptions: ["PrunePropagationPolicy=orphan"] });
  await waitForApp(kube, "tack-system", "orphan", succeededAt(), "synced", 60_000);
  const deploymentUid = (await kube.get("apps/v1", "Deployment", "orphan", "web"))?.metadata.uid;
  assert.ok(deploymentUid);
  type OwnedBy = { metadata: { name?: string; ownerReferences?: Array<{ uid: string }> } };
  const ownedByDeployment = (rs: OwnedBy) => (rs.metadata.ownerReferences ?? []).some((o) => o.uid === deploymentUid);
  const created = await eventually(async () => {
    const owned = ((await kube.list("apps/v1", "ReplicaSet", "orphan")) as OwnedBy[]).filter(ownedByDeployment);
    return owned.length > 0 ? owned.map((rs) => rs.metadata.name) : undefined;
  }, { message: "a ReplicaSet owned by the Deployment" });
  const sha = await commitAndRefresh(repo, "orphan", { "app/deploy.yaml": null });
  await waitForApp(kube, "tack-system", "orphan", succeededAt(sha), "pruned");
  // With orphan the garbage collector strips the owner reference before the Deployment goes, and the
  // ReplicaSets stay; with background (the default) it deletes them instead. Either way the collector acts on
  // its own time, so wait for the one outcome that only orphan produces rather than sleeping.
  await eventually(async () => {
    if (await kube.get("apps/v1", "Deployment", "orphan", "web")) return false;
    const left = (await kube.list("apps/v1", "ReplicaSet", "orphan")) as OwnedBy[];
    return created.every((name) => left.some((rs) => rs.metadata.name === name && !ownedByDeployment(rs)));
  }, { message: "Deployment deleted, its ReplicaSets kept and released from their owner" });
});

test("FailOnSharedResource=true fails the sync when an object is tracked by another Application", async () => {
  await createApp("owner-app", { "app/shared.yaml": configMapYaml("shared", { k: "owner" }) }, { automated: {} }, "shared-ns");
  await waitForApp(kube, "tack-system", "owner-app", succeededAt(), "owner synced");
  const repo = await git.createRepo("intruder-app", { "app/shared.yaml": configMapYaml("shared", { k: "intruder" }) });
  await kube.apply(application("intruder-app", "tack-system", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "shared-ns" },
    syncPolicy: { automated: {}, syncOptions: ["FailOnSharedResource=true"], retry: { limit: 0 } },
  }));
  const status = await waitForApp(kube, "tack-system", "intruder-app", (s) => s.operationState?.phase === "Failed", "failed");
  assert.match(status.operationState!.message!, /FailOnSharedResource=true: ConfigMap\/shared-ns\/shared \(tracked by Application tack-system\/owner-app\)/);
  const cm = await kube.get("v1", "ConfigMap", "shared-ns", "shared");
  assert.equal((cm?.data as Record<string, string>).k, "owner");
});

test("SkipDryRunOnMissingResource=true waits for a missing CRD instead of failing the comparison", async () => {
  const widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 1\n";
  await createApp("no-crd", { "app/widget.yaml": widget, "app/cm.yaml": configMapYaml("c", { k: "v" }) }, { automated: {} });
  const failing = await waitForApp(kube, "tack-system", "no-crd", (s) => s.conditions?.some((c) => c.reason === "UnknownResourceType") ?? false, "unknown kind reported");
  assert.match(JSON.stringify(failing.conditions), /kind Widget/);
  await createApp("skip-crd", { "app/widget.yaml": widget, "app/cm.yaml": configMapYaml("c", { k: "v" }) },
    { automated: {}, syncOptions: ["SkipDryRunOnMissingResource=true"] });
  await waitForApp(kube, "tack-system", "skip-crd", succeededAt(), "synced what it can");
  assert.ok(await kube.get("v1", "ConfigMap", "skip-crd", "c"));

  // The CRD arrives later, with no new commit and no refresh: the left-out object is looked for again and found
  // (OutOfSync: automated sync without selfHeal does not sync the same revision twice, as in Argo CD), and a
  // sync applies it.
  await kube.apply({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "widgets.example.com" },
    spec: { group: "example.com", scope: "Namespaced", names: { plural: "widgets", singular: "widget", kind: "Widget" },
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }] } } as never);
  await waitForApp(kube, "tack-system", "skip-crd", (s) => s.sync?.status === "OutOfSync" &&
    (s.resources ?? []).some((r) => r.kind === "Widget" && r.status === "OutOfSync"), "the Widget found once its CRD is served", 45_000);
  await requestSync(kube, "tack-system", "skip-crd");
  await waitForApp(kube, "tack-system", "skip-crd", (s) => s.sync?.status === "Synced" && (s.resources ?? []).some((r) => r.kind === "Widget"),
    "Synced with the Widget among its resources");
  assert.ok(await kube.client.request({ method: "GET", path: "/apis/example.com/v1/namespaces/skip-crd/widgets/w" }), "the Widget applied");
});
