import { after, test } from "node:test";
import assert from "node:assert/strict";
import { JqError, JqEvaluator } from "../../../src/jq/index.ts";

const jq = new JqEvaluator({ timeoutMs: 1000, maxMemoryMb: 128 });
after(() => jq.close());

const deployment = {
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" },
  spec: { replicas: 2, template: { spec: {
    initContainers: [{ name: "setup", image: "busybox" }, { name: "injected", image: "proxy" }],
    containers: [{ name: "app", image: "app:1" }, { name: "sidecar", image: "sc:1" }],
  } } },
};

async function rejection(promise: Promise<unknown>): Promise<JqError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof JqError, `expected a JqError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a rejection");
}

test("select on containers by name gives the element's path", async () => {
  const paths = await jq.paths('.spec.template.spec.initContainers[] | select(.name == "injected")', deployment);
  assert.deepEqual(paths, [["spec", "template", "spec", "initContainers", 1]]);
  assert.deepEqual(await jq.paths(".spec.replicas, .metadata.name", deployment), [["spec", "replicas"], ["metadata", "name"]]);
  assert.deepEqual(await jq.paths(".spec.template.spec.containers[].image", deployment),
    [["spec", "template", "spec", "containers", 0, "image"], ["spec", "template", "spec", "containers", 1, "image"]]);
});

test("slices are expanded to the indices they cover", async () => {
  assert.deepEqual(await jq.paths(".[1:3], .[-1:]", [10, 20, 30, 40]), [[1], [2], [3]]);
});

test("an invalid expression is refused with a message naming it", async () => {
  const err = await rejection(jq.paths(".spec | ]", deployment));
  assert.equal(err.kind, "invalid");
  assert.match(err.message, /^invalid jq expression '\.spec \| \]': syntax error/);
  assert.doesNotMatch(err.message, /__tack/);
  const undefinedFn = await rejection(jq.paths(".spec | nosuchfn", deployment));
  assert.match(undefinedFn.message, /nosuchfn\/0 is not defined/);
});

test("a comment or an unbalanced fragment cannot escape the wrapper", async () => {
  assert.deepEqual(await jq.paths(".spec.replicas # trailing comment", deployment), [["spec", "replicas"]]);
  assert.equal((await rejection(jq.paths(".a)] , [(.b", deployment))).kind, "invalid");
});

test("a runtime error is reported as such, with jq's message", async () => {
  const err = await rejection(jq.paths(".spec.missing[]", deployment));
  assert.equal(err.kind, "runtime");
  assert.match(err.message, /Cannot iterate over null/);
  assert.deepEqual(await jq.paths(".spec.missing[]?", deployment), []);
});

test("builtins that reach outside the input are not available", async () => {
  assert.equal((await rejection(jq.paths("input", deployment))).kind, "runtime");
  assert.equal((await rejection(jq.paths("halt", deployment))).kind, "runtime");
  assert.deepEqual(await jq.paths("select($ENV == {} and env == {}) | .spec", { spec: 1 }), [["spec"]]);
});

test("a never-ending expression is stopped within the bound, and the evaluator still works", async (t) => {
  for (const expression of ["def f: f; f", "repeat(1) | select(false)", "last(range(1e12))"]) {
    const start = performance.now();
    const err = await rejection(jq.paths(expression, deployment));
    const elapsed = performance.now() - start;
    t.diagnostic(`${expression}: stopped after ${elapsed.toFixed(0)} ms`);
    assert.equal(err.kind, "timeout");
    assert.equal(err.message, `jq expression '${expression}' exceeded 1000 ms`);
    assert.ok(elapsed < 2500, `stopped after ${elapsed} ms`);
    assert.deepEqual(await jq.paths(".spec.replicas", deployment), [["spec", "replicas"]]);
  }
});

test("a memory bomb is stopped, and the evaluator still works", async (t) => {
  for (const expression of ['reduce range(40) as $i ("x"; . + .)', "[range(1e9)]", "[limit(1e9; repeat([1,2,3,4,5,6,7,8]))]"]) {
    const start = performance.now();
    const err = await rejection(jq.paths(expression, deployment));
    t.diagnostic(`${expression}: ${err.kind} after ${(performance.now() - start).toFixed(0)} ms`);
    assert.ok(err.kind === "memory" || err.kind === "timeout", err.message);
    assert.match(err.message, /^jq expression '.*' exceeded (128 MB of memory|1000 ms)$/);
    assert.deepEqual(await jq.paths(".metadata.name", deployment), [["metadata", "name"]]);
  }
});

test("concurrent requests share a jq run, and a failing one does not fail the others", async () => {
  const docs = Array.from({ length: 20 }, (_, i) => ({ ...deployment, metadata: { name: `web-${i}` } }));
  const results = await Promise.allSettled([
    ...docs.map((d) => jq.paths('.spec.template.spec.containers[] | select(.name == "sidecar")', d)),
    jq.paths("def f: f; f", docs[0]),
    jq.paths(".metadata.nope[]", docs[1]),
  ]);
  for (const r of results.slice(0, 20)) assert.deepEqual(r, { status: "fulfilled", value: [["spec", "template", "spec", "containers", 1]] });
  assert.equal(results[20]?.status, "rejected");
  assert.equal(((results[20] as PromiseRejectedResult).reason as JqError).kind, "timeout");
  assert.equal(((results[21] as PromiseRejectedResult).reason as JqError).kind, "runtime");
});

// Timings are reported, not asserted (speed is measured by bench/, never by a timed test).
test("sequential, batched and cached evaluations agree (latency reported)", async (t) => {
  const docs = Array.from({ length: 200 }, (_, i) => ({ ...deployment, metadata: { name: `lat-${i}` } }));
  const expression = '.spec.template.spec.initContainers[] | select(.name == "injected")';
  await jq.paths(expression, docs[0]);

  let start = performance.now();
  for (const d of docs.slice(1, 51)) await jq.paths(expression, d);
  const sequential = (performance.now() - start) / 50;

  start = performance.now();
  await Promise.all(docs.slice(51).map((d) => jq.paths(expression, d)));
  const concurrent = (performance.now() - start) / 149;

  start = performance.now();
  const cachedResults = [];
  for (const d of docs.slice(1, 51)) cachedResults.push(await jq.paths(expression, d));
  const cached = (performance.now() - start) / 50;

  t.diagnostic(`per evaluation: sequential ${sequential.toFixed(2)} ms, concurrent (batched) ${concurrent.toFixed(3)} ms, cached ${cached.toFixed(3)} ms`);
  const expected = await jq.paths(expression, docs[1]);
  for (const r of cachedResults) assert.deepEqual(r, expected);
  assert.deepEqual(await Promise.all(docs.slice(51, 60).map((d) => jq.paths(expression, d))), Array(9).fill(expected));
});

test("a closed evaluator refuses further work", async () => {
  const own = new JqEvaluator();
  assert.deepEqual(await own.paths(".a", { a: 1 }), [["a"]]);
  await own.close();
  assert.equal((await rejection(own.paths(".b", { b: 1 }))).kind, "unavailable");
});
