import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { renderCrdFiles } from "../../../scripts/gen-crds.ts";
import { ApplicationSpecSchema } from "../../../src/api/index.ts";

test("committed crds/ equal a fresh generation from the zod schemas", async () => {
  for (const [path, text] of await renderCrdFiles()) {
    assert.equal(await readFile(path, "utf8"), text, `${path} is stale: run npm run gen:crds`);
  }
});

test("the Application CRD is structural: every property has a type or preserves unknown fields", async () => {
  const files = await renderCrdFiles();
  const text = files.get("crds/applications.tack.dev.yaml")!;
  assert.match(text, /subresources:\n\s+status: \{\}/);
  assert.match(text, /shortNames:\n\s+- app\n/);
  for (const column of ["Sync Status", "Health Status", "Revision", "Age"]) assert.ok(text.includes(`name: ${column}`), column);
  assert.ok(!text.includes("additionalProperties: false"));
  assert.ok(!text.includes("$schema"));
});

test("the spec schema accepts an Argo CD Application's spec unchanged", () => {
  const argoSpec = {
    project: "default",
    source: { repoURL: "https://github.com/argoproj/argocd-example-apps.git", targetRevision: "HEAD", path: "guestbook",
      directory: { recurse: true, include: "*.yaml" } },
    destination: { server: "https://kubernetes.default.svc", namespace: "guestbook" },
    syncPolicy: { automated: { prune: true, selfHeal: true, allowEmpty: false }, syncOptions: ["CreateNamespace=true"],
      retry: { limit: 5, backoff: { duration: "5s", factor: 2, maxDuration: "3m" } } },
    ignoreDifferences: [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }],
    revisionHistoryLimit: 10,
  };
  assert.equal(ApplicationSpecSchema.safeParse(argoSpec).success, true);
});

test("invalid specs are refused with a message naming the field", () => {
  const result = ApplicationSpecSchema.safeParse({ source: { repoURL: "" }, destination: {}, syncPolicy: { retry: { backoff: { duration: "soon" } } } });
  assert.equal(result.success, false);
  const paths = result.error!.issues.map((i) => i.path.join("."));
  assert.ok(paths.includes("source.repoURL"));
  assert.ok(paths.includes("syncPolicy.retry.backoff.duration"));
});
