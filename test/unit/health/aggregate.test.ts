import assert from "node:assert/strict";
import { test } from "node:test";
import { compareHealth, HealthStatusCode, worstHealth } from "../../../src/health/index.ts";

const ORDER = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"] as const;

test("worstHealth of nothing is Healthy", () => {
  assert.equal(worstHealth([]), "Healthy");
});

test("worstHealth follows Healthy < Suspended < Progressing < Missing < Degraded < Unknown", () => {
  for (let i = 0; i < ORDER.length; i++) {
    for (let j = 0; j < ORDER.length; j++) {
      const a = ORDER[i]!;
      const b = ORDER[j]!;
      assert.equal(worstHealth([a, b]), ORDER[Math.max(i, j)], `${a} vs ${b}`);
      assert.equal(Math.sign(compareHealth(a, b)), Math.sign(i - j), `compare ${a} ${b}`);
    }
  }
});

test("worstHealth takes any iterable", () => {
  const statuses = new Set<HealthStatusCode>([HealthStatusCode.Healthy, HealthStatusCode.Missing, HealthStatusCode.Suspended]);
  assert.equal(worstHealth(statuses.values()), "Missing");
});

test("sorting with compareHealth puts the healthiest first", () => {
  const sorted = [...ORDER].reverse().sort(compareHealth);
  assert.deepEqual(sorted, [...ORDER]);
});
