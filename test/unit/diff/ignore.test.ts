import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  applyIgnoreRules, globMatch, ignoredPaths, parsePointer, pathsOwnedBy, removePaths, removePointers, respectIgnored, rulesFor,
  type ResourceIgnoreDifferences,
} from "../../../src/diff/ignore.ts";
import { JqEvaluator } from "../../../src/jq/index.ts";
import { differences } from "../../../src/diff/index.ts";
import type { KubeObject } from "../../../src/api/index.ts";

const jq = new JqEvaluator();
after(() => jq.close());

// ------------------------------------------------------------------------------------------------ pointers

test("JSON pointers: ~0/~1 escapes, array indices, missing paths ignored", () => {
  assert.deepEqual(parsePointer("/metadata/annotations/example.com~1owner~0x"), ["metadata", "annotations", "example.com/owner~x"]);
  assert.equal(parsePointer("spec"), undefined);
  const obj = {
    metadata: { annotations: { "example.com/owner~x": "a", keep: "b" } },
    spec: { ports: [{ port: 80 }, { port: 443, name: "https" }], "a/b": 1, "~": 2 },
  };
  const out = removePointers(obj, ["/metadata/annotations/example.com~1owner~0x", "/spec/ports/1/name", "/spec/a~1b", "/spec/~0", "/spec/missing/deep", "/spec/ports/7", "/spec/ports/x"]);
  assert.deepEqual(out, { metadata: { annotations: { keep: "b" } }, spec: { ports: [{ port: 80 }, { port: 443 }] } });
  assert.equal(obj.spec["a/b"], 1, "the input is not changed");
});

test("several indices of one array are removed as they were numbered before any removal", () => {
  const out = removePointers({ list: ["a", "b", "c", "d"] }, ["/list/1", "/list/2"]);
  assert.deepEqual(out, { list: ["a", "d"] });
});

test("a map or list emptied by a removal goes with it; one that was empty stays", () => {
  const out = removePointers({ metadata: { annotations: { x: "1" }, labels: {} }, spec: { list: [{ a: 1 }] } }, ["/metadata/annotations/x", "/spec/list/0/a"]);
  assert.deepEqual(out, { metadata: { labels: {} } });
  const obj = { a: 1 };
  assert.equal(removePointers(obj, ["/nope"]), obj, "nothing removed: the same object");
  assert.deepEqual(removePointers(obj, [""]), obj, "the whole object is never removed");
});

// ------------------------------------------------------------------------------------------------ matching

test("rules match by group and kind (globs), name and namespace (exact, empty = any)", () => {
  const rules: ResourceIgnoreDifferences[] = [
    { group: "apps", kind: "Deployment", jsonPointers: ["/a"] },
    { kind: "ConfigMap", jsonPointers: ["/b"] },
    { group: "apps", kind: "Deployment", name: "web", namespace: "prod", jsonPointers: ["/c"] },
    { group: "*", kind: "*", managedFieldsManagers: ["hpa"] },
    { group: "apps", kind: "Deployment", name: "web", jsonPointers: ["/d"] },
    { group: "*.example.com", kind: "Widget{,Set}", jsonPointers: ["/e"] },
    { kind: "Deployment", jsonPointers: ["/f"] },
  ];
  const pointers = (key: { group: string; kind: string; namespace: string; name: string }): string[] =>
    rulesFor(rules, key).flatMap((r) => r.jsonPointers ?? r.managedFieldsManagers ?? []);
  assert.deepEqual(pointers({ group: "apps", kind: "Deployment", namespace: "prod", name: "web" }), ["/a", "/c", "hpa", "/d"]);
  assert.deepEqual(pointers({ group: "apps", kind: "Deployment", namespace: "dev", name: "web" }), ["/a", "hpa", "/d"]);
  assert.deepEqual(pointers({ group: "apps", kind: "Deployment", namespace: "prod", name: "api" }), ["/a", "hpa"]);
  // An omitted group is the core group (as in Argo CD): it does not match apps/Deployment.
  assert.deepEqual(pointers({ group: "", kind: "ConfigMap", namespace: "x", name: "y" }), ["/b", "hpa"]);
  assert.deepEqual(pointers({ group: "", kind: "Deployment", namespace: "x", name: "y" }), ["hpa", "/f"]);
  assert.deepEqual(pointers({ group: "apps.example.com", kind: "WidgetSet", namespace: "", name: "w" }), ["hpa", "/e"]);
  assert.deepEqual(pointers({ group: "example.com", kind: "Widget", namespace: "", name: "w" }), ["hpa"]);
});

test("glob syntax: *, ?, classes, alternatives, escapes; an invalid pattern matches nothing", () => {
  assert.ok(globMatch("*", ""));
  assert.ok(globMatch("apps", "apps"));
  assert.ok(!globMatch("apps", "apps2"));
  assert.ok(globMatch("ap?s", "apps"));
  assert.ok(globMatch("[a-c]pps", "apps"));
  assert.ok(!globMatch("[!a]pps", "apps"));
  assert.ok(globMatch("{apps,batch}", "batch"));
  assert.ok(globMatch("a\\*", "a*"));
  assert.ok(!globMatch("a\\*", "ab"));
  assert.ok(!globMatch("[abc", "a"));
  assert.ok(globMatch("x.y", "x.y") && !globMatch("x.y", "xay"), "a dot is literal");
});

// ------------------------------------------------------------------------------------------- managed fields

const hpaLive: KubeObject = {
  apiVersion: "apps/v1", kind: "Deployment",
  metadata: {
    name: "web", namespace: "prod",
    managedFields: [
      { manager: "tack-controller", operation: "Apply", fieldsType: "FieldsV1", fieldsV1: {
        "f:spec": { "f:replicas": {}, "f:template": { "f:spec": { "f:containers": { 'k:{"name":"app"}': { ".": {}, "f:image": {}, "f:name": {} } } } } },
      } },
      { manager: "kube-controller-manager", operation: "Update", fieldsType: "FieldsV1", fieldsV1: {
        "f:spec": { "f:replicas": {} },
      } },
    ],
  },
  spec: { replicas: 7, template: { spec: { containers: [{ name: "app", image: "app:1" }] } } },
  status: { replicas: 7 },
};
const hpaPredicted: KubeObject = { ...hpaLive, spec: { ...(hpaLive.spec as object), replicas: 2 } };

test("HPA case: /spec/replicas changed by another manager is ignored (pointer and managedFieldsManagers)", async () => {
  assert.deepEqual(differences(hpaLive, hpaPredicted), [{ op: "replace", path: "/spec/replicas" }]);
  for (const rule of [
    { group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] },
    { group: "apps", kind: "Deployment", managedFieldsManagers: ["kube-controller-manager"] },
    { group: "*", kind: "*", jqPathExpressions: [".spec.replicas"] },
  ]) {
    const { predicted, live } = await applyIgnoreRules({ desiredOrPredicted: hpaPredicted, live: hpaLive, rules: [rule], jq });
    assert.deepEqual(differences(live, predicted), [], JSON.stringify(rule));
  }
  // A rule for another kind, or another name, changes nothing.
  const other = await applyIgnoreRules({ desiredOrPredicted: hpaPredicted, live: hpaLive, jq, rules: [
    { group: "apps", kind: "StatefulSet", jsonPointers: ["/spec/replicas"] },
    { group: "apps", kind: "Deployment", name: "api", jsonPointers: ["/spec/replicas"] },
  ] });
  assert.equal(other.live, hpaLive);
  assert.deepEqual(differences(other.live, other.predicted), [{ op: "replace", path: "/spec/replicas" }]);
});

test("managedFields: list-map keys, set values, indices; only the listed managers; '.' names no field", () => {
  const managedFields = [
    { manager: "istio-webhook", operation: "Update", fieldsType: "FieldsV1", fieldsV1: {
      "f:metadata": { "f:annotations": { ".": {}, "f:sidecar.istio.io/status": {} }, "f:finalizers": { 'v:"istio/cleanup"': {} } },
      "f:spec": { "f:template": { "f:spec": {
        "f:containers": { 'k:{"name":"istio-proxy"}': { ".": {}, "f:image": {}, "f:name": {}, "f:ports": { 'k:{"containerPort":15090,"protocol":"TCP"}': { ".": {}, "f:containerPort": {}, "f:protocol": {} } } } },
        "f:volumes": { "i:0": {} },
      } } },
    } },
    { manager: "someone-else", fieldsV1: { "f:spec": { "f:paused": {} } } },
  ];
  const paths = pathsOwnedBy(managedFields, ["istio-webhook"]);
  assert.deepEqual(paths, [
    ["metadata", "annotations", "sidecar.istio.io/status"],
    ["metadata", "finalizers", { value: "istio/cleanup" }],
    ["spec", "template", "spec", "containers", { key: { name: "istio-proxy" } }, "image"],
    ["spec", "template", "spec", "containers", { key: { name: "istio-proxy" } }, "name"],
    ["spec", "template", "spec", "containers", { key: { name: "istio-proxy" } }, "ports", { key: { containerPort: 15090, protocol: "TCP" } }, "containerPort"],
    ["spec", "template", "spec", "containers", { key: { name: "istio-proxy" } }, "ports", { key: { containerPort: 15090, protocol: "TCP" } }, "protocol"],
    ["spec", "template", "spec", "volumes", 0],
  ]);

  const live = {
    metadata: { annotations: { "sidecar.istio.io/status": "{}", owner: "me" }, finalizers: ["keep", "istio/cleanup"] },
    spec: { paused: false, template: { spec: {
      containers: [
        { name: "app", image: "app:1", ports: [{ containerPort: 8080, protocol: "TCP" }] },
        { name: "istio-proxy", image: "proxy:1", ports: [{ containerPort: 15090, protocol: "TCP" }, { containerPort: 15021, protocol: "TCP" }] },
      ],
      volumes: [{ name: "istio-envoy" }, { name: "data" }],
    } } },
  };
  assert.deepEqual(removePaths(live, paths), {
    metadata: { annotations: { owner: "me" }, finalizers: ["keep"] },
    spec: { paused: false, template: { spec: {
      // The proxy keeps the port the webhook does not own; its own fields are gone.
      containers: [
        { name: "app", image: "app:1", ports: [{ containerPort: 8080, protocol: "TCP" }] },
        { ports: [{ containerPort: 15021, protocol: "TCP" }] },
      ],
      volumes: [{ name: "data" }],
    } } },
  });
  assert.deepEqual(pathsOwnedBy(managedFields, []), []);
  assert.deepEqual(pathsOwnedBy(undefined, ["x"]), []);
});

test("an element wholly owned by the ignored manager disappears from both sides", async () => {
  const live = {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", managedFields: [
      { manager: "injector", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:containers": { 'k:{"name":"sidecar"}': { ".": {}, "f:name": {}, "f:image": {} } } } } },
    ] },
    spec: { containers: [{ name: "sidecar", image: "sc:2" }, { name: "app", image: "app:1" }] },
  };
  const predicted = { ...live, spec: { containers: [{ name: "app", image: "app:1" }, { name: "sidecar", image: "sc:2" }] } };
  const out = await applyIgnoreRules({ desiredOrPredicted: predicted, live, jq, rules: [{ group: "apps", kind: "Deployment", managedFieldsManagers: ["injector"] }] });
  assert.deepEqual(out.live.spec, { containers: [{ name: "app", image: "app:1" }] });
  assert.deepEqual(out.predicted.spec, { containers: [{ name: "app", image: "app:1" }] });
});

// ------------------------------------------------------------------------------------------------------ jq

const withInjected = (init: Array<{ name: string; image: string }>): KubeObject => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "prod" },
  spec: { template: { spec: { initContainers: init, containers: [{ name: "app", image: "app:1" }] } } },
});

test("jq select on containers by name: removed on each side at its own position", async () => {
  const rules = [{ group: "apps", kind: "Deployment", jqPathExpressions: ['.spec.template.spec.initContainers[] | select(.name == "injected")'] }];
  // Order differs between the sides: positions must not be carried across.
  const live = withInjected([{ name: "setup", image: "busybox:1" }, { name: "injected", image: "proxy:2" }]);
  const predicted = withInjected([{ name: "injected", image: "proxy:1" }, { name: "setup", image: "busybox:1" }]);
  const ignored = await ignoredPaths({ desiredOrPredicted: predicted, live, rules, jq });
  assert.deepEqual(ignored.live, [["spec", "template", "spec", "initContainers", 1]]);
  assert.deepEqual(ignored.other, [["spec", "template", "spec", "initContainers", 0]]);
  const out = await applyIgnoreRules({ desiredOrPredicted: predicted, live, rules, jq });
  assert.deepEqual(differences(out.live, out.predicted), []);

  // A real difference in the container that is not ignored is still reported.
  const changed = withInjected([{ name: "injected", image: "proxy:1" }, { name: "setup", image: "busybox:2" }]);
  const out2 = await applyIgnoreRules({ desiredOrPredicted: changed, live, rules, jq });
  assert.deepEqual(differences(out2.live, out2.predicted).map((d) => d.path), ["/spec/template/spec/initContainers/0/image"]);
});

test("a jq expression that fails on an object is skipped with a warning; one that never ends rejects", async () => {
  const noInit: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 1 } };
  const ignored = await ignoredPaths({ desiredOrPredicted: noInit, live: noInit, jq,
    rules: [{ group: "apps", kind: "Deployment", jqPathExpressions: [".spec.template.spec.initContainers[]", ".spec.replicas"] }] });
  assert.deepEqual(ignored.both, [["spec", "replicas"]]);
  assert.equal(ignored.warnings.length, 2);
  assert.match(ignored.warnings[0] ?? "", /Cannot iterate over null/);

  await assert.rejects(ignoredPaths({ desiredOrPredicted: noInit, live: noInit, jq, rules: [{ group: "apps", kind: "Deployment", jqPathExpressions: [".spec | ]"] }] }),
    { name: "JqError", kind: "invalid", message: /^invalid jq expression '\.spec \| \]'/ });
  await assert.rejects(ignoredPaths({ desiredOrPredicted: noInit, live: noInit, jq, rules: [{ group: "apps", kind: "Deployment", jqPathExpressions: ["def f: f; f"] }] }),
    { name: "JqError", kind: "timeout", message: "jq expression 'def f: f; f' exceeded 1000 ms" });
});

// --------------------------------------------------------------------------------------- RespectIgnore…

test("respectIgnored keeps the live replicas (and other ignored fields) in what is applied", async () => {
  const desired: KubeObject = {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "prod", annotations: { "ci/build": "42", team: "a" } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: "app", image: "app:2" }] } } },
  };
  const live: KubeObject = {
    ...hpaLive,
    metadata: { ...hpaLive.metadata, annotations: { team: "a" } },
    spec: { replicas: 7, template: { spec: { containers: [{ name: "app", image: "app:1" }, { name: "sidecar", image: "sc:1" }] } } },
  };
  const rules = [
    { group: "apps", kind: "Deployment", managedFieldsManagers: ["kube-controller-manager"] },
    { group: "apps", kind: "Deployment", jsonPointers: ["/metadata/annotations/ci~1build"] },
  ];
  const paths = await ignoredPaths({ desiredOrPredicted: desired, live, rules, jq });
  const applied = respectIgnored(desired, live, paths);
  assert.equal((applied.spec as { replicas: number }).replicas, 7, "the live replicas");
  assert.deepEqual(applied.metadata.annotations, { team: "a" }, "an ignored field the live object lacks is not applied");
  assert.deepEqual((applied.spec as { template: unknown }).template, { spec: { containers: [{ name: "app", image: "app:2" }] } }, "everything else as desired");
  assert.equal((desired.spec as { replicas: number }).replicas, 2, "the input is not changed");
});

test("respectIgnored adds a list-map element by its keys, and leaves positions the desired list lacks alone", () => {
  const desired = { spec: { containers: [{ name: "app", image: "app:2" }], list: ["a"] } };
  const live = { spec: { containers: [{ name: "app", image: "app:1" }, { name: "proxy", image: "p:1" }], list: ["a", "b", "c"] } };
  const out = respectIgnored(desired, live, [
    ["spec", "containers", { key: { name: "proxy" } }, "image"],
    ["spec", "containers", { key: { name: "app" } }, "image"],
    ["spec", "list", 2],
  ]);
  assert.deepEqual(out, { spec: { containers: [{ name: "app", image: "app:1" }, { name: "proxy", image: "p:1" }], list: ["a"] } });
});
