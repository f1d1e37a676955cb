// Pure parts of rendering: Helm hook mapping, semver ranges, --set escaping, envsubst, the render cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../../src/api/index.ts";
import { mapHelmHooks } from "../../../src/render/helm-hooks.ts";
import { maxSatisfying } from "../../../src/render/semver.ts";
import { escapeSetValue } from "../../../src/render/helm.ts";
import { envsubst } from "../../../src/render/kustomize.ts";
import { RenderCache, renderCacheKey } from "../../../src/render/cache.ts";
import type { RenderRequest, RenderResult } from "../../../src/render/index.ts";

const obj = (name: string, annotations?: Record<string, string>): KubeObject =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, ...(annotations ? { annotations } : {}) } });

test("Helm hooks map to sync hooks as Argo CD maps them", () => {
  const out = mapHelmHooks([
    obj("pre", { "helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "-2", "helm.sh/hook-delete-policy": "hook-succeeded" }),
    obj("post", { "helm.sh/hook": "post-upgrade, post-install" }),
    obj("both", { "helm.sh/hook": "pre-install,post-install,test" }),
    obj("test", { "helm.sh/hook": "test" }),
    obj("test-success", { "helm.sh/hook": "test-success" }),
    obj("delete", { "helm.sh/hook": "pre-delete,post-rollback" }),
    obj("crd", { "helm.sh/hook": "crd-install" }),
    obj("argo-wins", { "helm.sh/hook": "pre-install", "argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/sync-wave": "3", "helm.sh/hook-weight": "9" }),
    obj("keep", { "helm.sh/resource-policy": "keep", "argocd.argoproj.io/sync-options": "ServerSideApply=true" }),
    obj("plain"),
  ]);
  const by = Object.fromEntries(out.map((o) => [o.metadata.name, o.metadata.annotations ?? {}]));
  assert.deepEqual(Object.keys(by), ["pre", "post", "both", "crd", "argo-wins", "keep", "plain"], "test, delete and rollback hooks are left out");
  assert.equal(by.pre!["argocd.argoproj.io/hook"], "PreSync");
  assert.equal(by.pre!["argocd.argoproj.io/sync-wave"], "-2");
  assert.equal(by.pre!["argocd.argoproj.io/hook-delete-policy"], "HookSucceeded");
  assert.equal(by.pre!["helm.sh/hook"], "pre-install,pre-upgrade", "Helm's own annotations stay");
  assert.equal(by.post!["argocd.argoproj.io/hook"], "PostSync");
  assert.equal(by.both!["argocd.argoproj.io/hook"], "PreSync,PostSync");
  assert.equal(by.crd!["argocd.argoproj.io/hook"], undefined, "crd-install is not a hook");
  assert.equal(by["argo-wins"]!["argocd.argoproj.io/hook"], "Sync");
  assert.equal(by["argo-wins"]!["argocd.argoproj.io/sync-wave"], "3");
  assert.equal(by.keep!["argocd.argoproj.io/sync-options"], "ServerSideApply=true,Prune=false,Delete=false");
  assert.deepEqual(by.plain, {});
});

test("chart versions: exact, ranges, pre-releases", () => {
  const versions = ["1.0.0", "1.2.0", "1.2.5", "1.10.0", "2.0.0", "2.1.0-rc.1", "0.3.1", "0.3.9", "0.4.0"];
  const cases: Array<[string, string | undefined]> = [
    ["", "2.0.0"], ["*", "2.0.0"], ["1.2.0", "1.2.0"], ["v1.2.0", "1.2.0"], ["3.0.0", undefined],
    ["^1.2", "1.10.0"], ["~1.2", "1.2.5"], ["~1.2.0", "1.2.5"], [">=1.0.0 <2.0.0", "1.10.0"], [">=1.0.0, <1.5", "1.2.5"],
    ["1.2.x", "1.2.5"], ["1.x", "1.10.0"], ["^0.3", "0.3.9"], ["^0.3.1", "0.3.9"], ["1.0 - 1.2", "1.2.5"],
    ["<1.0.0 || >=2.0.0", "2.0.0"], [">=2.1.0-rc.0", "2.1.0-rc.1"], [">2.0.0", undefined], ["!=2.0.0", "1.10.0"],
  ];
  for (const [constraint, want] of cases) assert.equal(maxSatisfying(versions, constraint), want, constraint);
  assert.throws(() => maxSatisfying(versions, ">=banana"), /invalid version constraint/);
});

test("--set values: commas escaped unless a {list}, as Argo CD does", () => {
  assert.equal(escapeSetValue("a,b"), "a\\,b");
  assert.equal(escapeSetValue("a\\,b"), "a\\,b");
  assert.equal(escapeSetValue("{a,b}"), "{a,b}");
});

test("envsubst: $VAR, ${VAR}, $$; unknown variables become empty", () => {
  assert.equal(envsubst("img:$ARGOCD_APP_NAME-${ARGOCD_APP_NAMESPACE}-$$-$NOPE", { ARGOCD_APP_NAME: "a", ARGOCD_APP_NAMESPACE: "n" }), "img:a-n-$-");
});

function request(extra: Partial<RenderRequest> = {}): RenderRequest {
  return { source: { repoURL: "https://git.example/r.git", path: "apps/a", targetRevision: "main" }, maxBytes: 1000, appName: "a", destinationNamespace: "n", ...extra };
}

test("render cache: keyed by parameters and the tree hashes of what the render read", async () => {
  const looks: boolean[] = [];
  const cache = new RenderCache({ onLookup: (hit) => looks.push(hit) });
  let hashes: Record<string, string> = { "apps/a": "t1", "apps/base": "b1", "apps/other": "o1" };
  const treeHash = async (p: string) => hashes[p];
  let renders = 0;
  let checkouts = 0;
  const io = {
    treeHash,
    checkout: async () => { checkouts++; return "/checkout"; },
    render: async (): Promise<RenderResult> => { renders++; return { sourceType: "Kustomize", objects: [obj(`r${renders}`)], reads: ["apps/a", "apps/base"], cacheable: true }; },
  };
  assert.equal((await cache.render(request(), io)).cacheHit, false);
  assert.equal((await cache.render(request(), io)).cacheHit, true);
  hashes = { ...hashes, "apps/other": "o2" };   // a commit touching another folder
  const r = await cache.render(request({ source: { ...request().source, targetRevision: "other-branch" } }), io);
  assert.equal(r.cacheHit, true, "targetRevision is not part of the key; content is");
  assert.equal(renders, 1);
  assert.equal(checkouts, 1, "a hit needs no checkout");
  hashes = { ...hashes, "apps/base": "b2" };   // ../base changed
  assert.equal((await cache.render(request(), io)).cacheHit, false);
  hashes = { ...hashes, "apps/base": "b1" };   // back to the first revision: still cached (variants)
  assert.equal((await cache.render(request(), io)).cacheHit, true);
  assert.equal((await cache.render(request({ kubeVersion: "1.30.0" }), io)).cacheHit, false, "render parameters are part of the key");
  assert.deepEqual(looks, [false, true, true, false, true, false]);
  assert.deepEqual({ hits: cache.stats().hits, misses: cache.stats().misses }, { hits: 3, misses: 3 });
});

test("render cache: bounded, uncacheable results not stored, chart versions keyed", async () => {
  const cache = new RenderCache({ maxEntries: 2 });
  const tree = async () => "t";
  for (const name of ["a", "b", "c"]) {
    await cache.set(renderCacheKey(request({ appName: name })), { sourceType: "Directory", objects: [], reads: ["x"] }, tree);
  }
  assert.equal(cache.stats().entries, 2);
  assert.equal(await cache.get(renderCacheKey(request({ appName: "a" })), tree), undefined, "the oldest was evicted");
  await cache.set(renderCacheKey(request({ appName: "r" })), { sourceType: "Kustomize", objects: [], reads: ["x"], cacheable: false }, tree);
  assert.equal(await cache.get(renderCacheKey(request({ appName: "r" })), tree), undefined);
  const chart = request({ source: { repoURL: "https://charts.example", chart: "c", targetRevision: "^1" } });
  assert.notEqual(renderCacheKey(chart, "1.0.0"), renderCacheKey(chart, "1.1.0"));
  const small = new RenderCache({ maxBytes: 10 });
  await small.set("k", { sourceType: "Directory", objects: [obj("big")], reads: [] }, tree);
  assert.equal(small.stats().entries, 0, "a result larger than the whole cache is not kept");
});
