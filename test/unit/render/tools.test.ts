// Render tools are found one way (src/render/tools.ts): flag, environment variable, PATH, TACK_TOOLS_BIN, then the
// pinned tools cache that hack/tools/build.sh fills. The controller (through loadConfig) and `tack render` share it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadAll } from "js-yaml";
import { runRenderCommand } from "../../../src/cli/render-command.ts";
import { loadConfig } from "../../../src/config.ts";
import { PINNED_TOOL_VERSIONS, findTool } from "../../../src/render/tools.ts";
import { ensureTools, type Tools } from "../../support/tools.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const FIXTURES = new URL("../../fixtures/render/", import.meta.url).pathname;
const PINNED_SET = `helm-${PINNED_TOOL_VERSIONS.helm}-kustomize-${PINNED_TOOL_VERSIONS.kustomize}`;
let scratch: string;
let tools: Tools;

before(async () => {
  tools = await ensureTools();
  scratch = await mkdtemp(join(tmpdir(), "tack-tools-"));
});
after(async () => { await rm(scratch, { recursive: true, force: true }); });

/** A directory holding executable stand-ins (or, with `target`, links to real binaries) of the named tools. */
async function binDir(name: string, tools: string[], target?: (tool: string) => string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  for (const tool of tools) {
    if (target) await symlink(target(tool), join(dir, tool));
    else {
      await writeFile(join(dir, tool), "#!/bin/sh\nexit 0\n");
      await chmod(join(dir, tool), 0o755);
    }
  }
  return dir;
}

test("the pinned versions are the ones hack/tools/build.sh builds", async () => {
  const { stdout } = await promisify(execFile)("bash", [join(ROOT, "hack/tools/build.sh"), "--print-versions"]);
  assert.deepEqual(Object.fromEntries(stdout.trim().split("\n").map((line) => line.split("="))), { ...PINNED_TOOL_VERSIONS });
});

test("lookup order: flag, then TACK_<TOOL>_BINARY, then PATH, then TACK_TOOLS_BIN, then the pinned tools cache", async () => {
  const onPath = await binDir("order/path", ["helm"]);
  const ready = await binDir("order/ready", ["helm"]);
  const pinned = await binDir(`order/build/tools/${PINNED_SET}`, ["helm"]);
  const env = { TACK_HELM_BINARY: "/opt/helm", PATH: `relative/dir::${onPath}`, TACK_TOOLS_BIN: ready, TACK_BUILD_CACHE_DIR: join(scratch, "order/build") };
  assert.deepEqual(findTool("helm", { flag: "/flag/helm", env }), { binary: "/flag/helm", source: "flag" });
  assert.deepEqual(findTool("helm", { env }), { binary: "/opt/helm", source: "env" });
  const { TACK_HELM_BINARY: _named, ...unnamed } = env;
  assert.deepEqual(findTool("helm", { env: unnamed }), { binary: join(onPath, "helm"), source: "PATH" });
  assert.deepEqual(findTool("helm", { env: { ...unnamed, PATH: "/nonexistent" } }), { binary: join(ready, "helm"), source: "TACK_TOOLS_BIN" });
  assert.deepEqual(findTool("helm", { env: { ...unnamed, PATH: "", TACK_TOOLS_BIN: "" } }), { binary: join(pinned, "helm"), source: "pinned cache" });
  assert.deepEqual(findTool("helm", { env: {} }), { binary: "helm", source: "not found" }, "the bare name: running it gives ToolNotFound");
});

test("the pinned tools cache: TACK_BUILD_CACHE_DIR, XDG_CACHE_HOME or HOME; a tool's own directory; the former TACK_CACHE_DIR", async () => {
  const xdg = join(scratch, "roots/xdg");
  await binDir(`roots/xdg/tack/tools/${PINNED_SET}`, ["helm", "kustomize"]);
  assert.equal(findTool("kustomize", { env: { XDG_CACHE_HOME: xdg, HOME: "/nonexistent" } }).binary, join(xdg, `tack/tools/${PINNED_SET}/kustomize`));
  const home = join(scratch, "roots/home");
  const own = await binDir(`roots/home/.cache/tack/tools/kustomize-${PINNED_TOOL_VERSIONS.kustomize}`, ["kustomize"]);
  assert.equal(findTool("kustomize", { env: { HOME: home } }).binary, join(own, "kustomize"), "a tool's own directory, when the set's is missing");
  const legacy = await binDir(`roots/legacy/tools/${PINNED_SET}`, ["helm"]);
  assert.equal(findTool("helm", { env: { HOME: "/nonexistent", TACK_CACHE_DIR: join(scratch, "roots/legacy") } }).binary, join(legacy, "helm"));
  await binDir("roots/path", ["jsonnet"]);
  assert.equal(findTool("jsonnet", { env: { PATH: join(scratch, "roots/path"), XDG_CACHE_HOME: xdg } }).source, "PATH");
  assert.equal(findTool("jsonnet", { env: { XDG_CACHE_HOME: xdg } }).source, "not found", "no pinned jsonnet yet");
  // Not executable, or a directory: not a tool.
  await mkdir(join(scratch, "roots/bad/helm"), { recursive: true });
  await writeFile(join(scratch, "roots/bad/kustomize"), "#!/bin/sh\n");
  assert.equal(findTool("helm", { env: { PATH: join(scratch, "roots/bad") } }).source, "not found");
  assert.equal(findTool("kustomize", { env: { PATH: join(scratch, "roots/bad") } }).source, "not found");
});

test("the controller's config finds helm and kustomize the same way; a flag or variable still wins", async () => {
  const home = join(scratch, "config-home");
  const pinned = await binDir(`config-home/.cache/tack/tools/${PINNED_SET}`, ["helm", "kustomize"]);
  const config = loadConfig({ HOME: home, PATH: "/nonexistent" });
  assert.equal(config.helmBinary, join(pinned, "helm"));
  assert.equal(config.kustomizeBinary, join(pinned, "kustomize"));
  assert.equal(loadConfig({ HOME: home, TACK_HELM_BINARY: "helm3" }).helmBinary, "helm3");
  assert.equal(loadConfig({ HOME: home, TACK_HELM_BINARY: "helm3" }, ["--helm-binary=/x/helm"]).helmBinary, "/x/helm");
  assert.equal(loadConfig({}).kustomizeBinary, "kustomize", "nothing found: the bare name, as before");
});

test("`tack render` after the set-up built the tools (npm run demo, npm test) finds them in its cache, without PATH or flags", async () => {
  const repo = join(scratch, "repo");
  await cp(join(FIXTURES, "repo"), repo, { recursive: true });
  await mkdir(join(repo, ".git"));
  const home = join(scratch, "render-home");
  const real = (tool: string) => (tool === "helm" ? tools.helm : tools.kustomize);
  await binDir(`render-home/.cache/tack/tools/${PINNED_SET}`, ["helm", "kustomize"], real);
  const run = async (args: string[], env: Record<string, string>) => {
    let out = "";
    let err = "";
    const code = await runRenderCommand(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, env });
    return { code, out, err };
  };
  const names = (yaml: string) => (loadAll(yaml) as Array<{ kind: string }>).map((o) => o.kind);
  const env = { HOME: home, PATH: "/usr/bin:/bin" };
  const chart = await run([join(repo, "helm/app"), "--skip-crds"], env);
  assert.equal(chart.code, 0, chart.err);
  assert.ok(names(chart.out).includes("Deployment"), chart.out);
  const overlay = await run([join(repo, "kustomize/overlay")], env);
  assert.equal(overlay.code, 0, overlay.err);
  assert.ok(names(overlay.out).includes("Deployment"), overlay.out);
  // Without the cache the tools are missing, and the message says where they are looked for.
  const missing = await run([join(repo, "helm/app")], { HOME: join(scratch, "empty-home"), PATH: "/usr/bin:/bin" });
  assert.equal(missing.code, 2);
  assert.match(missing.err, /ToolNotFound: .*helm not found .*hack\/tools\/build.sh', whose build Tack finds by itself/);
});
