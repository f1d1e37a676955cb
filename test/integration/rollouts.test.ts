// Real status transitions in the local control plane: kube-controller-manager, kube-scheduler and kwok's simulated
// nodes make workloads roll out, Jobs finish, the garbage collector and the namespace controller clean up. No Tack
// here: these tests prove the ground that the health and sync tests stand on.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { KubeObject } from "../../src/api/index.ts";
import { ensureControlPlaneBinaries, simulatedPod, startControlPlane, type ControlPlane } from "../support/control-plane.ts";
import { eventually, TestKube } from "../support/kube.ts";

let cp: ControlPlane;
let kube: TestKube;

// Rollouts take a few seconds; the namespace controller's retries take longer (see the namespace test).
const ROLLOUT_MS = 30_000;

before(async () => {
  await ensureControlPlaneBinaries();
  cp = await startControlPlane();
  kube = new TestKube(cp.kubeconfigPath);
});

after(async () => {
  await cp?.stop();
});

// Objects as the API returns them: only the fields read here are typed.
interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Status {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  updatedReplicas?: number;
  currentReplicas?: number;
  succeeded?: number;
  failed?: number;
  desiredNumberScheduled?: number;
  numberReady?: number;
  conditions?: Condition[];
}
type Workload = KubeObject & { status?: Status };

async function status(apiVersion: string, kind: string, namespace: string, name: string): Promise<Status> {
  const obj = (await kube.get(apiVersion, kind, namespace, name)) as Workload | undefined;
  return obj?.status ?? {};
}

function condition(s: Status, type: string): Condition | undefined {
  return s.conditions?.find((c) => c.type === type);
}

let namespaces = 0;
async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${++namespaces}`;
  await kube.createNamespace(name);
  return name;
}

function podSpec(restartPolicy?: "Never" | "OnFailure") {
  return { ...(restartPolicy && { restartPolicy }), containers: [{ name: "app", image: "registry.example/app:1" }] };
}

function deployment(
  namespace: string,
  name: string,
  replicas: number,
  annotations: Record<string, string> = {},
  spec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      ...spec,
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name }, annotations }, spec: podSpec() },
    },
  };
}

function job(namespace: string, name: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace },
    spec: { backoffLimit: 0, template: { metadata: { annotations }, spec: podSpec("Never") } },
  };
}

test("the fake nodes are Ready and the default ServiceAccount exists", async () => {
  assert.deepEqual(cp.nodes, ["kwok-node-1", "kwok-node-2"]);
  const nodes = await kube.list("v1", "Node");
  assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), [...cp.nodes]);
  // Made by kube-controller-manager's serviceaccount controller (ServiceAccount admission stays disabled).
  await eventually(() => kube.get("v1", "ServiceAccount", "default", "default"), { message: "no default ServiceAccount" });
});

test("a Deployment with 3 replicas becomes Available with 3 ready replicas", async () => {
  const ns = await namespace("deploy");
  const applied = await kube.apply(deployment(ns, "web", 3));
  const s = await eventually(
    async () => {
      const s = await status("apps/v1", "Deployment", ns, "web");
      return s.readyReplicas === 3 && s.availableReplicas === 3 && condition(s, "Available")?.status === "True" && s;
    },
    { timeoutMs: ROLLOUT_MS, message: "Deployment web not Available with 3 ready replicas" },
  );
  assert.equal(s.observedGeneration, applied.metadata.generation);
  assert.equal(s.updatedReplicas, 3);
  assert.equal(condition(s, "Progressing")?.reason, "NewReplicaSetAvailable");

  const pods = await kube.list("v1", "Pod", ns);
  assert.equal(pods.length, 3);
  for (const pod of pods as (KubeObject & { spec: { nodeName?: string }; status: { phase: string } })[]) {
    assert.ok(cp.nodes.includes(pod.spec.nodeName ?? ""), `pod ${pod.metadata.name} scheduled on a fake node`);
    assert.equal(pod.status.phase, "Running");
  }
});

test("a Deployment's rollout is seen in progress when its pods are delayed", async () => {
  const ns = await namespace("delayed");
  await kube.apply(deployment(ns, "slow", 2, simulatedPod({ delay: "2s" })));
  const progressing = await eventually(
    async () => {
      const s = await status("apps/v1", "Deployment", ns, "slow");
      return s.replicas === 2 && s;
    },
    { timeoutMs: ROLLOUT_MS, message: "Deployment slow has no replicas" },
  );
  assert.equal(progressing.readyReplicas ?? 0, 0, "pods are not ready before their delay");
  assert.notEqual(condition(progressing, "Available")?.status, "True");
  await eventually(async () => (await status("apps/v1", "Deployment", ns, "slow")).readyReplicas === 2, {
    timeoutMs: ROLLOUT_MS,
    message: "Deployment slow never became ready",
  });
});

test("a Deployment whose pods crash never becomes Available and exceeds its progress deadline", async () => {
  const ns = await namespace("crash");
  await kube.apply(deployment(ns, "crash", 1, simulatedPod({ outcome: "fail" }), { progressDeadlineSeconds: 2 }));
  const s = await eventually(
    async () => {
      const s = await status("apps/v1", "Deployment", ns, "crash");
      return condition(s, "Progressing")?.reason === "ProgressDeadlineExceeded" && s;
    },
    { timeoutMs: ROLLOUT_MS, message: "Deployment crash did not exceed its progress deadline" },
  );
  assert.equal(s.readyReplicas ?? 0, 0);
  assert.equal(condition(s, "Available")?.status, "False");
  const [pod] = (await kube.list("v1", "Pod", ns)) as (KubeObject & {
    status: { phase: string; containerStatuses?: { restartCount: number; state: { waiting?: { reason: string } } }[] };
  })[];
  assert.equal(pod?.status.phase, "Running");
  assert.equal(pod?.status.containerStatuses?.[0]?.state.waiting?.reason, "CrashLoopBackOff");
  assert.equal(pod?.status.containerStatuses?.[0]?.restartCount, 1);
});

test("a StatefulSet scaled from 1 to 3 reaches 3 ready replicas", async () => {
  const ns = await namespace("sts");
  const sts = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db", namespace: ns },
    spec: {
      replicas: 1,
      serviceName: "db",
      selector: { matchLabels: { app: "db" } },
      template: { metadata: { labels: { app: "db" } }, spec: podSpec() },
    },
  };
  await kube.apply(sts);
  await eventually(async () => (await status("apps/v1", "StatefulSet", ns, "db")).readyReplicas === 1, {
    timeoutMs: ROLLOUT_MS,
    message: "StatefulSet db not ready at 1 replica",
  });

  const scaled = await kube.mergePatch("apps/v1", "StatefulSet", ns, "db", { spec: { replicas: 3 } });
  const s = await eventually(
    async () => {
      const s = await status("apps/v1", "StatefulSet", ns, "db");
      return s.readyReplicas === 3 && s;
    },
    { timeoutMs: ROLLOUT_MS, message: "StatefulSet db not ready at 3 replicas" },
  );
  assert.equal(s.observedGeneration, scaled.metadata.generation);
  assert.equal(s.currentReplicas, 3);
  // OrderedReady: the pods are db-0, db-1, db-2.
  const pods = (await kube.list("v1", "Pod", ns)).map((p) => p.metadata.name).sort();
  assert.deepEqual(pods, ["db-0", "db-1", "db-2"]);
});

test("a Job completes", async () => {
  const ns = await namespace("job");
  await kube.apply(job(ns, "migrate"));
  const s = await eventually(
    async () => {
      const s = await status("batch/v1", "Job", ns, "migrate");
      return condition(s, "Complete")?.status === "True" && s;
    },
    { timeoutMs: ROLLOUT_MS, message: "Job migrate did not complete" },
  );
  assert.equal(s.succeeded, 1);
  assert.equal(s.failed ?? 0, 0);
});

test("a Job whose pod fails (SIMULATION.fail) reaches the Failed condition", async () => {
  const ns = await namespace("job-fail");
  await kube.apply(job(ns, "broken", simulatedPod({ outcome: "fail" })));
  const s = await eventually(
    async () => {
      const s = await status("batch/v1", "Job", ns, "broken");
      return condition(s, "Failed")?.status === "True" && s;
    },
    { timeoutMs: ROLLOUT_MS, message: "Job broken did not fail" },
  );
  assert.equal(condition(s, "Failed")?.reason, "BackoffLimitExceeded");
  assert.equal(s.failed, 1);
  assert.equal(s.succeeded ?? 0, 0);
  const [pod] = (await kube.list("v1", "Pod", ns)) as (KubeObject & {
    status: { phase: string; containerStatuses?: { state: { terminated?: { exitCode: number } } }[] };
  })[];
  assert.equal(pod?.status.phase, "Failed");
  assert.equal(pod?.status.containerStatuses?.[0]?.state.terminated?.exitCode, 1);
});

test("a DaemonSet gets a ready pod on each fake node", async () => {
  const ns = await namespace("ds");
  await kube.apply({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent", namespace: ns },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: { metadata: { labels: { app: "agent" } }, spec: podSpec() },
    },
  });
  const s = await eventually(
    async () => {
      const s = await status("apps/v1", "DaemonSet", ns, "agent");
      return s.numberReady === cp.nodes.length && s;
    },
    { timeoutMs: ROLLOUT_MS, message: "DaemonSet agent not ready on every node" },
  );
  assert.equal(s.desiredNumberScheduled, cp.nodes.length);
  const pods = (await kube.list("v1", "Pod", ns)) as (KubeObject & { spec: { nodeName?: string } })[];
  assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), [...cp.nodes]);
});

test("deleting a Deployment deletes its ReplicaSet and pods (garbage collector)", async () => {
  const ns = await namespace("gc");
  await kube.apply(deployment(ns, "web", 2));
  await eventually(async () => (await status("apps/v1", "Deployment", ns, "web")).readyReplicas === 2, {
    timeoutMs: ROLLOUT_MS,
    message: "Deployment web not ready",
  });
  await kube.delete("apps/v1", "Deployment", ns, "web");
  await eventually(
    async () => (await kube.list("apps/v1", "ReplicaSet", ns)).length === 0 && (await kube.list("v1", "Pod", ns)).length === 0,
    { timeoutMs: ROLLOUT_MS, message: "ReplicaSet or pods left after the Deployment was deleted" },
  );
});

test("foreground deletion of a ConfigMap completes: the garbage collector deletes its dependent, then it", async () => {
  const ns = await namespace("fg");
  const owner = await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owner", namespace: ns } });
  await kube.apply({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "dependent",
      namespace: ns,
      ownerReferences: [
        { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid, blockOwnerDeletion: true },
      ],
    },
  });

  const deleting = await kube.client.request<KubeObject>({
    method: "DELETE",
    path: `/api/v1/namespaces/${ns}/configmaps/owner`,
    body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Foreground" },
  });
  // The apiserver only marks the owner; removing the finalizer is the garbage collector's work.
  assert.ok(deleting.metadata.deletionTimestamp, "owner marked for deletion");
  assert.deepEqual(deleting.metadata.finalizers, ["foregroundDeletion"]);

  await eventually(
    async () => !(await kube.get("v1", "ConfigMap", ns, "owner")) && !(await kube.get("v1", "ConfigMap", ns, "dependent")),
    { timeoutMs: ROLLOUT_MS, message: "owner or dependent ConfigMap still present" },
  );
});

test("deleting a namespace with running workloads completes (namespace controller)", async () => {
  const ns = await namespace("doomed");
  await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: ns }, data: { a: "b" } });
  await kube.apply(deployment(ns, "web", 2));
  await eventually(async () => (await status("apps/v1", "Deployment", ns, "web")).readyReplicas === 2, {
    timeoutMs: ROLLOUT_MS,
    message: "Deployment web not ready",
  });
  await kube.delete("v1", "Namespace", undefined, ns);
  const terminating = (await kube.get("v1", "Namespace", undefined, ns)) as (KubeObject & { status?: { phase?: string } }) | undefined;
  assert.ok(!terminating || terminating.status?.phase === "Terminating");
  // The namespace controller starts 5 s after the deletion (a fixed delay for HA apiservers), deletes the content,
  // then rechecks after an estimate from the pods' grace period (kwok removes them at once): about 10 s here,
  // about 5.5 s with terminationGracePeriodSeconds: 0.
  await eventually(async () => !(await kube.get("v1", "Namespace", undefined, ns)), {
    timeoutMs: 60_000,
    intervalMs: 250,
    message: `namespace ${ns} still present`,
  });
});
