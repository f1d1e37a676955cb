import { test } from "node:test";
import assert from "node:assert/strict";
import { nextConditions } from "../../../src/controller/conditions.ts";

test("lastTransitionTime moves only when status flips; cleared errors are removed", () => {
  const first = nextConditions(undefined, [
    { type: "Ready", status: "False", reason: "OutOfSync", message: "m1" },
    { type: "ComparisonError", status: "True", reason: "RevisionNotFound", message: "nope" },
  ], "T1", 3);
  assert.deepEqual(first.map((c) => [c.type, c.lastTransitionTime, c.observedGeneration]), [["ComparisonError", "T1", 3], ["Ready", "T1", 3]]);
  const second = nextConditions(first, [{ type: "Ready", status: "False", reason: "Progressing", message: "m2" }], "T2", 4);
  assert.deepEqual(second.map((c) => [c.type, c.lastTransitionTime, c.message]), [["Ready", "T1", "m2"]]);
  const third = nextConditions(second, [{ type: "Ready", status: "True", reason: "SyncedAndHealthy", message: "ok" }], "T3", 4);
  assert.equal(third[0]!.lastTransitionTime, "T3");
});
