import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../../src/api/kube-object.ts";
import { assessHealth, compileHealthRules } from "../../../src/health/index.ts";

const certificateRules = `
- when: '!has(object.status) || !has(object.status.conditions)'
  status: Progressing
  message: Waiting for cert-manager to look at the certificate
- when: 'object.status.conditions.exists(c, c.type == "Ready" && c.status == "True")'
  status: Healthy
  messageExpression: '"Certificate is valid until " + object.status.notAfter'
- when: 'object.status.conditions.exists(c, c.type == "Issuing" && c.status == "True")'
  status: Progressing
  message: Issuing
- when: 'true'
  status: Degraded
  messageExpression: 'object.status.conditions.filter(c, c.type == "Ready").map(c, c.message).join("; ")'
`;

function certificate(status?: unknown): KubeObject {
  return { apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name: "tls", namespace: "shop" },
    spec: { secretName: "tls" }, ...(status === undefined ? {} : { status }) };
}

function widget(extra: Record<string, unknown>): KubeObject {
  return { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, ...extra };
}

test("rules compile and decide in order", () => {
  const { rules, errors } = compileHealthRules({ "cert-manager.io_Certificate": certificateRules });
  assert.deepEqual(errors, []);
  assert.deepEqual(assessHealth(certificate(), rules),
    { status: "Progressing", message: "Waiting for cert-manager to look at the certificate", rule: "cel" });
  assert.deepEqual(
    assessHealth(certificate({ notAfter: "2026-01-01T00:00:00Z", conditions: [{ type: "Ready", status: "True" }] }), rules),
    { status: "Healthy", message: "Certificate is valid until 2026-01-01T00:00:00Z", rule: "cel" });
  assert.deepEqual(
    assessHealth(certificate({ conditions: [{ type: "Ready", status: "False", message: "issuer not found" }] }), rules),
    { status: "Degraded", message: "issuer not found", rule: "cel" });
});

test("integer fields compare as CEL ints, and optional chaining works", () => {
  const { rules, errors } = compileHealthRules({
    "example.com_Widget": `
- when: 'object.spec.replicas == object.?status.?readyReplicas.orValue(0) && object.spec.replicas + 1 == 4'
  status: Healthy
  messageExpression: 'string(object.spec.replicas) + " ready"'
`,
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(assessHealth(widget({ spec: { replicas: 3 }, status: { readyReplicas: 3 } }), rules),
    { status: "Healthy", message: "3 ready", rule: "cel" });
});

test("a rule that matches nothing defers to the built-in check", () => {
  const { rules } = compileHealthRules({
    apps_Deployment: `
- when: 'has(object.metadata.labels) && object.metadata.labels["tier"] == "batch"'
  status: Suspended
  message: batch tier is never rolled out
`,
  });
  const deployment: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", generation: 1 },
    spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 } };
  assert.equal(assessHealth(deployment, rules)?.status, "Healthy");
  assert.equal(assessHealth(deployment, rules)?.rule, "built-in");
  deployment.metadata.labels = { tier: "batch" };
  assert.deepEqual(assessHealth(deployment, rules), { status: "Suspended", message: "batch tier is never rolled out", rule: "cel" });
});

test("core kinds are keyed as Kind or _Kind", () => {
  const rule = `
- when: 'true'
  status: Healthy
  message: custom
`;
  for (const key of ["ConfigMap", "_ConfigMap"]) {
    const { rules, errors } = compileHealthRules({ [key]: rule });
    assert.deepEqual(errors, []);
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } };
    assert.equal(assessHealth(cm, rules)?.message, "custom");
  }
});

test("a rule that would loop forever is stopped by the step budget and gives Unknown", () => {
  // CEL has no loops; the nearest thing is nested comprehensions over a large list (10^10 iterations here).
  const { rules, errors } = compileHealthRules({
    "example.com_Widget": `
- when: 'object.items.all(x, object.items.all(y, x + y >= 0))'
  status: Healthy
`,
  });
  assert.deepEqual(errors, []);
  const items = Array.from({ length: 100_000 }, (_, i) => i);
  const started = performance.now();
  const health = assessHealth(widget({ items }), rules);
  const elapsed = performance.now() - started;
  assert.equal(health?.status, "Unknown");
  assert.match(health?.message ?? "", /example\.com_Widget #1 exceeded its evaluation budget/);
  assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
});

test("comprehensions over literal lists are metered too", () => {
  const literal = `[${Array.from({ length: 32 }, (_, i) => i).join(",")}]`;
  const { rules, errors } = compileHealthRules({
    "example.com_Widget": `
- when: 'object.items.all(x, ${literal}.all(y, x * y * y * y * y * y * y * y >= 0 && x + y + y + y + y + y + y >= 0))'
  status: Healthy
`,
  });
  assert.deepEqual(errors, []);
  const started = performance.now();
  const health = assessHealth(widget({ items: Array.from({ length: 100_000 }, (_, i) => i) }), rules);
  assert.equal(health?.status, "Unknown");
  assert.ok(performance.now() - started < 2_000);
});

test("a rule that throws at evaluation gives Unknown with the reason", () => {
  const { rules, errors } = compileHealthRules({
    "example.com_Widget": `
- when: 'object.status.phase == "Ready"'
  status: Healthy
- when: 'int(object.spec.size) > 3'
  status: Degraded
`,
  });
  assert.deepEqual(errors, []);
  const missing = assessHealth(widget({ spec: {} }), rules);
  assert.equal(missing?.status, "Unknown");
  assert.match(missing?.message ?? "", /example\.com_Widget #1 failed: No such key: status/);
  const bad = assessHealth(widget({ spec: { size: "big" }, status: { phase: "Pending" } }), rules);
  assert.equal(bad?.status, "Unknown");
  assert.match(bad?.message ?? "", /#2 failed/);
});

test("a when that is not a bool at run time gives Unknown", () => {
  const { rules } = compileHealthRules({ "example.com_Widget": "- when: 'object.spec.flag'\n  status: Healthy\n" });
  const health = assessHealth(widget({ spec: { flag: "yes" } }), rules);
  assert.equal(health?.status, "Unknown");
});

test("compile errors are reported and make the kind Unknown rather than silently ignored", () => {
  const { rules, errors } = compileHealthRules({
    "example.com_Widget": "- when: 'object.status.(('\n  status: Healthy\n",
    "example.com_Gadget": "- when: 'true'\n  status: Fine\n",
    "example.com_Regex": "- when: 'object.metadata.name.matches(\"(a+)+$\")'\n  status: Healthy\n",
    "example.com_Split": "- when: 'size(object.metadata.name.split(\"\")) > 1'\n  status: Healthy\n",
    "example.com_Nested": "- when: 'object.a.all(x, object.b.all(y, object.c.all(z, true)))'\n  status: Healthy\n",
    "example.com_Typo": "- when: 'true'\n  status: Healthy\n  mesage: typo\n",
    "example.com_NotList": "when: 'true'\nstatus: Healthy\n",
    "example.com_NotBool": "- when: '\"yes\"'\n  status: Healthy\n",
    "bad key": "- when: 'true'\n  status: Healthy\n",
    Secret: "- when: 'true'\n  status: Healthy\n  messageExpression: 'string(object.data)'\n",
  });
  const byKey = new Map(errors.map((e) => [e.key, e.message]));
  assert.equal(byKey.size, 10);
  assert.match(byKey.get("example.com_Gadget") ?? "", /'status' must be one of/);
  assert.match(byKey.get("example.com_Regex") ?? "", /matches\(\) is not available/);
  assert.match(byKey.get("example.com_Split") ?? "", /split\(\) is not available/);
  assert.match(byKey.get("example.com_Nested") ?? "", /nested at most 2 deep/);
  assert.match(byKey.get("example.com_Typo") ?? "", /unknown field mesage/);
  assert.match(byKey.get("example.com_NotList") ?? "", /expected a YAML list/);
  assert.match(byKey.get("example.com_NotBool") ?? "", /expected bool/);
  assert.match(byKey.get("bad key") ?? "", /group_Kind/);
  assert.match(byKey.get("Secret") ?? "", /Secrets are not allowed/);
  const health = assessHealth(widget({ status: { phase: "Running" } }), rules);
  assert.equal(health?.status, "Unknown");
  assert.match(health?.message ?? "", /health rule example\.com_Widget is invalid/);
  // Keys that are not kinds and Secret get no check at all: the built-in or generic rule still applies.
  assert.equal(rules.checks.has("Secret"), false);
});

test("rules cannot change the object they read", () => {
  const { rules, errors } = compileHealthRules({
    "example.com_Widget": "- when: 'object.spec.replicas == 1'\n  status: Healthy\n  message: ok\n",
  });
  assert.deepEqual(errors, []);
  const obj = widget({ spec: { replicas: 1 } });
  const before = JSON.stringify(obj);
  assessHealth(obj, rules);
  assert.equal(JSON.stringify(obj), before);
});
