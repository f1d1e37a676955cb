// Health on real rollouts (kube-controller-manager, kube-scheduler and kwok nodes): Progressing then Healthy,
// Degraded with a message naming the object, Missing for a desired object deleted live, HealthDegraded and
// HealthRecovered Events, and `tack health` agreeing with the controller on the same objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dump } from "js-yaml";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulatedPod } from "../support/control-plane.ts";
import { application, eventually, refreshApp, waitForApp, startEnvironment } from "../support/kube.ts";
import { deploymentYaml } from "../support/manifests.ts";
import { runHealthCommand } from "../../src/cli/health-command.ts";

const { cluster, git, kube, tack } = await startEnvironment({ "resync-seconds": 600 });

function withPodAnnotations(yaml: string, annotations: Record<string, string>): string {
  const lines = Object.entries(annotations).map(([k, v]) => `        ${k}: "${v}"`).join("\n");
  return yaml.replace("    metadata:\n      labels:", `    metadata:\n      annotations:\n${lines}\n      labels:`);
}

function statefulSet(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  serviceName: ${name}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
      annotations: {"sim.tack.dev/delay": "1s"}
    spec:
      containers: [{name: main, image: registry.invalid/${name}:1}]
`;
}

const failingJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: nightly
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations: {"sim.tack.dev/outcome": "fail"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: registry.invalid/job:1}]
`;

async function app(ns: string, files: Record<string, string>, syncPolicy: Record<string, unknown> = { automated: {} }) {
  const repo = await git.createRepo(ns, files);
  await kube.createNamespace(ns);
  await kube.apply(application("web", ns, {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: ns },
    syncPolicy,
  }));
  return repo;
}

test("a Deployment rollout goes Progressing, then Healthy", async () => {
  await app("rollout", { "app/deploy.yaml": withPodAnnotations(deploymentYaml("web", 2), simulatedPod({ delay: "2s" })) });
  const progressing = await waitForApp(kube, "rollout", "web", (s) => s.health?.status === "Progressing", "Progressing");
  assert.match(progressing.health!.message ?? "", /Deployment\/rollout\/web/);
  await waitForApp(kube, "rollout", "web", (s) => s.health?.status === "Healthy", "Healthy", 30_000);
});

test("Pods that never become ready and a failing Job make the app Degraded, naming the object; a fix recovers it", async () => {
  const neverReady = withPodAnnotations(deploymentYaml("stuck"), simulatedPod({ outcome: "unready" }))
    .replace("spec:\n  replicas: 1", "spec:\n  progressDeadlineSeconds: 3\n  replicas: 1");
  const repo = await app("degraded", { "app/deploy.yaml": neverReady });
  const degraded = await waitForApp(kube, "degraded", "web", (s) => s.health?.status === "Degraded", "Degraded", 40_000);
  assert.match(degraded.health!.message ?? "", /Deployment\/degraded\/stuck/);
  assert.match(degraded.health!.message ?? "", /deadline|progress/i);
  const events = await kube.list("v1", "Event", "degraded");
  assert.ok(events.some((e) => e.reason === "HealthDegraded" && String(e.message).includes("stuck")), "HealthDegraded Event");
  // The fix (a newer commit) supersedes the sync stuck on health and rolls out.
  await repo.commit({ "app/deploy.yaml": deploymentYaml("stuck") }, "fix readiness");
  await refreshApp(kube, "degraded", "web");
  await waitForApp(kube, "degraded", "web", (s) => s.health?.status === "Healthy", "recovered", 40_000);
  await eventually(async () => (await kube.list("v1", "Event", "degraded")).some((e) => e.reason === "HealthRecovered"), { message: "HealthRecovered Event" });

  await app("job", { "app/job.yaml": failingJob });
  const failed = await waitForApp(kube, "job", "web", (s) => s.health?.status === "Degraded", "Degraded by the Job", 30_000);
  assert.match(failed.health!.message ?? "", /Job\/job\/nightly/);
});

test("a StatefulSet scaled up is Progressing until every replica is ready", async () => {
  const repo = await app("scale", { "app/sts.yaml": statefulSet("db", 1) });
  await waitForApp(kube, "scale", "web", (s) => s.health?.status === "Healthy", "Healthy at 1 replica", 30_000);
  const sha = await repo.commit({ "app/sts.yaml": statefulSet("db", 3) }, "scale to 3");
  await refreshApp(kube, "scale", "web");
  await waitForApp(kube, "scale", "web", (s) => s.sync?.revision === sha && s.health?.status === "Progressing", "Progressing while scaling");
  await waitForApp(kube, "scale", "web", (s) => s.health?.status === "Healthy", "Healthy at 3 replicas", 40_000);
  const sts = await kube.get("apps/v1", "StatefulSet", "scale", "db");
  assert.equal((sts?.status as { readyReplicas?: number }).readyReplicas, 3);
});

test("a desired object deleted live shows Missing", async () => {
  await app("missing", { "app/deploy.yaml": deploymentYaml("web") }, { automated: {} });
  await waitForApp(kube, "missing", "web", (s) => s.health?.status === "Healthy", "Healthy", 30_000);
  await kube.delete("apps/v1", "Deployment", "missing", "web");
  const missing = await waitForApp(kube, "missing", "web", (s) => s.health?.status === "Missing", "Missing");
  assert.equal(missing.resources?.find((r) => r.kind === "Deployment")?.health?.status, "Missing");
});

test("`tack health` and the controller agree on the same live objects", async () => {
  const status = await waitForApp(kube, "rollout", "web", (s) => s.health?.status === "Healthy", "Healthy");
  const dir = await mkdtemp(join(tmpdir(), "tack-health-"));
  try {
    const live = [];
    for (const r of status.resources ?? []) {
      const apiVersion = r.group ? `${r.group}/v1` : "v1";
      live.push(await kube.get(apiVersion, r.kind, r.namespace, r.name));
    }
    const file = join(dir, "live.yaml");
    await writeFile(file, live.map((o) => dump(o)).join("---\n"));
    let out = "";
    const code = await runHealthCommand(["-o", "json", file], { stdout: (s) => { out += s; }, stderr: () => {} });
    assert.equal(code, 0);
    const cli = JSON.parse(out) as Array<{ kind: string; name: string; status: string | null }>;
    for (const r of status.resources ?? []) {
      const fromCli = cli.find((c) => c.kind === r.kind && c.name === r.name);
      assert.equal(fromCli?.status ?? undefined, r.health?.status, `${r.kind}/${r.name}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("custom health rules from the tack-health-rules ConfigMap apply without a restart; a rule that cannot run gives Unknown", async () => {
  await app("custom", { "app/flag.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: feature-flags\ndata:\n  state: broken\n" });
  await waitForApp(kube, "custom", "web", (s) => s.operationState?.phase === "Succeeded", "synced");
  const rules = (text: string) => ({
    apiVersion: "v1", kind: "ConfigMap", metadata: { name: "tack-health-rules", namespace: "tack-system" }, data: { _ConfigMap: text },
  });
  await kube.apply(rules(`- when: 'has(object.data) && has(object.data.state) && object.data.state == "broken"'
  status: Degraded
  messageExpression: '"feature flags are " + object.data.state'
`));
  const degraded = await waitForApp(kube, "custom", "web", (s) => s.health?.status === "Degraded", "Degraded by the custom rule");
  assert.match(degraded.health!.message ?? "", /ConfigMap\/custom\/feature-flags: feature flags are broken/);
  // A runaway rule (refused or stopped by its budget) gives Unknown with the reason, and the controller goes on.
  await kube.apply(rules(`- when: 'object.data.all(k, [1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, a + b > 0)))'
  status: Healthy
`));
  const unknown = await waitForApp(kube, "custom", "web", (s) => s.health?.status === "Unknown", "Unknown from the failing rule");
  assert.match(unknown.health!.message ?? "", /feature-flags/);
});

test("an Argo CD Lua rule from the tack-health-rules ConfigMap changes a live app's health; a looping one gives Unknown", async () => {
  await app("lua", { "app/flag.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: feature-flags\ndata:\n  state: parked\n" });
  await waitForApp(kube, "lua", "web", (s) => s.operationState?.phase === "Succeeded", "synced");
  const rules = (script: string) => ({
    apiVersion: "v1", kind: "ConfigMap", metadata: { name: "tack-health-rules", namespace: "tack-system" },
    data: { "resource.customizations.health._ConfigMap": script },
  });
  // Written the way Argo CD's health.lua scripts are: a default table, a walk over the object, one return.
  await kube.apply(rules(`local hs = { status = "Healthy", message = "" }
if obj.data ~= nil and obj.data.state == "parked" then
  hs.status = "Suspended"
  hs.message = string.format("%s is %s", obj.metadata.name, obj.data.state)
end
return hs
`));
  const suspended = await waitForApp(kube, "lua", "web", (s) => s.health?.status === "Suspended", "Suspended by the Lua rule");
  const resource = suspended.resources?.find((r) => r.kind === "ConfigMap");
  assert.match(resource?.health?.message ?? "", /feature-flags is parked/);
  await kube.apply(rules("while true do end"));
  const unknown = await waitForApp(kube, "lua", "web", (s) => s.health?.status === "Unknown", "Unknown from the looping rule");
  assert.match(unknown.resources?.find((r) => r.kind === "ConfigMap")?.health?.message ?? "", /exceeded its budget of \d+ Lua instructions/);
  // The controller goes on: a fixed rule is picked up again.
  await kube.apply(rules(`return { status = "Healthy", message = "fixed" }`));
  await waitForApp(kube, "lua", "web", (s) => s.health?.status === "Healthy", "Healthy after the fix");
});
