import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../../src/api/kube-object.ts";
import { assessHealth } from "../../../src/health/index.ts";

function cr(status: unknown, generation: number | null = 1, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: "example.com/v1", kind: "Widget",
    metadata: { name: "w", namespace: "ns", ...(generation !== null && { generation }) },
    ...(status !== undefined && { status }), ...extra,
  };
}
const cond = (type: string, status: string, reason = "", message = "") => ({ type, status, reason, message });
const phase = (word: string) => cr({ phase: word });

const cases: Array<[name: string, obj: KubeObject, status: string | undefined, message: string]> = [
  // No status: a live custom resource (generation set by the API server) has not been seen by its controller;
  // a manifest from git (no generation, uid …) says nothing.
  ["no status, read from an API server", cr(undefined), "Progressing", "No status yet: its controller has not seen it"],
  ["empty status, read from an API server", cr({}), "Progressing", "No status yet"],
  ["no status, a manifest from git", cr(undefined, null), undefined, ""],
  ["no status, a built-in group's kind (ConfigMap-like)",
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", uid: "u", resourceVersion: "1" } }, undefined, ""],
  ["no status, a Prometheus Operator ServiceMonitor (never has one)",
    { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "s", generation: 1 } }, undefined, ""],
  ["no status, a Prometheus (has one)",
    { apiVersion: "monitoring.coreos.com/v1", kind: "Prometheus", metadata: { name: "p", generation: 1 } }, "Progressing", "No status yet"],
  ["status without anything known", cr({ replicas: 2 }), undefined, ""],

  // Suspension
  ["spec.suspend (Flux)", cr({ conditions: [cond("Ready", "False", "Failed")] }, 1, { spec: { suspend: true } }), "Suspended", "spec.suspend is true"],
  ["spec.paused (Cluster API, Argo Rollouts)", cr({}, 1, { spec: { paused: true } }), "Suspended", "spec.paused is true"],
  ["spec.suspend false is not suspended", cr({ phase: "Running" }, 1, { spec: { suspend: false } }), "Healthy", "status.phase is Running"],

  // kstatus
  ["generation not observed", cr({ observedGeneration: 1, conditions: [cond("Ready", "True")] }, 2), "Progressing",
    "status.observedGeneration 1 is behind metadata.generation 2"],
  ["Stalled wins over Ready", cr({ conditions: [cond("Ready", "True"), cond("Stalled", "True", "Broken", "bad spec")] }),
    "Degraded", "condition Stalled=True (Broken: bad spec)"],
  ["Stalled wins over a generation lag", cr({ observedGeneration: 1, conditions: [cond("Stalled", "True", "Broken")] }, 2),
    "Degraded", "condition Stalled=True (Broken)"],
  ["Reconciling", cr({ conditions: [cond("Reconciling", "True", "Progressing", "applying")] }), "Progressing",
    "condition Reconciling=True (Progressing: applying)"],
  ["Reconciling wins over Ready=False", cr({ conditions: [cond("Ready", "False", "Something"), cond("Reconciling", "True")] }),
    "Progressing", "condition Reconciling=True"],
  ["Ready=True", cr({ conditions: [cond("Ready", "True", "Succeeded")] }), "Healthy", "condition Ready=True (Succeeded)"],
  ["Ready=False with a failure reason", cr({ conditions: [cond("Ready", "False", "AuthFailed", "401")] }), "Degraded",
    "condition Ready=False (AuthFailed: 401)"],
  ["Ready=False with a progressing reason", cr({ conditions: [cond("Ready", "False", "InProgress", "issuing")] }),
    "Progressing", "condition Ready=False (InProgress: issuing)"],
  ["Ready=False whose message says not yet", cr({ conditions: [cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist")] }),
    "Progressing", "condition Ready=False (DoesNotExist: Issuing certificate"],
  ["Ready=False for an unexplained reason", cr({ conditions: [cond("Ready", "False", "Quux")] }), "Degraded", "condition Ready=False (Quux)"],
  ["Ready=Unknown", cr({ conditions: [cond("Ready", "Unknown", "", "")] }), "Progressing", "condition Ready=Unknown"],
  ["Available=True", cr({ conditions: [cond("Available", "True")] }), "Healthy", "Available=True"],

  // Negative condition types
  ["Failed=True", cr({ conditions: [cond("Ready", "True"), cond("Failed", "True", "", "boom")] }), "Degraded", "condition Failed=True (boom)"],
  ["Degraded=True", cr({ conditions: [cond("Degraded", "True", "Quorum", "2 of 3 members")] }), "Degraded", "condition Degraded=True"],
  ["Error=True", cr({ conditions: [cond("Error", "True", "ConfigInvalid")] }), "Degraded", "condition Error=True (ConfigInvalid)"],
  ["a type ending in Failed (InstallFailed)", cr({ conditions: [cond("InstallFailed", "True", "Timeout")] }), "Degraded", "InstallFailed=True"],
  ["a type ending in Error (Argo CronWorkflow SubmissionError)", cr({ conditions: [cond("SubmissionError", "True", "", "bad policy")] }), "Degraded", "SubmissionError=True"],
  ["NotReady=True while creating (Strimzi)", cr({ conditions: [cond("NotReady", "True", "Creating", "being deployed")] }), "Progressing", "NotReady=True (Creating"],
  ["NotReady=True with an error (Strimzi)", cr({ conditions: [cond("NotReady", "True", "InvalidResourceException", "bad config")] }), "Degraded", "NotReady=True (InvalidResourceException"],
  ["Failed=False is fine", cr({ conditions: [cond("Failed", "False"), cond("Ready", "True")] }), "Healthy", "Ready=True"],
  ["Degraded=False is fine", cr({ conditions: [cond("Degraded", "False"), cond("Available", "True")] }), "Healthy", "Available=True"],
  ["Progressing=False, deadline exceeded", cr({ conditions: [cond("Progressing", "False", "ProgressDeadlineExceeded")] }), "Degraded", "Progressing=False (ProgressDeadlineExceeded)"],
  ["Progressing=True alone", cr({ conditions: [cond("Progressing", "True", "ReplicaSetUpdated")] }), "Progressing", "Progressing=True"],
  ["Progressing=True with Available=True", cr({ conditions: [cond("Available", "True"), cond("Progressing", "True", "NewReplicaSetAvailable")] }), "Healthy", "Available=True"],
  ["a busy condition (cert-manager Issuing)", cr({ conditions: [cond("Ready", "False", "DoesNotExist"), cond("Issuing", "True")] }), "Progressing", "Issuing=True"],
  ["Warning=True is not a failure (Strimzi)", cr({ conditions: [cond("Ready", "True"), cond("Warning", "True", "DeprecatedFields")] }), "Healthy", "Ready=True"],

  // Pairs: Crossplane Synced+Ready, Gateway API Accepted+Programmed
  ["worst of Ready and Synced (Crossplane style)",
    cr({ conditions: [cond("Ready", "True"), cond("Synced", "False", "ReconcileError", "cannot update")] }),
    "Degraded", "Synced=False (ReconcileError: cannot update)"],
  ["Crossplane creating", cr({ conditions: [cond("Synced", "True", "ReconcileSuccess"), cond("Ready", "False", "Creating")] }), "Progressing", "Ready=False (Creating)"],
  ["Gateway accepted, not programmed yet", cr({ conditions: [cond("Accepted", "True"), cond("Programmed", "False", "Pending")] }), "Progressing", "Programmed=False (Pending)"],
  ["Gateway not accepted", cr({ conditions: [cond("Accepted", "False", "UnsupportedValue"), cond("Programmed", "False", "Pending")] }), "Degraded", "Accepted=False (UnsupportedValue)"],
  ["HTTPRoute parents all accepted", cr({ parents: [{ parentRef: { name: "gw" }, conditions: [cond("Accepted", "True"), cond("ResolvedRefs", "True")] }] }), "Healthy", "status.parents[gw] condition"],
  ["HTTPRoute not allowed by a listener", cr({ parents: [{ parentRef: { name: "gw" }, conditions: [cond("Accepted", "False", "NotAllowedByListeners")] }] }), "Degraded", "status.parents[gw] condition Accepted=False (NotAllowedByListeners)"],
  ["another type False for a failure reason (Cluster API ResourcesApplied)", cr({ conditions: [cond("ResourcesApplied", "False", "RemoteClusterClientFailed", "Failed to apply resources")] }), "Degraded", "ResourcesApplied=False (RemoteClusterClientFailed"],
  ["other types all True", cr({ conditions: [cond("ResourcesApplied", "True"), cond("Initialized", "True")] }), "Healthy", "all 2 conditions are True (ResourcesApplied, Initialized)"],
  ["other types, one False without a failure reason: no opinion", cr({ conditions: [cond("ResourcesApplied", "True"), cond("Scheduled", "False", "NoNodes")] }), undefined, ""],
  ["secondary readiness (ControlPlaneReady)", cr({ conditions: [cond("ControlPlaneReady", "True"), cond("InfrastructureReady", "True")] }), "Healthy", "ControlPlaneReady=True"],

  // State words: status.phase, status.state, status.status, status.health, status.health.status
  ["phase Running", phase("Running"), "Healthy", "status.phase is Running"],
  ["phase Pending", phase("Pending"), "Progressing", "status.phase is Pending"],
  ["phase Failed with message", cr({ phase: "Failed", message: "quota" }), "Degraded", "status.phase is Failed: quota"],
  ["state words are case- and separator-insensitive", cr({ state: "IN_PROGRESS" }), "Progressing", "status.state is IN_PROGRESS"],
  ["status.status", cr({ status: "Deployed" }), "Healthy", "status.status is Deployed"],
  ["status.health.status", cr({ health: { status: "Degraded" } }), "Degraded", "status.health.status is Degraded"],
  ["ECK health yellow is not guessed", cr({ health: "yellow" }), undefined, ""],
  ["a broken word wins over a good one", cr({ phase: "Ready", health: "red" }), "Degraded", "status.health is red"],
  ["a broken word wins over Ready=True", cr({ phase: "Failed", conditions: [cond("Ready", "True")] }), "Degraded", "status.phase is Failed"],
  ["a compound word's outcome decides (UpdateFailed)", cr({ PostgresClusterStatus: "UpdateFailed" }), "Degraded", "status.PostgresClusterStatus is UpdateFailed"],
  ["a compound word in progress", cr({ clusterState: "UpdateInProgress" }), "Progressing", "status.clusterState is UpdateInProgress"],
  ["a field named like a state with a plain word", cr({ currentPhase: "Running" }), "Healthy", "status.currentPhase is Running"],
  ["Ready=False waiting on a dependency", cr({ conditions: [cond("Ready", "False", "DependencyNotReady", "reference is not ready")] }), "Progressing", "DependencyNotReady"],
  ["Ready=False because the resource is CREATING (ACK)", cr({ conditions: [cond("Ready", "False", "bucket in CREATING state")] }), "Progressing", "CREATING"],
  ["phase Paused", phase("Paused"), "Suspended", "status.phase is Paused"],
  ["phase Stopped", phase("Stopped"), "Suspended", "status.phase is Stopped"],
  ["unknown phase word", phase("Frobnicating"), undefined, ""],
  ["observedGeneration without generation check when absent", cr({ phase: "Active" }, 7), "Healthy", "status.phase is Active"],
  ["malformed conditions are ignored", cr({ conditions: [null, 3, { status: "True" }], phase: "Ready" }), "Healthy",
    "status.phase is Ready"],

  // Replica counts
  ["replicas all ready", cr({ replicas: 3, readyReplicas: 3, updatedReplicas: 3 }, 1, { spec: { replicas: 3 } }), "Healthy", "status.readyReplicas is 3 of spec.replicas 3"],
  ["replicas not ready yet", cr({ replicas: 3, readyReplicas: 1 }, 1, { spec: { replicas: 3 } }), "Progressing", "status.readyReplicas is 1 of spec.replicas 3"],
];

// Words that must never become Degraded: they do not say broken.
for (const word of ["Unknown", "Warning", "Inactive", "Disabled", "Terminated", "Offline", "Unavailable", "NotReady", "Yellow", "HEALTH_WARN", "Stopped", "Suspended", "Scaling", "Degrading?"]) {
  cases.push([`the word ${word} is not Degraded`, phase(word), "not Degraded", ""]);
}

for (const [name, obj, status, message] of cases) {
  test(`generic rule: ${name}`, () => {
    const health = assessHealth(obj);
    if (status === "not Degraded") assert.notEqual(health?.status, "Degraded", health?.message);
    else assert.equal(health?.status, status);
    if (message) assert.ok(health?.message.includes(message), `message was: ${health?.message}`);
    if (health && obj.kind === "Widget") assert.equal(health.rule, "generic");
  });
}

test("an object being deleted is Progressing whatever its status says", () => {
  const obj = cr({ conditions: [cond("Ready", "False", "Failed")] });
  obj.metadata.deletionTimestamp = "2025-05-02T00:00:00Z";
  assert.deepEqual(assessHealth(obj), { status: "Progressing", message: "Pending deletion", rule: "built-in" });
});

test("a built-in check never throws on garbage fields", () => {
  const kinds = [
    ["apps/v1", "Deployment"], ["apps/v1", "StatefulSet"], ["apps/v1", "DaemonSet"], ["apps/v1", "ReplicaSet"],
    ["v1", "Pod"], ["v1", "Service"], ["v1", "PersistentVolumeClaim"], ["v1", "Namespace"],
    ["networking.k8s.io/v1", "Ingress"], ["batch/v1", "Job"], ["batch/v1", "CronJob"],
    ["autoscaling/v1", "HorizontalPodAutoscaler"], ["autoscaling/v2", "HorizontalPodAutoscaler"],
    ["apiregistration.k8s.io/v1", "APIService"], ["apiextensions.k8s.io/v1", "CustomResourceDefinition"],
  ];
  const garbage = [undefined, null, 3, "x", [], { conditions: "nope", replicas: "3", loadBalancer: [] }];
  for (const [apiVersion, kind] of kinds) {
    for (const value of garbage) {
      const obj = { apiVersion, kind, metadata: { annotations: { "autoscaling.alpha.kubernetes.io/conditions": "{" } },
        spec: value, status: value } as KubeObject;
      assert.doesNotThrow(() => assessHealth(obj), `${kind} with ${JSON.stringify(value)}`);
    }
  }
});
