import { test } from "node:test";
import assert from "node:assert/strict";
import { parseManifests } from "../../../src/render/manifests.ts";
import { ComparisonError } from "../../../src/errors.ts";

test("multi-document YAML, empty documents skipped, Lists flattened", () => {
  const objects = parseManifests(`---
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
  - {apiVersion: v1, kind: Secret, metadata: {name: c}}
`, "x.yaml");
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ["ConfigMap/a", "ConfigMap/b", "Secret/c"]);
});

test("YAML 1.1 scalars as kubectl reads them (sigs.k8s.io/yaml: on, y, n are booleans, even as keys)", () => {
  const [cm] = parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  on: yes\n  n: '010'\n  port: 0x1F\n", "x.yaml");
  assert.deepEqual(cm!.data, { true: true, false: "010", port: 31 });
});

test("invalid YAML names the file and position", () => {
  assert.throws(() => parseManifests("a: [1\nb: 2\n", "app/bad.yaml"), (err: unknown) =>
    err instanceof ComparisonError && err.reason === "ManifestInvalid" && /app\/bad\.yaml.*2:1/.test(err.message));
});

test("a document that is not an object is refused with its index", () => {
  assert.throws(() => parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\njust a string\n", "f.yaml"),
    /f\.yaml \(document 2\): not a Kubernetes object/);
  assert.throws(() => parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "f.yaml"), /has no metadata\.name/);
});

test("an alias bomb is refused before anything expands it", () => {
  const levels = ["a: &a [x,x,x,x,x,x,x,x,x,x]"];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(",")}]`);
  }
  const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${levels.map((l) => `  ${l}`).join("\n")}\n`;
  assert.ok(bomb.length < 1000);
  const started = performance.now();
  assert.throws(() => parseManifests(bomb, "bomb.yaml"), (err: unknown) => err instanceof ComparisonError && err.reason === "ManifestTooLarge");
  assert.ok(performance.now() - started < 2000, "bounded work");
});
