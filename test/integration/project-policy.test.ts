// AppProject policy, enforced before any write: each rule allows what it lists and refuses the rest, and a
// refused sync writes nothing. Sync windows hold automated syncs and, without manualSync, manual ones.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readAuditEvents } from "../support/cluster.ts";
import { application, eventually, requestSync, waitForApp, startEnvironment } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

const { cluster, git, kube, tack } = await startEnvironment();

const clusterRole = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: NAME\nrules: []\n";

async function project(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await kube.apply({ apiVersion: "tack.dev/v1alpha1", kind: "AppProject", metadata: { name, namespace }, spec });
}

async function tackWritesIn(namespace: string): Promise<string[]> {
  const events = await readAuditEvents(cluster.auditLogPath!);
  return events.filter((e) => e.userAgent?.startsWith("tack-controller") && ["create", "patch", "update", "delete"].includes(e.verb) &&
    e.objectRef?.namespace === namespace && e.objectRef.resource !== "events" && e.objectRef.resource !== "applications" &&
    e.objectRef.resource !== "appprojects" && !e.requestURI.includes("dryRun")).map((e) => `${e.verb} ${e.requestURI}`);
}

/** An app in its own namespace under `projectName`; returns once the controller has judged it. */
async function appUnder(ns: string, projectName: string, files: Record<string, string>, dest: Record<string, string> = {}) {
  await kube.createNamespace(ns);
  const repo = await git.createRepo(`${ns}-repo`, files);
  await kube.apply(application("web", ns, {
    project: projectName,
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: ns, ...dest },
    syncPolicy: { automated: { prune: true } },
  }));
  return repo;
}

const refused = (s: { conditions?: Array<{ reason?: string }> }) => s.conditions?.some((c) => c.reason === "ProjectPolicyViolation") ?? false;
const synced = (s: { operationState?: { phase?: string } }) => s.operationState?.phase === "Succeeded";

describe("project rules: allowed vs refused, and a refused sync writes nothing", () => {
  test("the default project is created when missing and allows everything", async () => {
    await appUnder("p-default", "", { "app/cm.yaml": configMapYaml("c", { k: "v" }), "app/role.yaml": clusterRole.replace("NAME", "p-default-role") });
    await waitForApp(kube, "p-default", "web", synced, "synced under the default project");
    const created = await kube.get("tack.dev/v1alpha1", "AppProject", "p-default", "default");
    assert.deepEqual((created?.spec as { sourceRepos?: string[] }).sourceRepos, ["*"]);
  });

  test("sourceRepos with negation", async () => {
    await kube.createNamespace("p-src");
    await project("p-src", "team", { sourceRepos: ["!http://127.0.0.1:*/p-src-denied-repo.git", "*"], destinations: [{ server: "*", namespace: "*" }] });
    await kube.createNamespace("p-src-denied");
    await project("p-src-denied", "team", { sourceRepos: ["!http://127.0.0.1:*/p-src-denied-repo.git", "*"], destinations: [{ server: "*", namespace: "*" }] });
    await appUnder("p-src", "team", { "app/cm.yaml": configMapYaml("c", { k: "v" }) });
    await waitForApp(kube, "p-src", "web", synced, "allowed repo synced");
    await appUnder("p-src-denied", "team", { "app/cm.yaml": configMapYaml("c", { k: "v" }) });
    const status = await waitForApp(kube, "p-src-denied", "web", refused, "refused repo");
    assert.match(JSON.stringify(status.conditions), /sourceRepos/);
    assert.deepEqual(await tackWritesIn("p-src-denied"), []);
  });

  test("destinations", async () => {
    await kube.createNamespace("p-dest");
    await project("p-dest", "team", { sourceRepos: ["*"], destinations: [{ server: "https://kubernetes.default.svc", namespace: "p-dest-ok" }] });
    await kube.createNamespace("p-dest-ok");
    const repo = await git.createRepo("p-dest-repo", { "app/cm.yaml": configMapYaml("c", { k: "v" }) });
    for (const [name, namespace] of [["ok", "p-dest-ok"], ["bad", "p-dest"]] as const) {
      await kube.apply(application(name, "p-dest", {
        project: "team", source: { repoURL: repo.url, path: "app" },
        destination: { server: "https://kubernetes.default.svc", namespace }, syncPolicy: { automated: {} },
      }));
    }
    await waitForApp(kube, "p-dest", "ok", synced, "allowed destination synced");
    const status = await waitForApp(kube, "p-dest", "bad", refused, "refused destination");
    assert.match(JSON.stringify(status.conditions), /destination/);
    assert.equal(await kube.get("v1", "ConfigMap", "p-dest", "c"), undefined, "nothing written to the refused destination");
  });

  test("cluster-scoped kinds need clusterResourceWhitelist; namespaceResourceBlacklist refuses a kind", async () => {
    await kube.createNamespace("p-kinds");
    await project("p-kinds", "narrow", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], namespaceResourceBlacklist: [{ group: "", kind: "Secret" }] });
    await kube.createNamespace("p-kinds-2");
    await project("p-kinds-2", "narrow", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], namespaceResourceBlacklist: [{ group: "", kind: "Secret" }] });
    await appUnder("p-kinds", "narrow", { "app/cm.yaml": configMapYaml("c", { k: "v" }), "app/role.yaml": clusterRole.replace("NAME", "p-kinds-role") });
    const clusterScoped = await waitForApp(kube, "p-kinds", "web", refused, "cluster-scoped kind refused");
    assert.match(JSON.stringify(clusterScoped.conditions), /ClusterRole\/p-kinds-role.*clusterResourceWhitelist/);
    const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: v\n";
    await appUnder("p-kinds-2", "narrow", { "app/cm.yaml": configMapYaml("c", { k: "v" }), "app/secret.yaml": secret });
    const blacklisted = await waitForApp(kube, "p-kinds-2", "web", refused, "blacklisted kind refused");
    assert.match(JSON.stringify(blacklisted.conditions), /Secret\/p-kinds-2\/s.*namespaceResourceBlacklist/);
    assert.deepEqual(await tackWritesIn("p-kinds"), []);
    assert.deepEqual(await tackWritesIn("p-kinds-2"), [], "not even the allowed ConfigMap is written");
    assert.equal(await kube.get("rbac.authorization.k8s.io/v1", "ClusterRole", undefined, "p-kinds-role"), undefined);
  });

  test("a missing project is an InvalidSpecError naming it", async () => {
    await appUnder("p-missing", "nope", { "app/cm.yaml": configMapYaml("c", { k: "v" }) });
    const status = await waitForApp(kube, "p-missing", "web", (s) => s.conditions?.some((c) => c.reason === "ProjectNotFound") ?? false, "missing project");
    assert.match(JSON.stringify(status.conditions), /AppProject 'nope' not found in namespace 'p-missing'/);
  });
});

describe("sync windows", () => {
  test("a deny window blocks automated syncs, and manual ones unless manualSync", async () => {
    // As in Argo CD, a window applies only to the applications, namespaces or clusters it lists.
    const always = { kind: "deny", schedule: "* * * * *", duration: "1h", applications: ["*"] };
    await kube.createNamespace("w-deny");
    await project("w-deny", "frozen", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], syncWindows: [always] });
    await kube.createNamespace("w-manual");
    await project("w-manual", "frozen", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], syncWindows: [{ ...always, manualSync: true }] });

    await appUnder("w-deny", "frozen", { "app/cm.yaml": configMapYaml("c", { k: "v" }) });
    await waitForApp(kube, "w-deny", "web", (s) => s.sync?.status === "OutOfSync", "compared but not synced").catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify((await kube.app("w-deny", "web"))?.status)}`);
    });
    // The controller records that it held the automated sync (Event SyncWindowClosed) once it has decided:
    // from then on "not applied" is a decision, not a sync that has not happened yet.
    await eventually(async () => (await kube.list("v1", "Event", "w-deny")).some((e) =>
      e.reason === "SyncWindowClosed" && (e.involvedObject as { name?: string } | undefined)?.name === "web"),
    { message: "w-deny/web: Event SyncWindowClosed" });
    assert.equal(await kube.get("v1", "ConfigMap", "w-deny", "c"), undefined, "automated sync held");
    await requestSync(kube, "w-deny", "web");
    const manualRefused = await waitForApp(kube, "w-deny", "web", (s) => s.operationState?.phase === "Failed", "manual sync refused");
    assert.match(manualRefused.operationState!.message!, /deny/);
    assert.equal(await kube.get("v1", "ConfigMap", "w-deny", "c"), undefined, "manual sync held too");

    await appUnder("w-manual", "frozen", { "app/cm.yaml": configMapYaml("c", { k: "v" }) });
    await waitForApp(kube, "w-manual", "web", (s) => s.sync?.status === "OutOfSync", "compared");
    await requestSync(kube, "w-manual", "web");
    await waitForApp(kube, "w-manual", "web", synced, "manual sync let through by manualSync");
    assert.ok(await kube.get("v1", "ConfigMap", "w-manual", "c"));
  });
});
