// Sync hooks: PreSync, Sync and PostSync hooks run in their phase and are deleted per their policy; a
// failing PreSync hook stops the sync before any Sync-phase write and runs the SyncFail hooks. Hooks are
// not part of the compared state and are never pruned.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulatedPod } from "../support/control-plane.ts";
import { application, eventually, waitForApp, startEnvironment } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

const { cluster, git, kube, tack } = await startEnvironment();

function job(opts: { name?: string; generateName?: string; hook: string; deletePolicy?: string; fail?: boolean; helm?: boolean }): string {
  const meta = opts.name ? `  name: ${opts.name}` : `  generateName: ${opts.generateName}`;
  const hookAnnotations = opts.helm
    ? `    helm.sh/hook: ${opts.hook}\n${opts.deletePolicy ? `    helm.sh/hook-delete-policy: ${opts.deletePolicy}\n` : ""}`
    : `    argocd.argoproj.io/hook: ${opts.hook}\n${opts.deletePolicy ? `    argocd.argoproj.io/hook-delete-policy: ${opts.deletePolicy}\n` : ""}`;
  const pod = opts.fail ? Object.entries(simulatedPod({ outcome: "fail" })).map(([k, v]) => `        ${k}: "${v}"`).join("\n") : "";
  return `apiVersion: batch/v1
kind: Job
metadata:
${meta}
  annotations:
${hookAnnotations}spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
${pod || "        none: \"\""}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: registry.invalid/hook:1}]
`;
}

async function jobs(namespace: string) {
  return (await kube.list("batch/v1", "Job", namespace)).filter((j) => !j.metadata.deletionTimestamp);
}

test("hooks run in their phase and are deleted per policy; they are never compared or pruned", async () => {
  const repo = await git.createRepo("hooks", {
    "app/config.yaml": configMapYaml("app-config", { v: "1" }),
    "app/pre.yaml": job({ name: "db-migrate", hook: "PreSync", deletePolicy: "HookSucceeded" }),
    "app/post.yaml": job({ generateName: "smoke-test-", hook: "PostSync" }),
    "app/helm-pre.yaml": job({ name: "helm-pre", hook: "pre-install", helm: true }),
    "app/helm-test.yaml": job({ name: "helm-test", hook: "test", helm: true }),
    "app/skipped.yaml": job({ name: "skipped", hook: "Skip" }),
  });
  await kube.createNamespace("hooks");
  await kube.apply(application("web", "hooks", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "hooks" },
    syncPolicy: { automated: { prune: true } },
  }));
  const status = await waitForApp(kube, "hooks", "web", (s) => s.operationState?.phase === "Succeeded", "sync Succeeded", 60_000);
  const hooks = status.operationState!.syncResult!.resources!.filter((r) => r.hookType);
  assert.deepEqual(hooks.map((h) => `${h.hookType}:${h.hookName}:${h.hookPhase}`).sort(),
    ["PostSync:smoke-test-:Succeeded", "PreSync:db-migrate:Succeeded", "PreSync:helm-pre:Succeeded"]);
  // HookSucceeded deleted the migration; the PostSync hook (BeforeHookCreation by default) stays until the next run.
  await eventually(async () => !(await jobs("hooks")).some((j) => j.metadata.name === "db-migrate"), { message: "HookSucceeded hook deleted" });
  const remaining = (await jobs("hooks")).map((j) => j.metadata.name ?? "");
  assert.ok(remaining.some((n) => n.startsWith("smoke-test-")), `PostSync hook kept: ${remaining.join(", ")}`);
  assert.ok(!remaining.includes("helm-test") && !remaining.includes("skipped"), "test and Skip hooks never run");
  // Hooks are not part of the app's resources, so they are neither drift nor prune candidates.
  assert.deepEqual(status.resources?.map((r) => r.kind), ["ConfigMap"]);
  assert.equal(status.sync?.status, "Synced");

  // A second sync (new commit) re-runs the named PreSync hook and a new PostSync hook.
  const v2 = await repo.commit({ "app/config.yaml": configMapYaml("app-config", { v: "2" }) }, "v2");
  await kube.mergePatch("tack.dev/v1alpha1", "Application", "hooks", "web", { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
  const second = await waitForApp(kube, "hooks", "web", (s) => s.operationState?.phase === "Succeeded" && s.operationState.syncResult?.revision === v2,
    "second sync Succeeded", 60_000);
  assert.ok(second.operationState!.syncResult!.resources!.some((r) => r.hookType === "PreSync" && r.hookName === "db-migrate" && r.hookPhase === "Succeeded"));
  const cm = await kube.get("v1", "ConfigMap", "hooks", "app-config");
  assert.equal((cm?.data as Record<string, string>).v, "2");
});

test("a failing PreSync hook stops the sync before any Sync-phase write and runs SyncFail hooks", async () => {
  const repo = await git.createRepo("failing", {
    "app/config.yaml": configMapYaml("must-not-exist", { v: "1" }),
    "app/pre.yaml": job({ name: "broken-migration", hook: "PreSync", fail: true }),
    "app/onfail.yaml": job({ name: "notify-failure", hook: "SyncFail" }),
  });
  await kube.createNamespace("failing");
  await kube.apply(application("web", "failing", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "failing" },
    syncPolicy: { automated: {}, retry: { limit: 0 } },
  }));
  const status = await waitForApp(kube, "failing", "web", (s) => s.operationState?.phase === "Failed", "sync Failed", 60_000);
  assert.match(status.operationState!.message!, /PreSync hook Job\/failing\/broken-migration failed/);
  assert.equal(await kube.get("v1", "ConfigMap", "failing", "must-not-exist"), undefined, "no Sync-phase write");
  await eventually(async () => kube.get("batch/v1", "Job", "failing", "notify-failure"), { message: "SyncFail hook created" });
  const syncError = status.conditions?.find((c) => c.type === "SyncError");
  assert.match(syncError?.message ?? "", /broken-migration/);
});
