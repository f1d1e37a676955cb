// One fixture per kind and state (test/fixtures/health/<kind>[-<version>]-<state>.yaml), one line each:
// a new edge case is a new file and a new row. Most are captured from real objects by
// scripts/capture-health-fixtures.ts (re-run it and the messages below stay true); the hand-written ones, states
// the local control plane cannot produce, are listed in test/fixtures/health/README.md.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { load } from "js-yaml";
import type { KubeObject } from "../../../src/api/kube-object.ts";
import { assessHealth, type HealthStatusCode } from "../../../src/health/index.ts";

const dir = new URL("../../fixtures/health/", import.meta.url);

const cases: Array<[file: string, status: HealthStatusCode | undefined, message: string]> = [
  ["deployment-healthy.yaml", "Healthy", "3 of 3 replicas are updated and available"],
  ["deployment-progressing.yaml", "Progressing", "Waiting for rollout to finish: 1 of 3 updated replicas are available"],
  ["deployment-progressing-generation.yaml", "Progressing", "observed deployment generation less than desired"],
  ["deployment-degraded.yaml", "Degraded", "Deployment exceeded its progress deadline: ReplicaSet \"worker-"],
  ["deployment-suspended.yaml", "Suspended", "Deployment is paused"],
  ["statefulset-healthy.yaml", "Healthy", "Partitioned roll out complete: 3 new pods"],
  ["statefulset-progressing.yaml", "Progressing", "Waiting for 2 pods to be ready"],
  ["statefulset-ondelete-healthy.yaml", "Healthy", "StatefulSet has 3 ready pods"],
  ["statefulset-partition-progressing.yaml", "Progressing", "Waiting for 1 pods to be ready"],
  ["statefulset-partition-updating-progressing.yaml", "Progressing", "1 out of 2 new pods have been updated"],
  ["daemonset-healthy.yaml", "Healthy", "2 of 2 pods are updated and available"],
  ["daemonset-progressing.yaml", "Progressing", "Waiting for daemon set rollout to finish: 0 of 2 updated pods are available"],
  ["daemonset-rollout-progressing.yaml", "Progressing", "Waiting for daemon set rollout to finish: 1 out of 2 new pods have been updated"],
  ["replicaset-healthy.yaml", "Healthy", "3 of 3 replicas are available"],
  ["replicaset-progressing.yaml", "Progressing", "Waiting for rollout to finish: 0 out of 3 new replicas are available"],
  ["replicaset-degraded.yaml", "Degraded", "is forbidden: exceeded quota: no-pods"],
  ["pod-healthy.yaml", "Healthy", "Pod is running and ready"],
  ["pod-crashloop-degraded.yaml", "Degraded", "container \"api\" is CrashLoopBackOff: back-off 10s"],
  ["pod-imagepullbackoff-degraded.yaml", "Degraded", "container \"api\" is ImagePullBackOff: Back-off pulling image"],
  ["pod-hook-imagepull-progressing.yaml", "Progressing", "Pod is pending"],
  ["pod-pending-progressing.yaml", "Progressing", "Pod is pending: Unschedulable: 0/2 nodes are available: 2 Insufficient cpu"],
  ["pod-succeeded-healthy.yaml", "Healthy", "Pod completed successfully"],
  ["pod-failed-degraded.yaml", "Degraded", "container \"api\" failed with exit code 1"],
  ["pod-oomkilled-degraded.yaml", "Degraded", "last state: OOMKilled"],
  ["service-healthy.yaml", "Healthy", "Service of type ClusterIP"],
  ["service-loadbalancer-progressing.yaml", "Progressing", "Waiting for the load balancer to be assigned an address"],
  ["service-loadbalancer-healthy.yaml", "Healthy", "Load balancer is ready at 203.0.113.10"],
  ["service-loadbalancer-empty-entry-healthy.yaml", "Healthy", "status.loadBalancer.ingress has an entry without an address"],
  ["ingress-healthy.yaml", "Healthy", "Ingress is served at lb-1234.elb.example.com"],
  ["ingress-progressing.yaml", "Progressing", "Waiting for the ingress controller to assign an address"],
  ["ingress-empty-entry-healthy.yaml", "Healthy", "status.loadBalancer.ingress has an entry without an address"],
  ["pvc-healthy.yaml", "Healthy", "Claim is bound"],
  ["pvc-pending-healthy.yaml", "Healthy", "waiting for a consumer"],
  ["pvc-provisioning-progressing.yaml", "Progressing", "Provisioning volume (provisioner ebs.csi.aws.com)"],
  ["pvc-degraded.yaml", "Degraded", "Claim lost its volume"],
  ["job-healthy.yaml", "Healthy", "Reached expected number of succeeded pods"],
  ["job-degraded.yaml", "Degraded", "Job has reached the specified backoff limit"],
  ["job-progressing.yaml", "Progressing", "Job is running: 2 active, 0 of 5 completions succeeded"],
  ["job-suspended.yaml", "Suspended", "Job suspended"],
  ["cronjob-healthy.yaml", "Healthy", "last job completed successfully"],
  ["cronjob-degraded.yaml", "Degraded", "last job did not complete successfully"],
  ["cronjob-progressing.yaml", "Progressing", "CronJob has active jobs"],
  ["cronjob-suspended.yaml", "Suspended", "CronJob is suspended"],
  ["cronjob-never-scheduled-healthy.yaml", "Healthy", "has not scheduled a job yet"],
  ["hpa-v1-healthy.yaml", "Healthy", "AbleToScale: ReadyForNewScale: recommended size matches current size"],
  ["hpa-v1-degraded.yaml", "Degraded", "FailedGetScale: the HPA controller was unable to get the target's current scale: deployments.apps \"orders\" not found"],
  ["hpa-v2-healthy.yaml", "Healthy", "SucceededRescale: the HPA controller was able to update the target scale to 3"],
  // Argo CD walks the conditions in order: AbleToScale=True comes first here, so the failed metric never counts.
  ["hpa-v2-no-metrics-healthy.yaml", "Healthy", "AbleToScale: SucceededGetScale"],
  ["hpa-v2-degraded.yaml", "Degraded", "AbleToScale: FailedGetScale: the HPA controller was unable to get the target's current scale"],
  ["hpa-v2-scaling-disabled-healthy.yaml", "Healthy", "AbleToScale: SucceededGetScale"],
  ["hpa-v2-scalingactive-progressing.yaml", "Progressing", "Waiting to autoscale"],
  ["hpa-v2-progressing.yaml", "Progressing", "Waiting to autoscale"],
  ["apiservice-healthy.yaml", "Healthy", "Local: Local APIServices are always available"],
  ["apiservice-progressing.yaml", "Progressing", "MissingEndpoints: endpointslices for service/metrics-server"],
  ["crd-healthy.yaml", "Healthy", "CRD is established"],
  ["crd-names-degraded.yaml", "Degraded", "CRD names have not been accepted: \"cert\" is already in use"],
  ["crd-nonstructural-degraded.yaml", "Degraded", "Schema violations found: spec.versions[0]"],
  ["namespace-healthy.yaml", "Healthy", "Namespace is active"],
  ["namespace-terminating-progressing.yaml", "Progressing", "Pending deletion"],
  ["workflow-progressing.yaml", "Progressing", "Workflow phase Running"],
  ["workflow-healthy.yaml", "Healthy", "Workflow phase Succeeded"],
  ["workflow-degraded.yaml", "Degraded", "Workflow phase Failed: child 'nightly-report-x7k2p-1234' failed"],
  ["application-healthy.yaml", "Healthy", "status.health.status is Healthy"],
  ["application-degraded.yaml", "Degraded", "Deployment \"payments\" exceeded its progress deadline"],
  ["application-progressing.yaml", "Progressing", "Waiting for the Application to report status.health"],
  // The generic rule (custom resources without a rule): one fixture per convention.
  // A shipped rule decides these two kinds now (test/unit/health/shipped.test.ts); both name the Ready/Stalled text.
  ["certificate-generic-healthy.yaml", "Healthy", "Certificate is up to date"],
  ["kustomization-generic-degraded.yaml", "Degraded", "kustomize build failed"],
  ["generic-unseen-progressing.yaml", "Progressing", "No status yet: its controller has not seen it"],
  ["generic-manifest-none.yaml", undefined, ""],
  ["servicemonitor-none.yaml", undefined, ""],
  ["generic-suspend-suspended.yaml", "Suspended", "spec.suspend is true"],
  ["generic-failed-condition-degraded.yaml", "Degraded", "condition Failed=True (PGUpgradeFailed: pg_upgrade exited with code 1"],
  ["generic-notready-creating-progressing.yaml", "Progressing", "condition NotReady=True (Creating: Kafka cluster is being deployed)"],
  ["generic-crossplane-healthy.yaml", "Healthy", "condition Ready=True (Available)"],
  ["generic-crossplane-creating-progressing.yaml", "Progressing", "condition Ready=False (Creating)"],
  ["generic-crossplane-reconcileerror-degraded.yaml", "Degraded", "condition Synced=False (ReconcileError: update failed"],
  ["generic-gateway-healthy.yaml", "Healthy", "condition Accepted=True"],
  ["generic-httproute-degraded.yaml", "Degraded", "status.parents[edge] condition ResolvedRefs=False (BackendNotFound: Service shop/web-v2 not found)"],
  ["generic-health-red-degraded.yaml", "Degraded", "status.health is red"],
  ["generic-state-healthy.yaml", "Healthy", "status.state is ready"],
  ["generic-phase-unknown-none.yaml", undefined, ""],
  ["generic-observedgeneration-progressing.yaml", "Progressing", "status.observedGeneration 3 is behind metadata.generation 4"],
  ["generic-replicas-progressing.yaml", "Progressing", "status.updatedReplicas is 1 of spec.replicas 4"],
  ["generic-secondary-ready-progressing.yaml", "Progressing", "condition InfrastructureReady=False (WaitingForInfrastructure)"],
  ["configmap-none.yaml", undefined, ""],
];

for (const [file, status, message] of cases) {
  test(`${file} → ${status ?? "no opinion"}`, () => {
    const obj = load(readFileSync(new URL(file, dir), "utf8")) as KubeObject;
    const health = assessHealth(obj);
    assert.equal(health?.status, status);
    // Where a rule shipped with Tack knows the kind it decides first (its own fixtures are in shipped/); the status
    // must still agree with the generic or built-in reading of the same object.
    if (health?.rule === "shipped") return;
    if (message) assert.ok(health?.message.includes(message), `message was: ${health?.message}`);
    // Custom resources without a rule of their own are the generic rule's; everything else has a built-in check.
    if (health) assert.equal(health.rule, file.includes("generic") ? "generic" : "built-in");
  });
}

test("every fixture has a row, and every row a fixture", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
  assert.deepEqual(files, cases.map(([f]) => f).sort());
});

test("a fixture is captured (first-line comment) unless README.md lists it as hand-written, and why", () => {
  const readme = readFileSync(new URL("README.md", dir), "utf8");
  const handWrittenSection = readme.slice(readme.indexOf("## Hand-written"));
  // The names in the first column of its table.
  const firstCells = handWrittenSection.split("\n").filter((l) => l.startsWith("| `")).map((l) => l.split("|")[1] ?? "");
  const listed = new Set(firstCells.flatMap((cell) => [...cell.matchAll(/`([a-z0-9-]+)`/g)].map((m) => `${m[1]}.yaml`)));
  const handWritten = readdirSync(dir).filter((f) => f.endsWith(".yaml"))
    .filter((f) => !readFileSync(new URL(f, dir), "utf8").startsWith("# Captured from a real API server")).sort();
  assert.deepEqual(handWritten, [...listed].filter((f) => cases.some(([c]) => c === f)).sort());
});
