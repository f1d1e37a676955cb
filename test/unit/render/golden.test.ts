// Golden-file renders of every source type and override, with the pinned helm and kustomize
// (test/support/tools.ts). Fixtures: test/fixtures/render/repo (copied to a temp checkout per run);
// expected output: test/fixtures/render/golden/<case>.yaml. UPDATE_GOLDEN=1 rewrites the golden files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdtemp, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { render, type RenderOptions, type RenderRequest } from "../../../src/render/index.ts";
import { toYamlStream } from "../../../src/cli/render-command.ts";
import type { ApplicationSource } from "../../../src/api/index.ts";
import { ensureTools, startChartRepo, type ChartRepo, type Tools } from "../../support/tools.ts";

const FIXTURES = new URL("../../fixtures/render/", import.meta.url).pathname;
const UPDATE = process.env.UPDATE_GOLDEN === "1";

let tools: Tools;
let checkout: string;
let cacheDir: string;
let repo: ChartRepo;
let options: RenderOptions;

before(async () => {
  tools = await ensureTools();
  checkout = await mkdtemp(join(tmpdir(), "tack-golden-"));
  cacheDir = await mkdtemp(join(tmpdir(), "tack-golden-cache-"));
  await cp(join(FIXTURES, "repo"), checkout, { recursive: true });
  // A second, newer major of `common` that ranges below 2.0 must not pick.
  const v2 = join(cacheDir, "src/common");
  await cp(join(checkout, "helm/library/common"), v2, { recursive: true });
  await writeFile(join(v2, "Chart.yaml"), "apiVersion: v2\nname: common\nversion: 2.0.0\n");
  repo = await startChartRepo(tools.helm, [join(checkout, "helm/library/common"), v2]);
  const tmpl = await readFile(join(checkout, "helm/with-deps/Chart.yaml.tmpl"), "utf8");
  await writeFile(join(checkout, "helm/with-deps/Chart.yaml"), tmpl.replace("CHART_REPO_URL", repo.url));
  options = { helmBinary: tools.helm, kustomizeBinary: tools.kustomize, cacheDir, timeoutMs: 60_000 };
});
after(async () => {
  await repo?.stop();
  await rm(checkout, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });
});

function req(source: Partial<ApplicationSource>, extra: Partial<RenderRequest> = {}): RenderRequest {
  return {
    checkoutDir: checkout, source: { repoURL: "https://git.example/repo.git", ...source }, maxBytes: 10 << 20,
    appName: "demo", destinationNamespace: "team", options, ...extra,
  };
}

async function golden(name: string, request: RenderRequest, expected: { sourceType: string; reads?: string[] }): Promise<void> {
  const result = await render(request);
  assert.equal(result.sourceType, expected.sourceType);
  if (expected.reads) assert.deepEqual(result.reads, expected.reads);
  const text = toYamlStream(result.objects);
  const file = join(FIXTURES, "golden", `${name}.yaml`);
  if (UPDATE) {
    await mkdir(join(FIXTURES, "golden"), { recursive: true });
    await writeFile(file, text);
    return;
  }
  const want = await readFile(file, "utf8").catch(() => { throw new Error(`no golden file ${file}: run with UPDATE_GOLDEN=1`); });
  assert.equal(text, want, `${name}: render differs from ${file}`);
}

const cases: Array<[string, Partial<ApplicationSource>, Partial<RenderRequest>, { sourceType: string; reads?: string[] }]> = [
  ["directory", { path: "directory/app" }, {}, { sourceType: "Directory", reads: ["directory/app"] }],
  ["kustomize-base", { path: "kustomize/base" }, {}, { sourceType: "Kustomize", reads: ["kustomize/base"] }],
  ["kustomize-overlay", { path: "kustomize/overlay" }, {}, { sourceType: "Kustomize", reads: ["kustomize/base", "kustomize/overlay"] }],
  ["kustomize-images-prefix-suffix", { path: "kustomize/overlay", kustomize: { images: ["nginx=registry.local/nginx:1.27"], namePrefix: "x-", nameSuffix: "-y" } }, {}, { sourceType: "Kustomize" }],
  ["kustomize-labels-annotations-namespace", { path: "kustomize/base", kustomize: { commonLabels: { team: "a", app: "$ARGOCD_APP_NAME" }, commonAnnotations: { owner: "b" }, namespace: "ns1" } }, {}, { sourceType: "Kustomize" }],
  ["kustomize-replicas", { path: "kustomize/base", kustomize: { replicas: [{ name: "web", count: 5 }] } }, {}, { sourceType: "Kustomize" }],
  ["kustomize-patches", { path: "kustomize/base", kustomize: { patches: [{ target: { kind: "Service", name: "web" }, patch: "- op: replace\n  path: /spec/ports/0/port\n  value: 8080\n" }] } }, {}, { sourceType: "Kustomize" }],
  ["kustomize-components", { path: "kustomize/base", kustomize: { components: ["../components/monitoring"] } }, {}, { sourceType: "Kustomize", reads: ["kustomize/base", "kustomize/components/monitoring"] }],
  ["helm-defaults", { path: "helm/app" }, {}, { sourceType: "Helm", reads: ["helm/app"] }],
  ["helm-value-files", { path: "helm/app", helm: { valueFiles: ["values/prod.yaml"] } }, {}, { sourceType: "Helm" }],
  ["helm-values", { path: "helm/app", helm: { values: "greeting: inline\nextra:\n  b: two\n" } }, {}, { sourceType: "Helm" }],
  ["helm-values-object", { path: "helm/app", helm: { valuesObject: { greeting: "object", replicas: 5 }, values: "greeting: ignored" } }, {}, { sourceType: "Helm" }],
  ["helm-parameters", { path: "helm/app", helm: { releaseName: "custom", parameters: [
    { name: "replicas", value: "4" }, { name: "extra.port", value: "8080", forceString: true }, { name: "extra.list", value: "a,b" },
  ] } }, {}, { sourceType: "Helm" }],
  ["helm-skip-crds-capabilities", { path: "helm/app", helm: { skipCrds: true } }, { kubeVersion: "1.30.2", apiVersions: ["example.com/v1/Widget"] }, { sourceType: "Helm" }],
  ["helm-dependencies", { path: "helm/with-deps" }, {}, { sourceType: "Helm", reads: ["helm/with-deps"] }],
  ["helm-file-dependency", { path: "helm/local-dep" }, {}, { sourceType: "Helm", reads: ["helm/library/common", "helm/local-dep"] }],
];

for (const [name, source, extra, expected] of cases) {
  test(`golden: ${name}`, async () => { await golden(name, req(source, extra), expected); });
}

test("golden: a chart from a Helm repository, version from a semver range", async () => {
  const request = req({ repoURL: repo.url, chart: "common", targetRevision: "^1.0", helm: { parameters: [{ name: "label", value: "repo" }] } }, { checkoutDir: undefined });
  const result = await render(request);
  assert.equal(result.chartVersion, "1.2.0");
  await golden("helm-repository-chart", request, { sourceType: "Helm", reads: [] });
  const exact = await render(req({ repoURL: repo.url, chart: "common", targetRevision: "2.0.0" }, { checkoutDir: undefined }));
  assert.equal(exact.chartVersion, "2.0.0");
});

test("dependencies are built once into the cache, and the checkout is never written", async () => {
  const before = await treeDigest(checkout);
  const fetched = repo.requests.filter((p) => p.endsWith(".tgz")).length;
  await render(req({ path: "helm/with-deps" }));
  await render(req({ path: "kustomize/overlay", kustomize: { images: ["nginx=x"], patches: [{ patch: "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: web}\nspec: {replicas: 9}\n" }] } }));
  assert.equal(repo.requests.filter((p) => p.endsWith(".tgz")).length, fetched, "a cached dependency is not fetched again");
  assert.ok((await readdir(join(cacheDir, "helm-dependencies"))).length >= 1);
  assert.equal(await treeDigest(checkout), before, "renders never write into the checkout");
});

test("symlinks inside the repository are followed and recorded as reads", async () => {
  await mkdir(join(checkout, "helm/linked/templates"), { recursive: true });
  await writeFile(join(checkout, "helm/linked/Chart.yaml"), "apiVersion: v2\nname: linked\nversion: 0.1.0\n");
  await symlink("../../../directory/app/configmap.yaml", join(checkout, "helm/linked/templates/cm.yaml"));
  const result = await render(req({ path: "helm/linked" }));
  assert.deepEqual(result.objects.map((o) => o.metadata.name), ["settings"]);
  assert.deepEqual(result.reads, ["directory/app/configmap.yaml", "helm/linked"]);
});

async function treeDigest(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      hash.update(p);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) hash.update(await readFile(p));
    }
  };
  await walk(dir);
  return hash.digest("hex");
}
