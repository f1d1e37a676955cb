import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../../src/api/kube-object.ts";
import { assessHealth } from "../../../src/health/index.ts";

function cr(status: unknown, generation = 1): KubeObject {
  return { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "ns", generation }, status };
}
const cond = (type: string, status: string, reason = "", message = "") => ({ type, status, reason, message });

const cases: Array<[name: string, obj: KubeObject, status: string | undefined, message: string]> = [
  ["no status at all", cr(undefined), undefined, ""],
  ["empty status", cr({}), undefined, ""],
  ["status without anything known", cr({ replicas: 2 }), undefined, ""],
  ["generation not observed", cr({ observedGeneration: 1, conditions: [cond("Ready", "True")] }, 2), "Progressing",
    "observe generation 2 (observed 1)"],
  ["Stalled wins over Ready", cr({ conditions: [cond("Ready", "True"), cond("Stalled", "True", "Broken", "bad spec")] }),
    "Degraded", "Stalled: Broken: bad spec"],
  ["Reconciling", cr({ conditions: [cond("Reconciling", "True", "Progressing", "applying")] }), "Progressing",
    "Reconciling: Progressing: applying"],
  ["Ready=True", cr({ conditions: [cond("Ready", "True", "Succeeded")] }), "Healthy", "condition Ready=True (Succeeded)"],
  ["Ready=False with a failure reason", cr({ conditions: [cond("Ready", "False", "AuthFailed", "401")] }), "Degraded",
    "condition Ready=False (AuthFailed: 401)"],
  ["Ready=False with a progressing reason", cr({ conditions: [cond("Ready", "False", "InProgress", "issuing")] }),
    "Progressing", "condition Ready=False (InProgress: issuing)"],
  ["Ready=Unknown", cr({ conditions: [cond("Ready", "Unknown", "", "")] }), "Progressing", "condition Ready=Unknown"],
  ["Available=True", cr({ conditions: [cond("Available", "True")] }), "Healthy", "Available=True"],
  ["worst of Ready and Synced (Crossplane style)",
    cr({ conditions: [cond("Ready", "True"), cond("Synced", "False", "ReconcileError", "cannot update")] }),
    "Degraded", "Synced=False (ReconcileError: cannot update)"],
  ["phase Running", cr({ phase: "Running" }), "Healthy", "Phase Running"],
  ["phase Pending", cr({ phase: "Pending" }), "Progressing", "Phase Pending"],
  ["phase Failed with message", cr({ phase: "Failed", message: "quota" }), "Degraded", "Phase Failed: quota"],
  ["unknown phase word", cr({ phase: "Frobnicating" }), undefined, ""],
  ["observedGeneration without generation check when absent", cr({ phase: "Active" }, 7), "Healthy", "Phase Active"],
  ["malformed conditions are ignored", cr({ conditions: [null, 3, { status: "True" }], phase: "Ready" }), "Healthy",
    "Phase Ready"],
];

for (const [name, obj, status, message] of cases) {
  test(`generic rule: ${name}`, () => {
    const health = assessHealth(obj);
    assert.equal(health?.status, status);
    if (message) assert.ok(health?.message.includes(message), `message was: ${health?.message}`);
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
