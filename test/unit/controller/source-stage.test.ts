import { test } from "node:test";
import assert from "node:assert/strict";
import type { Application } from "../../../src/api/index.ts";
import { requestedRefresh } from "../../../src/controller/stages/source.ts";

const withAnnotations = (annotations: Record<string, string>) =>
  ({ apiVersion: "tack.dev/v1alpha1", kind: "Application", metadata: { name: "a", namespace: "n", annotations }, spec: {} }) as unknown as Application;

test("a refresh is asked by Tack's annotation or Argo CD's, and 'hard' means hard on either", () => {
  assert.equal(requestedRefresh(withAnnotations({})), undefined);
  assert.equal(requestedRefresh(withAnnotations({ "tack.dev/refresh": "normal" })), "normal");
  assert.equal(requestedRefresh(withAnnotations({ "tack.dev/refresh": "hard" })), "hard");
  assert.equal(requestedRefresh(withAnnotations({ "argocd.argoproj.io/refresh": "normal" })), "normal");
  assert.equal(requestedRefresh(withAnnotations({ "argocd.argoproj.io/refresh": "hard" })), "hard");
  assert.equal(requestedRefresh(withAnnotations({ "tack.dev/refresh": "" })), "normal", "any value asks for a refresh");
});
