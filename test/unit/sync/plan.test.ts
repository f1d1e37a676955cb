import { test } from "node:test";
import assert from "node:assert/strict";
import { applySteps, kindRank } from "../../../src/sync/plan.ts";
import type { KubeObject } from "../../../src/api/index.ts";

const o = (apiVersion: string, kind: string, name: string): { desired: KubeObject } => ({ desired: { apiVersion, kind, metadata: { name } } });

test("namespaces, then CRDs, then everything else in kind order", () => {
  const steps = applySteps([o("apps/v1", "Deployment", "web"), o("v1", "ConfigMap", "cfg"), o("v1", "Namespace", "prod"),
    o("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.x.io"), o("x.io/v1", "Widget", "w"), o("v1", "ServiceAccount", "sa")]);
  assert.deepEqual(steps.map((s) => s.map((i) => i.desired.kind)),
    [["Namespace"], ["CustomResourceDefinition"], ["ServiceAccount", "ConfigMap", "Deployment", "Widget"]]);
});

test("a custom kind named like a built-in is not ranked as one", () => {
  assert.equal(kindRank({ apiVersion: "v1", kind: "Secret" }), 4);
  assert.equal(kindRank({ apiVersion: "example.com/v1", kind: "Secret" }), 7);
});
