// Tack run as its own service account with exactly the RBAC that deploy/ installs, built by the real kustomize:
// first the namespaced variant (deploy/namespaced: Roles only, confined to the namespaces its Deployment names),
// then the cluster-wide one (deploy/). The API server's audit log shows every request Tack made: none may be
// refused (the RBAC grants what Tack needs), and a confined Tack never lists or watches outside its namespaces.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadAll } from "js-yaml";
import type { KubeObject } from "../../src/api/index.ts";
import { readAuditEvents, startTestCluster, type AuditEvent, type TestCluster } from "../support/cluster.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, startTestTack, waitForApp, type TestTack } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";
import { ensureTools } from "../support/tools.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SERVICE_ACCOUNT = "system:serviceaccount:tack-system:tack-controller";
const RBAC_KINDS = new Set(["ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]);

let cluster: TestCluster;
let git: GitServer;
let kube: TestKube;
let tack: TestTack | undefined;
let scratch: string;

before(async () => {
  cluster = await startTestCluster();
  git = await startGitServer();
  kube = new TestKube(cluster.kubeconfigPath);
  scratch = await mkdtemp(join(tmpdir(), "tack-least-privilege-"));
  await kube.installCrds();
  for (const ns of ["tack-system", "team-a", "team-b"]) await kube.createNamespace(ns);
});

after(async () => {
  await tack?.stop();
  await git.stop();
  await cluster.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** `kustomize build` of a folder of deploy/, with the pinned binary the tests use. */
async function build(dir: string): Promise<KubeObject[]> {
  const { kustomize } = await ensureTools();
  const { stdout } = await promisify(execFile)(kustomize, ["build", join(ROOT, dir)], { maxBuffer: 16 * 1024 * 1024 });
  return (loadAll(stdout) as KubeObject[]).filter(Boolean);
}

/** A kubeconfig for the service account, with a token from the TokenRequest API (as a Pod would be given). */
async function serviceAccountKubeconfig(): Promise<string> {
  const issued = await kube.client.request<{ status: { token: string } }>({
    method: "POST", path: "/api/v1/namespaces/tack-system/serviceaccounts/tack-controller/token",
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  });
  const admin = JSON.parse(await readFile(cluster.kubeconfigPath, "utf8")) as { clusters: unknown[]; contexts: Array<{ context: { user: string } }> };
  const path = join(scratch, `sa-${Date.now()}.kubeconfig`);
  const user = admin.contexts[0]!.context.user;
  await writeFile(path, JSON.stringify({ ...admin, users: [{ name: user, user: { token: issued.status.token } }] }), { mode: 0o600 });
  return path;
}

/** The controller's settings as the Deployment of that variant sets them. */
function deploymentEnv(objects: KubeObject[]): Record<string, string> {
  const deployment = objects.find((o) => o.kind === "Deployment") as unknown as { spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } } };
  return Object.fromEntries((deployment.spec.template.spec.containers[0]!.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

async function auditOfTack(since: string): Promise<AuditEvent[]> {
  const events = await readAuditEvents(cluster.auditLogPath!);
  return events.filter((e) => e.user.username === SERVICE_ACCOUNT && (e as { requestReceivedTimestamp?: string }).requestReceivedTimestamp! >= since);
}

function describe(e: AuditEvent): string { return `${e.verb} ${e.requestURI} → ${e.responseStatus?.code}`; }

test("deploy/namespaced: Roles only; Tack syncs and prunes in its namespaces, refuses everything else before writing, and is never refused", async (t) => {
  if (!cluster.auditLogPath) { t.skip("needs the local control plane's audit log (TACK_TEST_KUBECONFIG is set)"); return; }
  const objects = await build("deploy/namespaced");
  assert.ok(!objects.some((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding"), "the namespaced variant grants nothing cluster-wide");
  for (const rbac of objects.filter((o) => RBAC_KINDS.has(o.kind))) await kube.apply(rbac);
  const env = deploymentEnv(objects);
  assert.equal(env.TACK_MANAGED_NAMESPACES, "team-a");
  const since = new Date().toISOString();
  tack = await startTestTack(await serviceAccountKubeconfig(), {
    "managed-namespaces": env.TACK_MANAGED_NAMESPACES!, "application-namespaces": env.TACK_APPLICATION_NAMESPACES!, "leader-elect": "true",
  });

  const repo = await git.createRepo("confined", {
    "team-a/config.yaml": configMapYaml("settings", { v: "1" }),
    "team-a/extra.yaml": configMapYaml("extra", { v: "1" }),
    "team-b/config.yaml": configMapYaml("settings", { v: "1" }),
    "cluster/config.yaml": configMapYaml("with-role", { v: "1" }),
    "cluster/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: team-a-reader\nrules: []\n",
  });
  const app = (name: string, path: string, namespace: string, syncOptions: string[] = []) => application(name, "tack-system", {
    source: { repoURL: repo.url, path, targetRevision: "HEAD" },
    destination: { server: "https://kubernetes.default.svc", namespace },
    syncPolicy: { automated: { prune: true }, syncOptions },
  });
  await kube.apply(app("team-a", "team-a", "team-a"));
  await kube.apply(app("team-b", "team-b", "team-b"));
  await kube.apply(app("cluster-scoped", "cluster", "team-a"));
  await kube.apply(app("create-namespace", "team-a", "team-c", ["CreateNamespace=true"]));

  const synced = await waitForApp(kube, "tack-system", "team-a", (s) => s.sync?.status === "Synced" && s.health?.status === "Healthy", "Synced in its namespace");
  assert.deepEqual(synced.resources?.map((r) => `${r.namespace}/${r.name}`).sort(), ["team-a/extra", "team-a/settings"]);
  await repo.commit({ "team-a/extra.yaml": null }, "drop extra");
  await kube.mergePatch("tack.dev/v1alpha1", "Application", "tack-system", "team-a", { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
  await waitForApp(kube, "tack-system", "team-a", (s) => s.sync?.status === "Synced" && s.resources?.length === 1, "pruned", 30_000);
  assert.equal(await kube.get("v1", "ConfigMap", "team-a", "extra"), undefined, "pruned with the namespaced Role");

  const refused = async (name: string, pattern: RegExp) => {
    const status = await waitForApp(kube, "tack-system", name, (s) => s.conditions?.some((c) => c.message?.includes("outside what Tack manages")) ?? false,
      "refused as outside the managed scope");
    const condition = status.conditions!.find((c) => c.type === "InvalidSpecError")!;
    assert.equal(condition.reason, "OutsideManagedScope");
    assert.match(condition.message!, pattern);
    assert.notEqual(status.sync?.status, "Synced");
  };
  await refused("team-b", /ConfigMap\/team-b\/settings is in namespace 'team-b', which is not managed here/);
  await refused("cluster-scoped", /ClusterRole\/team-a-reader is cluster-scoped/);
  await refused("create-namespace", /CreateNamespace=true writes a cluster-scoped Namespace/);
  // Nothing of a refused app is written, not even its objects that would have been in scope.
  assert.equal((await kube.list("v1", "ConfigMap", "team-b")).filter((c) => c.metadata.name === "settings").length, 0);
  assert.equal(await kube.get("v1", "ConfigMap", "team-a", "with-role"), undefined);
  assert.equal(await kube.get("v1", "Namespace", undefined, "team-c"), undefined);

  const requests = await auditOfTack(since);
  assert.ok(requests.length > 10, `Tack's requests are in the audit log (${requests.length})`);
  const refusedRequests = requests.filter((e) => e.responseStatus?.code === 403);
  assert.deepEqual(refusedRequests.map(describe), [], "every request Tack made was allowed by deploy/namespaced");
  const outside = requests.filter((e) => e.objectRef?.resource && (e.verb === "list" || e.verb === "watch") &&
    !["tack-system", "team-a"].includes(e.objectRef.namespace ?? ""));
  assert.deepEqual(outside.map(describe), [], "lists and watches stay inside tack-system and team-a");
  // A watch is logged as complete only when it ends; the list before it shows where live state is read.
  assert.ok(requests.some((e) => e.verb === "list" && e.objectRef?.resource === "configmaps" && e.objectRef.namespace === "team-a"),
    "live state listed in the managed namespace");
  assert.ok(!tack.logs.lines.some((l) => /forbidden/i.test(l)), "no forbidden in Tack's log");
  await tack.stop();
  tack = undefined;
});

test("deploy/: the cluster-wide RBAC lets Tack create the default project, a namespace, hooks and Events, take the Lease and prune, with no request refused", async (t) => {
  if (!cluster.auditLogPath) { t.skip("needs the local control plane's audit log (TACK_TEST_KUBECONFIG is set)"); return; }
  await tack?.stop();   // the namespaced one, had the test before failed before stopping it
  tack = undefined;
  for (const [kind, namespace, name] of [["Role", "tack-system", "tack-controller"], ["Role", "team-a", "tack-managed"]] as const) {
    await kube.delete("rbac.authorization.k8s.io/v1", kind, namespace, name);
  }
  const objects = await build("deploy");
  for (const rbac of objects.filter((o) => RBAC_KINDS.has(o.kind))) await kube.apply(rbac);
  const env = deploymentEnv(objects);
  assert.equal(env.TACK_MANAGED_NAMESPACES, undefined, "the cluster-wide variant is not confined");
  await kube.delete("tack.dev/v1alpha1", "AppProject", "tack-system", "default");
  const since = new Date().toISOString();
  tack = await startTestTack(await serviceAccountKubeconfig(), { "leader-elect": "true" });

  const hook = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n" +
    "    argocd.argoproj.io/hook-delete-policy: HookSucceeded\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n" +
    "      containers: [{name: main, image: registry.invalid/migrate:1}]\n";
  const repo = await git.createRepo("cluster-wide", {
    "app/config.yaml": configMapYaml("settings", { v: "1" }),
    "app/extra.yaml": configMapYaml("extra", { v: "1" }),
    "app/migrate.yaml": hook,
  });
  await kube.apply(application("wide", "tack-system", {
    source: { repoURL: repo.url, path: "app", targetRevision: "HEAD" },
    destination: { server: "https://kubernetes.default.svc", namespace: "team-d" },
    syncPolicy: { automated: { prune: true }, syncOptions: ["CreateNamespace=true"] },
  }));
  const synced = await waitForApp(kube, "tack-system", "wide", (s) => s.sync?.status === "Synced" && s.operationState?.phase === "Succeeded",
    "Synced with its PreSync hook", 60_000);
  assert.ok(synced.operationState!.syncResult!.resources!.some((r) => r.hookName === "migrate" && r.hookPhase === "Succeeded"));
  assert.ok(await kube.get("tack.dev/v1alpha1", "AppProject", "tack-system", "default"), "the default project created by Tack");
  await repo.commit({ "app/extra.yaml": null }, "drop extra");
  await kube.mergePatch("tack.dev/v1alpha1", "Application", "tack-system", "wide", { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
  await waitForApp(kube, "tack-system", "wide", (s) => s.sync?.status === "Synced" && s.resources?.length === 1, "pruned", 30_000);

  const requests = await auditOfTack(since);
  assert.deepEqual(requests.filter((e) => e.responseStatus?.code === 403).map(describe), [], "every request Tack made was allowed by deploy/");
  // The Lease was made by the namespaced Tack before: this one takes it over with an update.
  for (const [verb, resource] of [["update", "leases"], ["create", "events"], ["create", "appprojects"], ["patch", "namespaces"], ["delete", "configmaps"]]) {
    assert.ok(requests.some((e) => e.verb === verb && e.objectRef?.resource === resource), `Tack did ${verb} ${resource}`);
  }
  assert.ok(!tack.logs.lines.some((l) => /forbidden/i.test(l)), "no forbidden in Tack's log");
});
