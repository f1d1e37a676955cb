import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeUtf8, firstInvalidUtf8Offset, parseJsonManifests, parseManifests } from "../../../src/render/manifests.ts";
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

test("invalid UTF-8 is refused with the byte offset, never decoded into replacement characters", () => {
  const bytes = Buffer.concat([Buffer.from("data:\n  k: abc"), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from("def\n")]);
  assert.throws(() => decodeUtf8(bytes, "app/cm.yaml"), (err: unknown) =>
    err instanceof ComparisonError && err.reason === "ManifestInvalid" && /app\/cm.yaml: invalid UTF-8 at byte offset 14/.test(err.message));
  // helm template output: the template the bad byte came from is named.
  const helmOut = Buffer.concat([Buffer.from("---\n# Source: web/templates/a.yaml\na: 1\n---\n# Source: web/templates/b.yaml\nb: "), Buffer.from([0xc0, 0x80])]);
  assert.throws(() => decodeUtf8(helmOut, "helm template of 'web'"), /byte offset \d+ \(in web\/templates\/b.yaml\)/);
  // Well-formed text, a byte-order mark and the replacement character itself (valid UTF-8) pass unchanged.
  assert.equal(decodeUtf8(Buffer.from("\uFEFFa: \uFFFD é 日本 😀\n"), "x"), "\uFEFFa: \uFFFD é 日本 😀\n");
});

test("firstInvalidUtf8Offset agrees with a fatal decoder on every two- and three-byte sequence", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const valid = (b: Uint8Array) => { try { fatal.decode(b); return true; } catch { return false; } };
  for (let a = 0x80; a <= 0xff; a++) {
    for (let b = 0; b <= 0xff; b += 3) {
      for (const c of [0x80, 0xbf, 0x41]) {
        const seq = Uint8Array.from([a, b, c]);
        assert.equal(firstInvalidUtf8Offset(seq) === seq.length, valid(seq), `bytes ${[...seq].map((x) => x.toString(16)).join(" ")}`);
      }
    }
  }
});

test("nesting deeper than the bound is ManifestInvalid for JSON as for YAML, without overflowing the stack", () => {
  const deepJson = `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`;
  assert.throws(() => parseJsonManifests(deepJson, "app/deep.json"), (err: unknown) =>
    err instanceof ComparisonError && err.reason === "ManifestInvalid" && /app\/deep.json: nesting exceeds maxDepth \(100\)/.test(err.message));
  const deepList = JSON.stringify(Array.from({ length: 200 }).reduce<unknown>((inner) => ({ apiVersion: "v1", kind: "List", metadata: {}, items: [inner] }), {}));
  assert.throws(() => parseJsonManifests(deepList, "app/lists.json"), /nesting exceeds maxDepth/);
  const deepYaml = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
  assert.throws(() => parseManifests(deepYaml, "app/deep.yaml"), (err: unknown) => err instanceof ComparisonError && err.reason === "ManifestInvalid");
  // An ordinary object is far from the bound.
  assert.equal(parseJsonManifests('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"v"}}', "c.json").length, 1);
});
