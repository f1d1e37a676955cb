// Bad input: each case is a specific ComparisonError (reason + message), never a crash and never a read
// outside the repository.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chmod, cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { render, type RenderOptions, type RenderRequest } from "../../../src/render/index.ts";
import { ComparisonError, InvalidSpecError } from "../../../src/errors.ts";
import { standInTarget } from "../../../src/git/refused-entries.ts";
import type { ApplicationSource } from "../../../src/api/index.ts";
import { ensureTools, startChartRepo, type ChartRepo, type Tools } from "../../support/tools.ts";

const FIXTURES = new URL("../../fixtures/render/", import.meta.url).pathname;

let tools: Tools;
let checkout: string;
let scratch: string;
let options: RenderOptions;

before(async () => {
  tools = await ensureTools();
  checkout = await mkdtemp(join(tmpdir(), "tack-render-errors-"));
  scratch = await mkdtemp(join(tmpdir(), "tack-render-errors-scratch-"));
  await cp(join(FIXTURES, "repo"), checkout, { recursive: true });
  await mkdir(join(checkout, "helm/shared-values"), { recursive: true });
  await symlink("/etc/passwd", join(checkout, "helm/shared-values/passwd.yaml"));
  await mkdir(join(checkout, "helm/evil/templates"), { recursive: true });
  await writeFile(join(checkout, "helm/evil/Chart.yaml"), "apiVersion: v2\nname: evil\nversion: 0.1.0\n");
  await symlink("/etc/passwd", join(checkout, "helm/evil/templates/passwd.yaml"));
  await mkdir(join(checkout, "kustomize/evil"), { recursive: true });
  await writeFile(join(checkout, "kustomize/evil/kustomization.yaml"), "resources:\n  - passwd.yaml\n");
  await symlink("/etc/passwd", join(checkout, "kustomize/evil/passwd.yaml"));
  await mkdir(join(checkout, "kustomize/escape"), { recursive: true });
  await writeFile(join(checkout, "kustomize/escape/kustomization.yaml"), "resources:\n  - ../../../../../../etc\n");
  // What a checkout writes for entries it refuses (refused-entries.ts), and a plain dangling link.
  await mkdir(join(checkout, "refused/app/vendored"), { recursive: true });
  await writeFile(join(checkout, "refused/app/a.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
  await symlink(standInTarget("outside"), join(checkout, "refused/app/c.yaml"));
  await mkdir(join(checkout, "refused/dangling"), { recursive: true });
  await writeFile(join(checkout, "refused/dangling/a.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
  await symlink("gone.yaml", join(checkout, "refused/dangling/c.yaml"));
  await mkdir(join(checkout, "refused/sub"), { recursive: true });
  await writeFile(join(checkout, "refused/sub/a.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
  await symlink(standInTarget("submodule"), join(checkout, "refused/sub/vendored"));
  await symlink(standInTarget("absolute"), join(checkout, "refused/whole-app"));
  await mkdir(join(checkout, "refused/kust"), { recursive: true });
  await writeFile(join(checkout, "refused/kust/kustomization.yaml"), "resources:\n  - cm.yaml\n");
  await symlink(standInTarget("outside"), join(checkout, "refused/kust/cm.yaml"));
  await mkdir(join(checkout, "refused/chart/templates"), { recursive: true });
  await writeFile(join(checkout, "refused/chart/Chart.yaml"), "apiVersion: v2\nname: refused\nversion: 0.1.0\n");
  await symlink(standInTarget("outside"), join(checkout, "refused/chart/values-prod.yaml"));
  await symlink(standInTarget("unresolvable"), join(checkout, "refused/chart/templates/cm.yaml"));
  options = { helmBinary: tools.helm, kustomizeBinary: tools.kustomize, cacheDir: join(scratch, "cache"), timeoutMs: 60_000 };
});
after(async () => {
  await rm(checkout, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

function req(source: Partial<ApplicationSource>, extra: Partial<RenderRequest> = {}): RenderRequest {
  return {
    checkoutDir: checkout, source: { repoURL: "https://git.example/repo.git", ...source }, maxBytes: 10 << 20,
    appName: "demo", destinationNamespace: "team", options, ...extra,
  };
}

function comparisonError(reason: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ComparisonError, `expected a ComparisonError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /root:x:0:0/, "nothing of /etc/passwd is shown");
    return true;
  };
}

test("valueFiles ../../etc/passwd leaves the repository", async () => {
  await assert.rejects(render(req({ path: "helm/app", helm: { valueFiles: ["../../../../../../etc/passwd"] } })),
    comparisonError("InvalidSpec", /valueFiles '..\/..\/..\/..\/..\/..\/etc\/passwd' leaves the repository/));
  await assert.rejects(render(req({ path: "helm/app", helm: { valueFiles: ["/etc/passwd"] } })),
    comparisonError("InvalidSpec", /is absolute/));
  await assert.rejects(render(req({ path: "helm/app", helm: { valueFiles: ["https://evil.example/values.yaml"] } })),
    comparisonError("InvalidSpec", /is a URL/));
});

test("a value file, a template or a kustomize resource that is a symlink to /etc/passwd", async () => {
  await assert.rejects(render(req({ path: "helm/app", helm: { valueFiles: ["../shared-values/passwd.yaml"] } })),
    comparisonError("PathEscapesRepository", /valueFiles '..\/shared-values\/passwd.yaml' is a symlink that points outside the repository/));
  await assert.rejects(render(req({ path: "helm/evil" })),
    comparisonError("PathEscapesRepository", /symlink 'helm\/evil\/templates\/passwd.yaml' points outside the repository/));
  await assert.rejects(render(req({ path: "kustomize/evil" })),
    comparisonError("PathEscapesRepository", /'passwd.yaml' \(resources in kustomize\/evil\/kustomization.yaml\) is a symlink that points outside/));
  await assert.rejects(render(req({ path: "kustomize/escape" })),
    comparisonError("ManifestInvalid", /leaves the repository/));
  await assert.rejects(render(req({ path: "kustomize/base", kustomize: { components: ["../../../../../../tmp"] } })),
    comparisonError("ManifestInvalid", /leaves the repository/));
  await assert.rejects(render(req({ path: "../../etc", helm: {} })), comparisonError("InvalidSpec", /path '..\/..\/etc' leaves the repository/));
});

test("a chart whose render outlasts the timeout is stopped", async () => {
  const started = Date.now();
  await assert.rejects(render(req({ path: "helm/slow" }, { options: { ...options, timeoutMs: 1500 } })),
    comparisonError("RenderTimeout", /helm template of 'helm\/slow': helm did not finish within 1.5 s/));
  assert.ok(Date.now() - started < 10_000, "stopped at the timeout");
  // A tool that hangs (a fake binary that sleeps) is stopped the same way.
  const sleeper = join(scratch, "sleepy-kustomize");
  await writeFile(sleeper, "#!/bin/sh\nsleep 30\n");
  await chmod(sleeper, 0o755);
  await assert.rejects(render(req({ path: "kustomize/base" }, { options: { ...options, kustomizeBinary: sleeper, timeoutMs: 500 } })),
    comparisonError("RenderTimeout", /kustomize did not finish within 500 ms/));
});

test("a kustomization with a remote base is refused unless allowed", async () => {
  await assert.rejects(render(req({ path: "kustomize/remote" })),
    comparisonError("RemoteBaseRefused", /'https:\/\/github.com\/kubernetes-sigs\/kustomize\/\/examples\/helloWorld\?ref=v3.3.1' \(resources in kustomize\/remote\/kustomization.yaml\) is a remote base outside the repository; remote bases are refused/));
  await writeFile(join(checkout, "kustomize/remote/kustomization.yaml"), "resources:\n  - github.com/org/repo/base?ref=main\n");
  await assert.rejects(render(req({ path: "kustomize/remote" })), comparisonError("RemoteBaseRefused", /remote base/));
  await writeFile(join(checkout, "kustomize/remote/kustomization.yaml"), "resources:\n  - does-not-exist\n");
  await assert.rejects(render(req({ path: "kustomize/remote" })), comparisonError("RemoteBaseRefused", /not a file or directory of the repository/));
});

test("a missing helm or kustomize binary names it and how to install it", async () => {
  await assert.rejects(render(req({ path: "helm/app" }, { options: { ...options, helmBinary: join(scratch, "no-helm") } })),
    comparisonError("ToolNotFound", /helm not found .*install helm v3.22.0 \(go install helm.sh\/helm\/v3\/cmd\/helm@v3.22.0/));
  await assert.rejects(render(req({ path: "kustomize/base" }, { options: { ...options, kustomizeBinary: "tack-no-such-kustomize" } })),
    comparisonError("ToolNotFound", /kustomize not found .*sigs.k8s.io\/kustomize\/kustomize\/v5@v5.8.2/));
});

test("a values file, values or valuesObject that is not YAML", async () => {
  await assert.rejects(render(req({ path: "helm/app", helm: { valueFiles: ["values/not-yaml.yaml"] } })),
    comparisonError("ManifestInvalid", /valueFiles 'values\/not-yaml.yaml' is not valid YAML/));
  await assert.rejects(render(req({ path: "helm/app", helm: { values: "a: [1" } })),
    comparisonError("InvalidSpec", /spec.source.helm.values is not valid YAML/));
  await assert.rejects(render(req({ path: "helm/app", helm: { values: "- a\n- b\n" } })),
    comparisonError("InvalidSpec", /not a YAML mapping of values \(found a list\)/));
  await assert.rejects(render(req({ path: "helm/app", helm: { valueFiles: ["values/missing.yaml"] } })),
    comparisonError("PathNotFound", /valueFiles 'values\/missing.yaml' does not exist/));
  const ok = await render(req({ path: "helm/app", helm: { valueFiles: ["values/missing.yaml"], ignoreMissingValueFiles: true } }));
  assert.ok(ok.objects.length > 0);
});

test("a template error is a RenderError with helm's message and no temp paths", async () => {
  await mkdir(join(checkout, "helm/broken/templates"), { recursive: true });
  await writeFile(join(checkout, "helm/broken/Chart.yaml"), "apiVersion: v2\nname: broken\nversion: 0.1.0\n");
  await writeFile(join(checkout, "helm/broken/templates/cm.yaml"), "{{ fail \"the chart says no\" }}\n");
  await assert.rejects(render(req({ path: "helm/broken" })), (err: unknown) => {
    assert.ok(err instanceof ComparisonError && err.reason === "RenderError");
    assert.match(err.message, /the chart says no/);
    assert.doesNotMatch(err.message, /tack-render-/);
    return true;
  });
});

test("output larger than maxBytes is ManifestTooLarge", async () => {
  await assert.rejects(render(req({ path: "helm/app" }, { maxBytes: 200 })), comparisonError("ManifestTooLarge", /more than 200 bytes/));
});

test("source types: explicit settings win, several are refused", async () => {
  await assert.rejects(render(req({ path: "helm/app", helm: {}, kustomize: {} })),
    (err: unknown) => err instanceof InvalidSpecError && /multiple application sources defined: Kustomize,Helm/.test(err.message));
  const asDirectory = await render(req({ path: "kustomize/base", directory: { include: "service.yaml" } }));
  assert.equal(asDirectory.sourceType, "Directory");
  assert.deepEqual(asDirectory.objects.map((o) => o.kind), ["Service"]);
});

test("Helm repository credentials never appear in errors", async () => {
  let repo: ChartRepo | undefined;
  try {
    repo = await startChartRepo(tools.helm, [join(checkout, "helm/library/common")], { auth: { username: "robot", password: "s3cret-pa55" } });
    const { HelmRepositories } = await import("../../../src/render/helm-repo.ts");
    const helmRepositories = new HelmRepositories({ cacheDir: join(scratch, "charts"), credentials: () => ({ username: "robot", password: "wrong-s3cret" }) });
    await assert.rejects(render(req({ repoURL: repo.url, chart: "common", targetRevision: "1.2.0" }, { checkoutDir: undefined, options: { ...options, helmRepositories } })),
      (err: unknown) => err instanceof ComparisonError && err.reason === "RepositoryAuthFailed" && !err.message.includes("wrong-s3cret"));
    const url = repo.url.replace("http://", "http://robot:wrong-s3cret@");
    await assert.rejects(render(req({ repoURL: url, chart: "common", targetRevision: "1.2.0" }, { checkoutDir: undefined })),
      (err: unknown) => err instanceof ComparisonError && !err.message.includes("wrong-s3cret"));
    const good = new HelmRepositories({ cacheDir: join(scratch, "charts"), credentials: () => ({ username: "robot", password: "s3cret-pa55" }) });
    const result = await render(req({ repoURL: repo.url, chart: "common", targetRevision: "1.2.0" }, { checkoutDir: undefined, options: { ...options, helmRepositories: good } }));
    assert.equal(result.chartVersion, "1.2.0");
  } finally {
    await repo?.stop();
  }
});

test("a link that cannot be followed is refused wherever a render would read it, never read as a deleted file", async () => {
  const directory = { directory: {} };
  await assert.rejects(render(req({ path: "refused/app", ...directory })),
    comparisonError("PathEscapesRepository", /symlink 'refused\/app\/c.yaml' points outside the repository/));
  await assert.rejects(render(req({ path: "refused/dangling", ...directory })),
    comparisonError("ManifestInvalid", /symlink 'refused\/dangling\/c.yaml' points to nothing in the repository/));
  await assert.rejects(render(req({ path: "refused/whole-app" })),
    comparisonError("PathEscapesRepository", /path 'refused\/whole-app' is a symlink that points outside|symlink 'refused\/whole-app' points outside/));
  // A submodule is read only when the render would have looked inside it.
  assert.equal((await render(req({ path: "refused/sub", ...directory }))).objects.length, 1);
  await assert.rejects(render(req({ path: "refused/sub", directory: { recurse: true } })),
    comparisonError("ManifestInvalid", /'refused\/sub\/vendored' is a git submodule/));
  // Excluded on purpose: not read, so not an error.
  assert.equal((await render(req({ path: "refused/app", directory: { exclude: "c.yaml" } }))).objects.length, 1);
  await assert.rejects(render(req({ path: "refused/kust" })),
    comparisonError("PathEscapesRepository", /symlink 'refused\/kust\/cm.yaml' points outside the repository/));
  await assert.rejects(render(req({ path: "refused/chart", helm: { valueFiles: ["values-prod.yaml"], ignoreMissingValueFiles: true } })),
    comparisonError("PathEscapesRepository", /symlink 'refused\/chart\/values-prod.yaml' points outside the repository/));
  // A template that cannot be read fails the render (helm's own error on the copy), it is not left out.
  await assert.rejects(render(req({ path: "refused/chart" })), (err: unknown) => err instanceof ComparisonError);
});
