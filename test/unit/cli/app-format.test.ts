// How `tack app` words times and operation outcomes: timestamps a person reads at a glance, and a dry run that
// never claims to have synced anything.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { OperationState } from "../../../src/api/index.ts";
import { operationOutcome, operationPhase, timestamp, timestampWithAge } from "../../../src/cli/app/format.ts";

function inZone<T>(zone: string, fn: () => T): T {
  const saved = process.env.TZ;
  process.env.TZ = zone;   // Node re-reads TZ when it is assigned
  try { return fn(); } finally { if (saved === undefined) delete process.env.TZ; else process.env.TZ = saved; }
}

test("timestamps: local time to the second with the offset, not RFC 3339 with milliseconds", () => {
  assert.equal(inZone("UTC", () => timestamp("2026-12-02T18:45:41.133Z")), "2026-12-02 18:45:41 +00:00");
  assert.equal(inZone("Asia/Kolkata", () => timestamp("2026-12-02T18:45:41Z")), "2026-12-03 00:15:41 +05:30");
  assert.equal(inZone("America/New_York", () => timestamp("2026-12-02T18:45:41Z")), "2026-12-02 13:45:41 -05:00");
  assert.equal(timestamp(undefined), "");
  assert.equal(timestamp("not a time"), "not a time");
  assert.equal(inZone("UTC", () => timestampWithAge("2026-12-02T18:45:41Z", new Date("2026-12-02T18:49:01Z"))),
    "2026-12-02 18:45:41 +00:00 (3m20s ago)");
});

const dryRun = (phase: string, message: string, resources: Array<{ status: string; hookType?: string }>): OperationState => ({
  phase, message, operation: { sync: { dryRun: true } },
  syncResult: { revision: "abc", resources: resources.map((r, i) => ({ kind: "ConfigMap", name: `c${i}`, message: "", ...r })) },
} as unknown as OperationState);

test("a dry run is told as what a sync would do, never as 'successfully synced'", () => {
  const succeeded = operationOutcome(dryRun("Succeeded", "successfully synced (2 applied, 1 pruned)",
    [{ status: "Synced" }, { status: "Synced" }, { status: "Pruned" }, { status: "Synced", hookType: "PreSync" }]));
  assert.equal(succeeded, "nothing was changed; a sync would apply 2 and prune 1 object(s)");
  assert.doesNotMatch(succeeded, /synced/);
  assert.equal(operationPhase(dryRun("Succeeded", "", [])), "Succeeded (dry run)");
  assert.equal(operationOutcome(dryRun("Failed", "ConfigMap/ns/c: invalid", [])), "ConfigMap/ns/c: invalid; nothing was changed");
});

test("a real sync keeps the controller's message", () => {
  const op = { phase: "Succeeded", message: "successfully synced (1 applied, 0 pruned)", operation: { sync: {} } } as unknown as OperationState;
  assert.equal(operationOutcome(op), "successfully synced (1 applied, 0 pruned)");
  assert.equal(operationPhase(op), "Succeeded");
});
