// One fixture per kind and state (test/fixtures/health/<kind>[-<version>]-<state>.yaml), one line each:
// a new edge case is a new file and a new row.

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
  ["deployment-degraded.yaml", "Degraded", "exceeded its progress deadline: ReplicaSet \"api-5f9c7d8b8d\" has timed out"],
  ["deployment-suspended.yaml", "Suspended", "Deployment is paused"],
  ["statefulset-healthy.yaml", "Healthy", "Partitioned roll out complete: 3 new pods"],
  ["statefulset-progressing.yaml", "Progressing", "Waiting for 2 pods to be ready"],
  ["statefulset-ondelete-healthy.yaml", "Healthy", "StatefulSet has 3 ready pods"],
  ["statefulset-partition-progressing.yaml", "Progressing", "1 out of 2 new pods have been updated"],
  ["daemonset-healthy.yaml", "Healthy", "3 of 3 pods are updated and available"],
  ["daemonset-progressing.yaml", "Progressing", "1 out of 3 new pods have been updated"],
  ["replicaset-healthy.yaml", "Healthy", "3 of 3 replicas are available"],
  ["replicaset-degraded.yaml", "Degraded", "FailedCreate: pods \"api-6c7d8e9f0a-\" is forbidden: exceeded quota"],
  ["pod-healthy.yaml", "Healthy", "Pod is running and ready"],
  ["pod-crashloop-degraded.yaml", "Degraded", "container \"api\" is CrashLoopBackOff: back-off 2m40s"],
  ["pod-imagepullbackoff-degraded.yaml", "Degraded", "container \"api\" is ImagePullBackOff: Back-off pulling image"],
  ["pod-hook-imagepull-progressing.yaml", "Progressing", "Pod is pending"],
  ["pod-pending-progressing.yaml", "Progressing", "Unschedulable: 0/3 nodes are available: 3 Insufficient cpu"],
  ["pod-succeeded-healthy.yaml", "Healthy", "Pod completed successfully"],
  ["pod-failed-degraded.yaml", "Degraded", "container \"migrate\" failed with exit code 3"],
  ["pod-oomkilled-degraded.yaml", "Degraded", "last state: OOMKilled"],
  ["service-healthy.yaml", "Healthy", "Service of type ClusterIP"],
  ["service-loadbalancer-progressing.yaml", "Progressing", "Waiting for the load balancer to be assigned an address"],
  ["service-loadbalancer-healthy.yaml", "Healthy", "Load balancer is ready at 203.0.113.10"],
  ["ingress-healthy.yaml", "Healthy", "Ingress is served at lb-1234.elb.example.com"],
  ["ingress-progressing.yaml", "Progressing", "Waiting for the ingress controller to assign an address"],
  ["pvc-healthy.yaml", "Healthy", "Claim is bound"],
  ["pvc-progressing.yaml", "Progressing", "Waiting for the claim to be bound"],
  ["pvc-degraded.yaml", "Degraded", "Claim lost its volume"],
  ["job-healthy.yaml", "Healthy", "Reached expected number of succeeded pods"],
  ["job-degraded.yaml", "Degraded", "Job has reached the specified backoff limit"],
  ["job-progressing.yaml", "Progressing", "Job is running: 2 active, 1 of 5 completions succeeded"],
  ["job-suspended.yaml", "Suspended", "Job is suspended"],
  ["cronjob-healthy.yaml", "Healthy", "last job completed successfully"],
  ["cronjob-degraded.yaml", "Degraded", "last job did not complete successfully"],
  ["cronjob-progressing.yaml", "Progressing", "CronJob has active jobs"],
  ["cronjob-suspended.yaml", "Suspended", "CronJob is suspended"],
  ["cronjob-never-scheduled-healthy.yaml", "Healthy", "has not scheduled a job yet"],
  ["hpa-v1-healthy.yaml", "Healthy", "DesiredWithinRange: the desired count is within the acceptable range"],
  ["hpa-v1-degraded.yaml", "Degraded", "FailedGetScale: the HPA controller was unable to get the target's current scale"],
  ["hpa-v2-healthy.yaml", "Healthy", "SucceededRescale: the HPA controller was able to update the target scale to 3"],
  ["hpa-v2-degraded.yaml", "Degraded", "FailedGetResourceMetric: the HPA was unable to compute the replica count"],
  ["hpa-v2-progressing.yaml", "Progressing", "Waiting to autoscale"],
  ["apiservice-healthy.yaml", "Healthy", "Passed: all checks passed"],
  ["apiservice-progressing.yaml", "Progressing", "MissingEndpoints: endpoints for service/metrics-server"],
  ["crd-healthy.yaml", "Healthy", "CRD is established"],
  ["crd-names-degraded.yaml", "Degraded", "CRD names have not been accepted: \"cert\" is already in use"],
  ["crd-nonstructural-degraded.yaml", "Degraded", "Schema violations found: spec.versions[0]"],
  ["namespace-healthy.yaml", "Healthy", "Namespace is active"],
  ["namespace-terminating-progressing.yaml", "Progressing", "Pending deletion"],
  ["certificate-generic-healthy.yaml", "Healthy", "condition Ready=True (Ready: Certificate is up to date"],
  ["kustomization-generic-degraded.yaml", "Degraded", "Stalled: BuildFailed: kustomize build failed"],
  ["configmap-none.yaml", undefined, ""],
];

for (const [file, status, message] of cases) {
  test(`${file} → ${status ?? "no opinion"}`, () => {
    const obj = load(readFileSync(new URL(file, dir), "utf8")) as KubeObject;
    const health = assessHealth(obj);
    assert.equal(health?.status, status);
    if (message) assert.ok(health?.message.includes(message), `message was: ${health?.message}`);
  });
}

test("every fixture has a row, and every row a fixture", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
  assert.deepEqual(files, cases.map(([f]) => f).sort());
});
