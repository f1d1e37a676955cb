import { test } from "node:test";
import assert from "node:assert/strict";
import { desiredHash, differences, liveFingerprint } from "../../../src/diff/index.ts";
import type { KubeObject } from "../../../src/api/index.ts";

const live: KubeObject = {
  apiVersion: "v1", kind: "ConfigMap",
  metadata: { name: "a", namespace: "n", uid: "u1", resourceVersion: "7", creationTimestamp: "2026-01-01T00:00:00Z",
    managedFields: [{ manager: "tack-controller" }], annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", keep: "1" } },
  data: { k: "v" },
};

test("server bookkeeping and status never count as differences", () => {
  const predicted: KubeObject = { ...live, metadata: { ...live.metadata, resourceVersion: "8", managedFields: [] }, status: { x: 1 } };
  assert.deepEqual(differences(live, predicted), []);
  assert.equal(liveFingerprint(live), liveFingerprint({ ...live, metadata: { ...live.metadata, resourceVersion: "99" }, status: { phase: "Ready" } }));
});

test("a changed declared field is reported with its path", () => {
  const predicted: KubeObject = { ...live, data: { k: "w", extra: "1" } };
  assert.deepEqual(differences(live, predicted).map((d) => d.path).sort(), ["/data/extra", "/data/k"]);
  assert.notEqual(liveFingerprint(live), liveFingerprint(predicted));
});

test("desiredHash ignores key order", () => {
  const a: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: { x: "1", y: "2" } };
  const b: KubeObject = { kind: "ConfigMap", data: { y: "2", x: "1" }, metadata: { name: "a" }, apiVersion: "v1" };
  assert.equal(desiredHash(a), desiredHash(b));
});
