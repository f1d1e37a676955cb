// Operations a user asks for and the retry policy of automated ones (issue 12, items 6 and 7):
// - a manual sync right after a push deploys the pushed commit (never the revision cache's or the app's memory
//   of the last poll), whether asked by `tack app sync`, `--revision BRANCH` or a kubectl patch of `operation`,
//   and the CLI names the commit;
// - a failed automated sync is attempted once per revision without spec.syncPolicy.retry (its PreSync hook runs
//   once), and limit+1 times with it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runAppCommand } from "../../src/cli/app/index.ts";
import { readAuditEvents } from "../support/cluster.ts";
import { simulatedPod } from "../support/control-plane.ts";
import { application, appStatus, eventually, refreshApp, requestSync, startEnvironment, waitForApp } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

// A short poll, so that "the controller polled again after the failure" is an event the test can wait for; the
// manual syncs below follow their push by well under the app's remembered revision (0.8 × 8 s) and the revision
// cache (4 s, half the poll).
const { cluster, git, kube } = await startEnvironment({ "resync-seconds": 8, "resync-jitter": 0 });

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAppCommand(args, {
    env: { KUBECONFIG: cluster.kubeconfigPath }, stdout: (s) => { out.push(s); }, stderr: (s) => { err.push(s); }, stdoutIsTTY: false, pollIntervalMs: 100,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const greeting = async (ns: string) => ((await kube.get("v1", "ConfigMap", ns, "settings"))?.data as Record<string, string> | undefined)?.greeting;

/** Asks the controller to list the refs now and waits until it has: its caches are as fresh as they get. */
async function freshlyResolved(ns: string): Promise<void> {
  const r = await cli(["refresh", "web", "-n", ns, "--timeout", "30"]);
  assert.equal(r.code, 0, r.stderr);
}

test("a manual sync right after a push deploys the pushed commit and names it", async () => {
  const ns = "manual-now";
  const repo = await git.createRepo(ns, { "app/config.yaml": configMapYaml("settings", { greeting: "v1" }) });
  await kube.createNamespace(ns);
  await kube.apply(application("web", ns, {
    source: { repoURL: repo.url, path: "app", targetRevision: "main" },
    destination: { server: "https://kubernetes.default.svc", namespace: ns },
  }));
  const first = await cli(["sync", "web", "-n", ns, "--timeout", "60"]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.equal(await greeting(ns), "v1");

  // tack app sync, following targetRevision.
  await freshlyResolved(ns);
  const v2 = await repo.commit({ "app/config.yaml": configMapYaml("settings", { greeting: "v2" }) }, "v2");
  const synced = await cli(["sync", "web", "-n", ns, "--timeout", "60"]);
  assert.equal(synced.code, 0, synced.stderr + synced.stdout);
  assert.equal((await appStatus(kube, ns, "web"))?.operationState?.syncResult?.revision, v2, "the pushed commit, not the last poll's");
  assert.equal(await greeting(ns), "v2");
  assert.match(synced.stdout, new RegExp(`Operation Succeeded at ${v2}: `), "the CLI names the commit it synced");

  // A kubectl patch of `operation`, as Argo CD users do.
  await freshlyResolved(ns);
  const v3 = await repo.commit({ "app/config.yaml": configMapYaml("settings", { greeting: "v3" }) }, "v3");
  const before = (await appStatus(kube, ns, "web"))?.operationState?.startedAt;
  await requestSync(kube, ns, "web");
  const patched = await waitForApp(kube, ns, "web", (s) => s.operationState?.startedAt !== before && ["Succeeded", "Failed", "Error"].includes(s.operationState?.phase ?? ""),
    "the patched operation finished", 60_000);
  assert.equal(patched.operationState?.syncResult?.revision, v3);
  assert.equal(await greeting(ns), "v3");

  // An explicit branch (--revision) is resolved now too.
  await repo.commit({ "app/config.yaml": configMapYaml("settings", { greeting: "feature-1" }) }, "feature", { branch: "feature" });
  await freshlyResolved(ns);
  const feature2 = await repo.commit({ "app/config.yaml": configMapYaml("settings", { greeting: "feature-2" }) }, "feature 2", { branch: "feature" });
  const branch = await cli(["sync", "web", "-n", ns, "--revision", "feature", "--timeout", "60"]);
  assert.equal(branch.code, 0, branch.stderr + branch.stdout);
  assert.equal(await greeting(ns), "feature-2");
  assert.match(branch.stdout, new RegExp(`Operation Succeeded at ${feature2}: `));
});

/** A PreSync hook Job whose pod fails (simulated by kwok), and one ConfigMap it guards. */
function failingHookFiles(): Record<string, string> {
  const pod = Object.entries(simulatedPod({ outcome: "fail" })).map(([k, v]) => `        ${k}: "${v}"`).join("\n");
  return {
    "app/config.yaml": configMapYaml("settings", { greeting: "guarded" }),
    "app/migrate.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
${pod}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: registry.invalid/migrate:1}]
`,
  };
}

/** An automated app in its own namespace and repository, whose PreSync hook fails. */
async function failingApp(ns: string, syncPolicy: Record<string, unknown>): Promise<void> {
  const repo = await git.createRepo(ns, failingHookFiles());
  await kube.createNamespace(ns);
  await kube.apply(application("web", ns, {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: ns },
    syncPolicy,
  }));
}

/** Creations of the hook Job (a create, or a server-side apply that created it) in the API server's audit log. */
async function hookRuns(ns: string): Promise<number> {
  const events = await readAuditEvents(cluster.auditLogPath!);
  return events.filter((e) => e.objectRef?.resource === "jobs" && e.objectRef.namespace === ns && e.objectRef.name === "migrate" &&
    (e.verb === "create" || e.verb === "patch") && e.responseStatus?.code === 201).length;
}

/**
 * Waits until the controller has polled the repository again after this point and finished that reconcile:
 * a retry due by then would have started (and created its hook Job) within it.
 */
async function nextPollDone(ns: string, repoName: string): Promise<void> {
  const before = git.requestCount(repoName);
  await eventually(() => git.requestCount(repoName) > before, { timeoutMs: 30_000, message: "the next poll of the repository" });
  // The queue never runs one app twice at once: a refresh taken after that poll ran after its reconcile ended.
  await refreshApp(kube, ns, "web");
  await eventually(async () => (await kube.app(ns, "web"))?.metadata.annotations?.["tack.dev/refresh"] === undefined,
    { timeoutMs: 30_000, message: "the refresh after the poll" });
}

test("a failed automated sync is attempted once per revision: its failing PreSync hook runs once", { skip: !cluster.auditLogPath && "needs the audit log" }, async () => {
  const ns = "fail-once";
  await failingApp(ns, { automated: {} });
  const failed = await waitForApp(kube, ns, "web", (s) => s.operationState?.phase === "Failed", "the automated sync failed", 90_000);
  const revision = failed.operationState!.syncResult!.revision!;
  assert.match(failed.operationState!.message!, /PreSync hook Job\/fail-once\/migrate failed/);

  await nextPollDone(ns, ns);
  await nextPollDone(ns, ns);   // two polls: well past the first retry of the old default (5 s after the failure)
  assert.equal(await hookRuns(ns), 1, "the failing hook ran once for this revision");
  const status = (await appStatus(kube, ns, "web"))!;
  assert.equal(status.operationState?.phase, "Failed");
  assert.equal(status.operationState?.retryCount ?? 0, 0);
  const syncError = status.conditions?.find((c) => c.type === "SyncError");
  assert.equal(syncError?.status, "True");
  assert.match(syncError?.message ?? "", new RegExp(`^Failed last sync attempt to ${revision}: .*migrate failed.*; not retried \\(spec.syncPolicy.retry is not set\\)`));
  assert.equal(await kube.get("v1", "ConfigMap", ns, "settings"), undefined, "nothing past the failed PreSync hook was applied");
});

test("with syncPolicy.retry {limit: 2, backoff 1s} the failing sync runs 3 times, then stops", { skip: !cluster.auditLogPath && "needs the audit log" }, async () => {
  const ns = "fail-retry";
  await failingApp(ns, { automated: {}, retry: { limit: 2, backoff: { duration: "1s" } } });
  const last = await waitForApp(kube, ns, "web", (s) => s.operationState?.phase === "Failed" && s.operationState.retryCount === 2,
    "the second retry failed", 120_000);
  await nextPollDone(ns, ns);
  assert.equal(await hookRuns(ns), 3, "the first attempt and two retries");
  const status = (await appStatus(kube, ns, "web"))!;
  assert.equal(status.operationState?.retryCount, 2);
  assert.equal(status.operationState?.startedAt, last.operationState?.startedAt, "no attempt after the limit");
  assert.match(status.conditions?.find((c) => c.type === "SyncError")?.message ?? "", /; retried 2 time\(s\), the limit of spec.syncPolicy.retry/);
});
