// Tack recovers by itself when the API server restarts (issue 12, item 2). A restarted kube-apiserver answers
// the old watch positions with 410 Gone; Tack must list again rather than resume, serve no stale state, and
// reconcile everything that failed while the server was away, all without a restart of its own. The retry
// settings are Tack's defaults (1 s doubling to 300 s), as in a real installation.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../src/api/index.ts";
import { readAuditEvents } from "../support/cluster.ts";
import type { ControlPlane } from "../support/control-plane.ts";
import { configMapYaml, slowDeploymentYaml, waveConfigMapYaml } from "../support/manifests.ts";
import { application, appStatus, eventually, requestSync, startEnvironment, waitForApp, type AppStatusView, type Environment } from "../support/kube.ts";

/** How soon after the server is back everything must be as before (the expectation). */
const RECOVERY_MS = 30_000;

const env: Environment = await startEnvironment({ "retry-base-seconds": 1, "retry-max-seconds": 300 });
const controlPlane: ControlPlane | undefined = env.cluster.controlPlane;
const skip = controlPlane ? false : "restarts the local control plane's apiserver";

/** Deletes by anyone but the test itself in the namespace: a recovery must never delete what it manages. */
async function deletesIn(namespace: string): Promise<string[]> {
  const events = await readAuditEvents(env.cluster.auditLogPath!);
  return events.filter((e) => e.verb === "delete" || e.verb === "deletecollection")
    .filter((e) => e.objectRef?.namespace === namespace && !e.userAgent?.startsWith("tack-test"))
    .map((e) => `${e.user.username} ${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`);
}

test("a 3-wave sync interrupted by an apiserver restart finishes, without deleting anything", { skip, timeout: 240_000 }, async (t) => {
  const namespace = "restart-waves";
  await env.kube.createNamespace(namespace);
  const repo = await env.git.createRepo("restart-waves", {
    "app/wave0.yaml": waveConfigMapYaml("first", 0),
    "app/wave1.yaml": slowDeploymentYaml("middle", 1, "6s"),
    "app/wave2.yaml": waveConfigMapYaml("last", 2),
  });
  await env.kube.apply(application("waves", "tack-system", {
    project: "default", source: { repoURL: repo.url, path: "app", targetRevision: "main" },
    destination: { server: "https://kubernetes.default.svc", namespace },
  }));
  await waitForApp(env.kube, "tack-system", "waves", (s) => s.sync?.status === "OutOfSync", "compared, not synced");
  await requestSync(env.kube, "tack-system", "waves");
  // Mid-way: wave 1's Deployment applied and rolling out, wave 2 not yet written.
  await eventually(async () => await env.kube.get("apps/v1", "Deployment", namespace, "middle"), { message: "wave 1 applied" });
  assert.equal(await env.kube.get("v1", "ConfigMap", namespace, "last"), undefined, "wave 2 waits for wave 1");
  assert.equal((await appStatus(env.kube, "tack-system", "waves"))?.operationState?.phase, "Running");

  const logsBefore = env.tack.logs.lines.length;
  const { readyAt } = await controlPlane!.restartApiServer({ downMs: 5_000 });
  const status = await waitForApp(env.kube, "tack-system", "waves", (s) => s.operationState?.phase !== "Running" && s.sync?.status === "Synced",
    "sync finished after the restart", RECOVERY_MS);
  t.diagnostic(`sync finished ${((Date.now() - readyAt) / 1000).toFixed(1)} s after the apiserver was ready again (upper bound: polled)`);
  assert.equal(status.operationState?.phase, "Succeeded", status.operationState?.message);
  for (const name of ["first", "last"]) assert.ok(await env.kube.get("v1", "ConfigMap", namespace, name), `ConfigMap ${name} applied`);
  assert.ok(await env.kube.get("apps/v1", "Deployment", namespace, "middle"));
  assert.deepEqual(await deletesIn(namespace), [], "nothing deleted in the app's namespace");
  assert.ok(env.tack.logs.lines.slice(logsBefore).some((l) => l.includes("watch failed")), "Tack saw the outage (same process, no restart)");
});

test("300 synced apps are all Synced again, and their drift healed, within 30 s of the apiserver's return", { skip, timeout: 600_000 }, async (t) => {
  const namespace = "restart-many";
  const count = 300;
  await env.kube.createNamespace(namespace);
  const id = (i: number) => `app-${String(i).padStart(3, "0")}`;
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`apps/${id(i)}/config.yaml`] = configMapYaml(`cm-${id(i)}`, { value: id(i) });
  const repo = await env.git.createRepo("restart-many", files);
  for (let i = 0; i < count; i++) {
    await env.kube.apply(application(id(i), "tack-system", {
      project: "default", source: { repoURL: repo.url, path: `apps/${id(i)}`, targetRevision: "main" },
      destination: { server: "https://kubernetes.default.svc", namespace },
      syncPolicy: { automated: { selfHeal: true } },
    }));
  }
  const allSynced = async (): Promise<{ done: boolean; notYet: string[] }> => {
    const list = await env.kube.list("tack.dev/v1alpha1", "Application", "tack-system");
    const notYet = list.filter((a) => a.metadata.name!.startsWith("app-")).filter((a) => !settled(a)).map((a) => a.metadata.name!);
    return { done: notYet.length === 0 && list.filter((a) => a.metadata.name!.startsWith("app-")).length === count, notYet };
  };
  await eventually(async () => (await allSynced()).done, { message: `${count} apps Synced before the restart`, timeoutMs: 300_000, intervalMs: 1_000 });

  const { downAt, readyAt } = await controlPlane!.restartApiServer({ downMs: 10_000 });
  t.diagnostic(`apiserver down ${((readyAt - downAt) / 1000).toFixed(1)} s`);
  // Drift made once the server is back: only a Tack whose watches work again sees it and heals it. Tack's own
  // statuses from before the outage would otherwise still read Synced.
  await inBatches(count, 20, (i) => env.kube.mergePatch("v1", "ConfigMap", namespace, `cm-${id(i)}`, { data: { value: "drifted" } }));
  const healed = async () => {
    const maps = await env.kube.list("v1", "ConfigMap", namespace);
    return maps.filter((m) => m.metadata.name!.startsWith("cm-app-") && (m.data as Record<string, string>).value === m.metadata.name!.slice(3)).length;
  };
  let last = { done: false, notYet: [] as string[] };
  let healedCount = 0;
  await eventually(async () => {
    [last, healedCount] = await Promise.all([allSynced(), healed()]);
    return last.done && healedCount === count;
  }, { message: `all ${count} apps Synced and healed within ${RECOVERY_MS / 1000} s of the return`, timeoutMs: Math.max(1_000, readyAt + RECOVERY_MS - Date.now()), intervalMs: 1_000 })
    .catch((err: Error) => { throw new Error(`${err.message}; ${healedCount}/${count} healed; not yet: ${last.notYet.slice(0, 10).join(", ")} (${last.notYet.length})`); });
  t.diagnostic(`${count}/${count} Synced and healed ${((Date.now() - readyAt) / 1000).toFixed(1)} s after the return (polled every 1 s)`);
  assert.deepEqual(await deletesIn(namespace), [], "nothing deleted in the apps' namespace");
});

/** Synced, Healthy, and no error condition left (the unreachable one from the outage included). */
function settled(app: KubeObject): boolean {
  const status = app.status as AppStatusView | undefined;
  return status?.sync?.status === "Synced" && status.health?.status === "Healthy" &&
    !(status.conditions ?? []).some((c) => c.type.endsWith("Error") && c.status === "True");
}

async function inBatches(count: number, size: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += size) {
    await Promise.all(Array.from({ length: Math.min(size, count - start) }, (_, k) => fn(start + k)));
  }
}
