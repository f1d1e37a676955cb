import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runHealthCommand } from "../../../src/cli/health-command.ts";

const fixtures = fileURLToPath(new URL("../../fixtures/health/", import.meta.url));
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tack-health-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A tack-health-rules ConfigMap in the temp dir whose only key holds the given rules for ConfigMaps. */
async function writeRules(name: string, configMapRules: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `apiVersion: v1
kind: ConfigMap
metadata: {name: tack-health-rules, namespace: tack-system}
data:
  _ConfigMap: |${configMapRules}
`);
  return file;
}

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runHealthCommand(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; } });
  return { code, out, err };
}

test("text: one line per object, Kind/namespace/name: Status - message", async () => {
  const r = await run(join(fixtures, "deployment-progressing.yaml"), join(fixtures, "crd-healthy.yaml"),
    join(fixtures, "configmap-none.yaml"));
  assert.equal(r.code, 0);
  assert.equal(r.err, "");
  assert.deepEqual(r.out.trimEnd().split("\n"), [
    "Deployment/default/guestbook-ui: Progressing - Waiting for rollout to finish: 1 of 3 updated replicas are available...",
    "CustomResourceDefinition/certificates.cert-manager.io: Healthy - CRD is established",
    "ConfigMap/default/guestbook-config: None - no health check applies to this object",
  ]);
});

test("json: an array in the order given, status null where no rule applies", async () => {
  const multi = join(dir, "multi.yaml");
  await writeFile(multi, `---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
status: {phase: Active}
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a, namespace: shop}
- apiVersion: batch/v1
  kind: Job
  metadata: {name: j, namespace: shop}
  spec: {suspend: true}
`);
  const r = await run("-o", "json", multi);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.out), [
    { file: multi, apiVersion: "v1", kind: "Namespace", namespace: null, name: "shop", status: "Healthy",
      message: "Namespace is active", rule: "built-in" },
    { file: multi, apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "a", status: null, message: "" },
    { file: multi, apiVersion: "batch/v1", kind: "Job", namespace: "shop", name: "j", status: "Suspended",
      message: "Job is suspended", rule: "built-in" },
  ]);
});

test("json: rule says which rule decided (built-in, shipped, cel), and is absent when none had an opinion", async () => {
  const rulesFile = await writeRules("rules-for-rule.yaml", `
    - when: 'true'
      status: Healthy
      message: configured`);
  const files = ["deployment-progressing.yaml", "generic-crossplane-creating-progressing.yaml", "generic-manifest-none.yaml",
    "configmap-none.yaml"].map((f) => join(fixtures, f));
  const rows = JSON.parse((await run("-o", "json", ...files)).out) as Array<Record<string, unknown>>;
  assert.deepEqual(rows.map((r) => [r.kind, r.status, r.rule]), [
    ["Deployment", "Progressing", "built-in"],
    ["Instance", "Progressing", "shipped"],
    ["RabbitmqCluster", null, undefined],
    ["ConfigMap", null, undefined],
  ]);
  assert.ok(!("rule" in (rows[2] ?? {})), "no rule key at all when no rule had an opinion");
  const withRules = JSON.parse((await run("-o", "json", "--rules", rulesFile, files[3] ?? "")).out) as Array<Record<string, unknown>>;
  assert.deepEqual(withRules.map((r) => [r.status, r.message, r.rule]), [["Healthy", "configured", "cel"]]);
});

test("--output=json and -o=json are accepted", async () => {
  for (const flag of ["--output=json", "-o=json"]) {
    const r = await run(flag, join(fixtures, "pvc-healthy.yaml"));
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.out)[0].status, "Healthy");
  }
});

test("a missing file exits 2 with a clear message, other files are still reported", async () => {
  const r = await run(join(dir, "nope.yaml"), join(fixtures, "pvc-healthy.yaml"));
  assert.equal(r.code, 2);
  assert.match(r.err, /nope\.yaml: cannot read: ENOENT/);
  assert.match(r.out, /PersistentVolumeClaim\/cache\/data-redis-0: Healthy/);
});

test("an unreadable file exits 2", async () => {
  // A path through a regular file cannot be read whatever the user's rights (root included): ENOTDIR.
  const file = join(dir, "plain.yaml");
  await writeFile(file, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
  const r = await run(join(file, "child.yaml"));
  assert.equal(r.code, 2);
  assert.match(r.err, /child\.yaml/);
});

test("a directory is not a file", async () => {
  const r = await run(dir);
  assert.equal(r.code, 2);
  assert.match(r.err, /not a regular file/);
});

test("invalid YAML exits 2 and names the file", async () => {
  const file = join(dir, "broken.yaml");
  await writeFile(file, "apiVersion: v1\nkind: [unclosed\n");
  const r = await run("-o", "json", file);
  assert.equal(r.code, 2);
  assert.match(r.err, /broken\.yaml: invalid YAML/);
  assert.deepEqual(JSON.parse(r.out), []);
});

test("a document that is not a Kubernetes object exits 2", async () => {
  const file = join(dir, "scalar.yaml");
  await writeFile(file, "just a string\n");
  const r = await run(file);
  assert.equal(r.code, 2);
  assert.match(r.err, /scalar\.yaml: document 1: not a Kubernetes object/);
});

test("an alias bomb is refused, not expanded", async () => {
  const file = join(dir, "bomb.yaml");
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`);
  }
  await writeFile(file, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${levels.map((l) => `  ${l}`).join("\n")}\n`);
  const r = await run(file);
  assert.equal(r.code, 2);
  assert.match(r.err, /bomb\.yaml: (invalid YAML|document 1: YAML aliases expand)/);
});

test("--rules applies a ConfigMap of custom rules, as the controller does", async () => {
  const rulesFile = await writeRules("rules.yaml", `
    - when: 'has(object.data) && "GREETING" in object.data'
      status: Healthy
      messageExpression: '"greets with " + object.data.GREETING'`);
  const r = await run("--rules", rulesFile, join(fixtures, "configmap-none.yaml"));
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "ConfigMap/default/guestbook-config: Healthy - greets with hello\n");
});

test("--rules with a broken rule exits 2 and says which", async () => {
  const rulesFile = join(dir, "bad-rules.yaml");
  await writeFile(rulesFile, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\ndata:\n  _ConfigMap: \"- when: 'true'\\n  status: Fine\\n\"\n");
  const r = await run("--rules", rulesFile, join(fixtures, "configmap-none.yaml"));
  assert.equal(r.code, 2);
  assert.match(r.err, /rule _ConfigMap: rule 1: 'status' must be one of/);
});

test("--help prints usage and exits 0", async () => {
  const r = await run("--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /Usage: tack health/);
  assert.match(r.out, /rule names what decided: cel[\s\S]*lua[\s\S]*shipped[\s\S]*built-in[\s\S]*generic/);
});

test("usage errors exit 2", async () => {
  assert.equal((await run()).code, 2);
  assert.equal((await run("-o", "yaml", "x.yaml")).code, 2);
  assert.equal((await run("--frobnicate", "x.yaml")).code, 2);
  assert.equal((await run("-o")).code, 2);
});

test("a Degraded object fails the command (exit 1, said on stderr), as a CI step needs; --allow-degraded reports only", async () => {
  const degraded = join(fixtures, "cronjob-degraded.yaml");
  const healthy = join(fixtures, "crd-healthy.yaml");
  const failing = await run(healthy, degraded);
  assert.equal(failing.code, 1);
  assert.match(failing.out, /CronJob\/.*: Degraded/);
  assert.equal(failing.err, "tack health: 1 of 2 objects Degraded (--allow-degraded exits 0 anyway)\n");

  const json = await run("-o", "json", degraded);
  assert.equal(json.code, 1, "the output format does not change the exit status");
  assert.equal((JSON.parse(json.out) as Array<{ status: string }>)[0]?.status, "Degraded");

  const reportOnly = await run("--allow-degraded", healthy, degraded);
  assert.equal(reportOnly.code, 0);
  assert.equal(reportOnly.err, "");
  assert.equal(reportOnly.out, failing.out);

  assert.equal((await run(healthy)).code, 0, "nothing Degraded: exit 0");
  assert.equal((await run(degraded, join(dir, "missing.yaml"))).code, 2, "an unreadable file still wins: exit 2");
});
