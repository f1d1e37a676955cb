// Argo CD's example layouts work unchanged (issue 5, item 10), and PostDelete hooks run on cascade deletion
// (item 7): a Kustomize overlay whose base (elsewhere in the repo) holds PreSync/PostSync Jobs with delete
// policies; a Helm chart whose helm.sh/hook pre-install and post-install Jobs become PreSync/PostSync hooks,
// ordered by hook-weight; and an Application with `resources-finalizer.tack.dev` whose objects are deleted
// before its PostDelete Job runs to completion, and only then does the Application go.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../src/api/index.ts";
import { simulatedPod } from "../support/control-plane.ts";
import { appStatus, application, eventually, waitForApp, startEnvironment, type AppStatusView, type TestKube } from "../support/kube.ts";
import { configMapYaml, deploymentYaml, serviceYaml } from "../support/manifests.ts";
import { ensureTools } from "../support/tools.ts";

const tools = await ensureTools();
// The controller finds helm and kustomize on PATH, as in the container image.
process.env.PATH = `${tools.dir}:${process.env.PATH ?? ""}`;

const { git, kube } = await startEnvironment();

const DEST = "https://kubernetes.default.svc";

/** A hook Job as Argo CD's examples write it: one attempt, restartPolicy Never. */
function hookJob(name: string, annotations: Record<string, string>, podAnnotations: Record<string, string> = {}): string {
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`).join("\n");
  const podAnn = Object.entries({ none: "", ...podAnnotations }).map(([k, v]) => `        ${k}: ${JSON.stringify(v)}`).join("\n");
  return `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  annotations:
${ann}
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
${podAnn}
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: registry.invalid/hook:1
`;
}

async function liveJobs(kube: TestKube, namespace: string): Promise<string[]> {
  return (await kube.list("batch/v1", "Job", namespace)).filter((j) => !j.metadata.deletionTimestamp).map((j) => j.metadata.name ?? "");
}

function hookResults(status: AppStatusView): string[] {
  return (status.operationState?.syncResult?.resources ?? []).filter((r) => r.hookType).map((r) => `${r.hookType}:${r.hookName}:${r.hookPhase}`);
}

function jobSucceeded(job: KubeObject | undefined): boolean {
  const s = (job as { status?: unknown } | undefined)?.status as { succeeded?: number; conditions?: Array<{ type: string; status: string }> } | undefined;
  return (s?.succeeded ?? 0) >= 1 && (s?.conditions ?? []).some((c) => c.type === "Complete" && c.status === "True");
}

const settled = (s: AppStatusView) => s.operationState?.phase === "Succeeded" && s.sync?.status === "Synced" && s.health?.status === "Healthy";

/** Waits until the app's sync Succeeded and it is Synced and Healthy; on timeout, fails with the status last seen. */
async function waitSettled(namespace: string, name: string): Promise<AppStatusView> {
  return waitForApp(kube, namespace, name, settled, "sync Succeeded, Synced and Healthy", 90_000).catch(async (err: unknown) => {
    const last = await appStatus(kube, namespace, name);
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last)}`);
  });
}

test("a Kustomize overlay whose base lives elsewhere in the repo runs its PreSync/PostSync Jobs per phase and delete policy", async () => {
  const repo = await git.createRepo("argo-kustomize", {
    "base/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - service.yaml\n  - pre-sync-job.yaml\n  - post-sync-job.yaml\n",
    "base/deployment.yaml": deploymentYaml("guestbook"),
    "base/service.yaml": serviceYaml("guestbook"),
    "base/pre-sync-job.yaml": hookJob("db-migrate", { "argocd.argoproj.io/hook": "PreSync", "argocd.argoproj.io/hook-delete-policy": "HookSucceeded" }),
    "base/post-sync-job.yaml": hookJob("smoke-test", { "argocd.argoproj.io/hook": "PostSync", "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation" }),
    "envs/prod/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: prod-\nresources:\n  - ../../base\npatches:\n  - path: replicas.yaml\n",
    "envs/prod/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: guestbook\nspec:\n  replicas: 2\n",
    "README.md": "guestbook\n",
  });
  await kube.createNamespace("argo-kust");
  await kube.apply(application("guestbook", "argo-kust", {
    source: { repoURL: repo.url, path: "envs/prod", targetRevision: "HEAD" },
    destination: { server: DEST, namespace: "argo-kust" },
    syncPolicy: { automated: { prune: true } },
  }));
  const status = await waitSettled("argo-kust", "guestbook");
  assert.equal((status as { sourceType?: string }).sourceType ?? "Kustomize", "Kustomize");

  // Hooks ran in their phase: the PreSync migration before the Sync phase, the smoke test after it.
  assert.deepEqual(hookResults(status).sort(), ["PostSync:prod-smoke-test:Succeeded", "PreSync:prod-db-migrate:Succeeded"]);
  const results = status.operationState!.syncResult!.resources!;
  const index = (pred: (r: (typeof results)[number]) => boolean) => results.findIndex(pred);
  const pre = index((r) => r.hookType === "PreSync");
  const deploy = index((r) => !r.hookType && r.kind === "Deployment");
  const post = index((r) => r.hookType === "PostSync");
  assert.ok(pre >= 0 && deploy >= 0 && post >= 0, JSON.stringify(results));
  assert.ok(pre < deploy && deploy < post, `PreSync, then Sync, then PostSync: ${JSON.stringify(results)}`);
  assert.equal(results[deploy]?.syncPhase, "Sync");

  // HookSucceeded deleted the migration; BeforeHookCreation keeps the smoke test until the next run.
  await eventually(async () => !(await liveJobs(kube, "argo-kust")).includes("prod-db-migrate"), { message: "PreSync Job deleted after success" });
  const smoke = await kube.get("batch/v1", "Job", "argo-kust", "prod-smoke-test");
  assert.ok(smoke, "PostSync Job present");
  assert.ok(jobSucceeded(smoke), `PostSync Job completed: ${JSON.stringify((smoke as { status?: unknown }).status)}`);

  // The overlay was rendered with the base from elsewhere in the repo; hooks are not part of the compared state.
  const deployment = await kube.get("apps/v1", "Deployment", "argo-kust", "prod-guestbook");
  assert.equal((deployment?.spec as { replicas: number }).replicas, 2, "the overlay's patch");
  assert.ok(await kube.get("v1", "Service", "argo-kust", "prod-guestbook"), "Service from the base");
  assert.deepEqual(status.resources?.map((r) => `${r.kind}/${r.name}`).sort(), ["Deployment/prod-guestbook", "Service/prod-guestbook"]);
  assert.ok(status.resources!.every((r) => r.status === "Synced" && r.health?.status === "Healthy"), JSON.stringify(status.resources));
});

test("a Helm chart's pre-install/post-install hooks map onto PreSync/PostSync, ordered by hook-weight, with delete policies", async () => {
  const jobTemplate = (name: string, hook: string, weight: string, policy: string) =>
    hookJob(name, { "helm.sh/hook": hook, "helm.sh/hook-weight": weight, "helm.sh/hook-delete-policy": policy });
  const repo = await git.createRepo("argo-helm", {
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    "charts/web/values.yaml": "replicas: 1\nimage: registry.invalid/web:1.0\n",
    "charts/web/templates/deployment.yaml": deploymentYaml("{{ .Release.Name }}-web").replace("replicas: 1", "replicas: {{ .Values.replicas }}")
      .replace("registry.invalid/web:1.0", "{{ .Values.image }}"),
    "charts/web/templates/service.yaml": serviceYaml("{{ .Release.Name }}-web"),
    // Argo CD's example: a schema Job (weight -5) before a seed Job (weight 5), both pre-install; a post-install check.
    "charts/web/templates/schema-job.yaml": jobTemplate("{{ .Release.Name }}-schema", "pre-install", "-5", "hook-succeeded"),
    "charts/web/templates/seed-job.yaml": jobTemplate("{{ .Release.Name }}-seed", "pre-install,pre-upgrade", "5", "before-hook-creation"),
    "charts/web/templates/check-job.yaml": jobTemplate("{{ .Release.Name }}-check", "post-install", "0", "before-hook-creation"),
    "charts/web/templates/test-job.yaml": jobTemplate("{{ .Release.Name }}-test", "test", "0", "before-hook-creation"),
  });
  await kube.createNamespace("argo-helm");
  await kube.apply(application("shop", "argo-helm", {
    source: { repoURL: repo.url, path: "charts/web", targetRevision: "HEAD", helm: { valuesObject: { replicas: 2 } } },
    destination: { server: DEST, namespace: "argo-helm" },
    syncPolicy: { automated: { prune: true } },
  }));
  const status = await waitSettled("argo-helm", "shop");

  assert.deepEqual(hookResults(status).sort(),
    ["PostSync:shop-check:Succeeded", "PreSync:shop-schema:Succeeded", "PreSync:shop-seed:Succeeded"]);
  const results = status.operationState!.syncResult!.resources!;
  const at = (name: string) => results.findIndex((r) => r.hookName === name || (!r.hookType && r.name === name));
  assert.ok(at("shop-schema") < at("shop-seed"), `hook-weight -5 runs before 5: ${JSON.stringify(results)}`);
  assert.ok(at("shop-seed") < at("shop-web") && at("shop-web") < at("shop-check"), `PreSync, Sync, PostSync: ${JSON.stringify(results)}`);

  // hook-succeeded → HookSucceeded: the schema Job is deleted; before-hook-creation keeps the others.
  await eventually(async () => !(await liveJobs(kube, "argo-helm")).includes("shop-schema"), { message: "hook-succeeded Job deleted" });
  const jobs = await liveJobs(kube, "argo-helm");
  assert.ok(jobs.includes("shop-seed") && jobs.includes("shop-check"), `before-hook-creation Jobs kept: ${jobs.join(", ")}`);
  assert.ok(!jobs.includes("shop-test"), "a helm test hook is never run by a sync");
  const seed = await kube.get("batch/v1", "Job", "argo-helm", "shop-seed");
  assert.equal(seed?.metadata.annotations?.["argocd.argoproj.io/hook"], "PreSync", "mapped onto Argo CD's annotation");
  assert.equal(seed?.metadata.annotations?.["argocd.argoproj.io/sync-wave"], "5", "hook-weight is the wave");
  assert.ok(jobSucceeded(await kube.get("batch/v1", "Job", "argo-helm", "shop-check")), "post-install Job completed");

  const deployment = await kube.get("apps/v1", "Deployment", "argo-helm", "shop-web");
  assert.equal((deployment?.spec as { replicas: number }).replicas, 2, "values from the Application");
  assert.deepEqual(status.resources?.map((r) => `${r.kind}/${r.name}`).sort(), ["Deployment/shop-web", "Service/shop-web"]);
});

test("cascade deletion with resources-finalizer.tack.dev deletes the app's objects, then runs the PostDelete Job, then the Application goes", async () => {
  const repo = await git.createRepo("argo-postdelete", {
    "app/deployment.yaml": deploymentYaml("web"),
    "app/config.yaml": configMapYaml("web-config", { greeting: "hello" }),
    // The pod takes a few seconds, so the Job can be seen running while the Application still waits for it.
    "app/cleanup.yaml": hookJob("cleanup", { "argocd.argoproj.io/hook": "PostDelete" }, simulatedPod({ delay: "2s" })),
  });
  await kube.createNamespace("argo-postdelete");
  const app = application("web", "argo-postdelete", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: DEST, namespace: "argo-postdelete" },
    syncPolicy: { automated: { prune: true } },
  });
  app.metadata.finalizers = ["resources-finalizer.tack.dev"];
  await kube.apply(app);
  const status = await waitSettled("argo-postdelete", "web");
  assert.deepEqual(hookResults(status), [], "a PostDelete hook does not run on sync");
  assert.deepEqual(await liveJobs(kube, "argo-postdelete"), [], "no PostDelete Job before deletion");
  assert.deepEqual(status.resources?.map((r) => `${r.kind}/${r.name}`).sort(), ["ConfigMap/web-config", "Deployment/web"]);

  // A second finalizer, held by the test, keeps the Application readable after Tack removes its own, so the
  // moment Tack lets it go is observable. Each poll reads, in this order: the Job, the app's objects, the
  // Application, the Job again; so "Job seen, then an object seen" proves the Job came before the objects
  // were gone, and "finalizer gone, then Job seen not done" proves Tack let go before the Job completed.
  await kube.mergePatch("tack.dev/v1alpha1", "Application", "argo-postdelete", "web",
    { metadata: { finalizers: ["resources-finalizer.tack.dev", "test.tack.dev/hold"] } });
  interface Snapshot { jobBefore: boolean; objects: boolean; tackFinalizer: boolean; jobAfterDone: boolean; jobAfter: boolean }
  const timeline: Snapshot[] = [];
  await kube.delete("tack.dev/v1alpha1", "Application", "argo-postdelete", "web");
  await eventually(async () => {
    const jobBefore = !!(await kube.get("batch/v1", "Job", "argo-postdelete", "cleanup"));
    const objects = !!(await kube.get("apps/v1", "Deployment", "argo-postdelete", "web")) || !!(await kube.get("v1", "ConfigMap", "argo-postdelete", "web-config"));
    const live = await kube.app("argo-postdelete", "web");
    const job = await kube.get("batch/v1", "Job", "argo-postdelete", "cleanup");
    const tackFinalizer = (live?.metadata.finalizers ?? []).includes("resources-finalizer.tack.dev");
    timeline.push({ jobBefore, objects, tackFinalizer, jobAfter: !!job, jobAfterDone: jobSucceeded(job) });
    return !tackFinalizer;
  }, { message: "Tack removes its finalizer", timeoutMs: 60_000, intervalMs: 50 });
  const summary = JSON.stringify(timeline.filter((s, i, all) => i === 0 || JSON.stringify(s) !== JSON.stringify(all[i - 1])));

  assert.ok(!timeline.some((s) => s.jobBefore && s.objects), `the app's objects were gone before the PostDelete Job was created: ${summary}`);
  assert.ok(!timeline.some((s) => !s.tackFinalizer && !s.jobAfterDone), `the finalizer stayed until the PostDelete Job completed: ${summary}`);
  assert.ok(timeline.some((s) => s.tackFinalizer && s.jobAfter && !s.jobAfterDone), `Tack waited while the PostDelete Job ran: ${summary}`);
  assert.ok(timeline.some((s) => s.objects), `the deletion was observed from the start: ${summary}`);
  assert.ok(await kube.app("argo-postdelete", "web"), "the Application stays while another finalizer holds it");
  await kube.mergePatch("tack.dev/v1alpha1", "Application", "argo-postdelete", "web", { metadata: { finalizers: [] } });
  await eventually(async () => !(await kube.app("argo-postdelete", "web")), { message: "the Application goes" });

  // Afterwards: the objects are gone, the hook stays (completed) as Argo CD leaves it, nothing else was touched.
  assert.equal(await kube.get("apps/v1", "Deployment", "argo-postdelete", "web"), undefined);
  assert.equal(await kube.get("v1", "ConfigMap", "argo-postdelete", "web-config"), undefined);
  assert.ok(jobSucceeded(await kube.get("batch/v1", "Job", "argo-postdelete", "cleanup")), "the PostDelete Job completed");
});
