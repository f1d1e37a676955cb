// Where Lua rules come from: the ConfigMap's argocd-cm keys and a resource_customizations-style directory, with
// Argo CD's wildcards and precedence (ConfigMap over directory, exact over wildcard; user CEL over user Lua).
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { KubeObject } from "../../../src/api/kube-object.ts";
import { assessHealth, compileHealthConfig, compileLuaRuleDir } from "../../../src/health/index.ts";
import { luaSourcesFromConfigMap, luaTableKey } from "../../../src/health/lua-rules.ts";

const says = (status: string, message: string) => `return { status = "${status}", message = "${message}" }`;

function object(apiVersion: string, kind: string): KubeObject {
  return { apiVersion, kind, metadata: { name: "x", namespace: "ns" } };
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tack-lua-dir-"));
  const put = async (path: string, text: string) => {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  };
  await put("example.com/Widget/health.lua", says("Degraded", "from the directory"));
  await put("example.com/Widget/actions/restart/action.lua", "error('not a health script')");
  await put("example.com/Widget/testdata/degraded.yaml", "kind: Widget");
  await put("_.example.org/_/health.lua", says("Suspended", "any kind of any example.org group"));
  await put("ConfigMap/health.lua", says("Healthy", "a core kind"));
  await put("example.com/Broken/health.lua", "return {");
});
after(() => rm(dir, { recursive: true, force: true }));

test("ConfigMap keys: resource.customizations.health.<group>_<Kind>, the core group as <Kind> or _<Kind>, wildcards", () => {
  assert.equal(luaTableKey("cert-manager.io_Certificate"), "cert-manager.io/Certificate");
  assert.equal(luaTableKey("_Pod"), "Pod");
  assert.equal(luaTableKey("Pod"), "Pod");
  assert.equal(luaTableKey("*.crossplane.io_*"), "*.crossplane.io/*");
  assert.equal(luaTableKey("Bad.Group_Kind"), undefined);
  const { sources, errors } = luaSourcesFromConfigMap({
    "resource.customizations.health.example.com_Widget": "return {}",
    "resource.customizations.useOpenLibs.example.com_Widget": "true",
    "resource.customizations.health.Bad/Key_X": "return {}",
    "resource.customizations.health.Secret": "return {}",
    "example.com_Widget": "- when: 'true'\n  status: Healthy\n",
  });
  assert.deepEqual(sources.map((s) => s.key), ["example.com/Widget"]);
  assert.deepEqual(errors.map((e) => e.key), ["resource.customizations.health.Bad/Key_X", "resource.customizations.health.Secret"]);
});

test("a Lua rule from the ConfigMap decides, and is reported as lua; CEL keys beside it still compile", async () => {
  const { rules, errors } = await compileHealthConfig({
    "resource.customizations.health.example.com_Widget": says("Degraded", "from the ConfigMap"),
    "example.com_Gizmo": "- when: 'true'\n  status: Healthy\n  message: cel\n",
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(assessHealth(object("example.com/v1", "Widget"), rules), { status: "Degraded", message: "from the ConfigMap", rule: "lua" });
  assert.deepEqual(assessHealth(object("example.com/v1", "Gizmo"), rules), { status: "Healthy", message: "cel", rule: "cel" });
  rules.lua.close();
});

test("a Lua rule that does not compile is reported and gives Unknown for its kind", async () => {
  const { rules, errors } = await compileHealthConfig({ "resource.customizations.health.example.com_Widget": "if then" });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.key, "resource.customizations.health.example.com_Widget");
  const verdict = assessHealth(object("example.com/v1", "Widget"), rules);
  assert.equal(verdict?.status, "Unknown");
  assert.match(verdict?.message ?? "", /health rule resource\.customizations\.health\.example\.com_Widget is invalid: .*unexpected symbol/);
});

test("the directory: <group>/<Kind>/health.lua, <Kind>/health.lua for the core group, _ as a wildcard; the rest ignored", async () => {
  const { layer, errors } = await compileLuaRuleDir(dir);
  assert.deepEqual(errors.map((e) => e.key), [join(dir, "example.com/Broken/health.lua")]);
  const { rules } = await compileHealthConfig({}, layer);
  const verdict = (apiVersion: string, kind: string) => assessHealth(object(apiVersion, kind), rules);
  assert.deepEqual(verdict("example.com/v1", "Widget"), { status: "Degraded", message: "from the directory", rule: "lua" });
  assert.deepEqual(verdict("a.example.org/v1", "Gadget"), { status: "Suspended", message: "any kind of any example.org group", rule: "lua" });
  assert.deepEqual(verdict("v1", "ConfigMap"), { status: "Healthy", message: "a core kind", rule: "lua" });
  assert.equal(verdict("example.com/v1", "Broken")?.status, "Unknown");
  assert.equal(verdict("example.org/v1", "Gadget"), undefined);   // `*.example.org` needs a subdomain
});

test("precedence: user CEL over the ConfigMap's Lua over the directory's; exact keys over wildcards", async () => {
  const { layer } = await compileLuaRuleDir(dir);
  const withLua = await compileHealthConfig({ "resource.customizations.health.example.com_Widget": says("Healthy", "ConfigMap") }, layer);
  assert.equal(assessHealth(object("example.com/v1", "Widget"), withLua.rules)?.message, "ConfigMap");
  const withCel = await compileHealthConfig({
    "resource.customizations.health.example.com_Widget": says("Healthy", "ConfigMap"),
    "example.com_Widget": "- when: 'true'\n  status: Progressing\n  message: cel\n",
  }, layer);
  assert.equal(assessHealth(object("example.com/v1", "Widget"), withCel.rules)?.rule, "cel");
  const exact = await compileHealthConfig({
    "resource.customizations.health.*.example.org_*": says("Degraded", "wildcard"),
    "resource.customizations.health.a.example.org_Gadget": says("Healthy", "exact"),
  });
  assert.equal(assessHealth(object("a.example.org/v1", "Gadget"), exact.rules)?.message, "exact");
  assert.equal(assessHealth(object("b.example.org/v1", "Gadget"), exact.rules)?.message, "wildcard");
});

test("a Secret never gets a Lua verdict, from the directory either", async () => {
  await mkdir(join(dir, "Secret"), { recursive: true });
  await writeFile(join(dir, "Secret", "health.lua"), says("Degraded", "leak"));
  const { layer } = await compileLuaRuleDir(dir);
  const { rules } = await compileHealthConfig({}, layer);
  assert.notEqual(assessHealth(object("v1", "Secret"), rules)?.message, "leak");
});

test("a directory that does not exist is an error", async () => {
  await assert.rejects(compileLuaRuleDir(join(dir, "absent")), /ENOENT/);
});
