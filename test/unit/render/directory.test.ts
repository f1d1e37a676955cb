import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDirectory, globToRegExp } from "../../../src/render/directory.ts";
import { detectSourceType, render } from "../../../src/render/index.ts";
import { ComparisonError, InvalidSpecError } from "../../../src/errors.ts";

let root: string;
const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "tack-render-"));
  await mkdir(join(root, "app/sub/deeper"), { recursive: true });
  await writeFile(join(root, "app/a.yaml"), cm("a"));
  await writeFile(join(root, "app/b.yml"), cm("b"));
  await writeFile(join(root, "app/c.json"), JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }));
  await writeFile(join(root, "app/README.md"), "# not a manifest");
  await writeFile(join(root, "app/sub/d.yaml"), cm("d"));
  await writeFile(join(root, "app/sub/deeper/e.yaml"), cm("e"));
  await mkdir(join(root, "kust"));
  await writeFile(join(root, "kust/kustomization.yaml"), "resources: []\n");
  await mkdir(join(root, "escape"));
  await symlink("/etc", join(root, "escape/etc-link"));
  await mkdir(join(root, "linked"));
  await symlink("../app/a.yaml", join(root, "linked/a.yaml"));
});
after(async () => { await rm(root, { recursive: true, force: true }); });

const names = (objs: Array<{ metadata: { name?: string } }>) => objs.map((o) => o.metadata.name).sort();

test("reads .yaml, .yml and .json at the top level only by default", async () => {
  assert.deepEqual(names(await renderDirectory({ root, path: "app", maxBytes: 1e6 })), ["a", "b", "c"]);
});

test("recurse, include and exclude (Argo CD globs: * crosses directories)", async () => {
  assert.deepEqual(names(await renderDirectory({ root, path: "app", recurse: true, maxBytes: 1e6 })), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(names(await renderDirectory({ root, path: "app", recurse: true, include: "*.yaml", maxBytes: 1e6 })), ["a", "d", "e"]);
  assert.deepEqual(names(await renderDirectory({ root, path: "app", recurse: true, exclude: "{sub/deeper/*,*.json}", maxBytes: 1e6 })), ["a", "b", "d"]);
  assert.ok(globToRegExp("{a,b}.y?ml").test("a.yaml"));
  assert.ok(!globToRegExp("*.yaml").test("a.yml"));
});

test("the total size is bounded", async () => {
  await assert.rejects(renderDirectory({ root, path: "app", maxBytes: 60 }), (err: unknown) =>
    err instanceof ComparisonError && err.reason === "ManifestTooLarge");
});

test("paths stay inside the checkout", async () => {
  for (const path of ["../", "/etc", "app/../../x"]) {
    await assert.rejects(renderDirectory({ root, path, maxBytes: 1e6 }), /leaves the repository|is absolute/, path);
  }
  await assert.rejects(renderDirectory({ root, path: "escape/etc-link", maxBytes: 1e6 }), (err: unknown) =>
    err instanceof ComparisonError && err.reason === "PathEscapesRepository" && /path 'escape\/etc-link' is a symlink that points outside the repository/.test(err.message));
  await assert.rejects(renderDirectory({ root, path: "escape", recurse: true, maxBytes: 1e6 }), /symlink 'escape\/etc-link' points outside/);
  assert.deepEqual(names(await renderDirectory({ root, path: "linked", maxBytes: 1e6 })), ["a"], "a link inside the repo is followed");
  await assert.rejects(renderDirectory({ root, path: "missing", maxBytes: 1e6 }), (err: unknown) =>
    err instanceof ComparisonError && err.reason === "PathNotFound" && /missing/.test(err.message));
});

test("a Kustomize directory is detected as Kustomize (rendered by kustomize.ts: see golden.test.ts)", async () => {
  assert.equal(await detectSourceType(root, "kust"), "Kustomize");
  assert.equal(await detectSourceType(root, "app"), "Directory");
  await assert.rejects(render({ checkoutDir: root, source: { repoURL: "https://x", path: "kust" }, maxBytes: 1e6, appName: "a", destinationNamespace: "n",
    options: { kustomizeBinary: join(root, "no-kustomize") } }),
    (err: unknown) => err instanceof ComparisonError && err.reason === "ToolNotFound" && /kustomize not found/.test(err.message));
  await assert.rejects(render({ checkoutDir: root, source: { repoURL: "https://x", path: "app", plugin: {} }, maxBytes: 1e6, appName: "a", destinationNamespace: "n" }),
    (err: unknown) => err instanceof InvalidSpecError);
});
