// `tack health --lua-dir DIR`: Argo CD Lua rules from a resource_customizations-style directory, and Lua keys in
// the --rules ConfigMap winning over them, as in the controller.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runHealthCommand } from "../../../src/cli/health-command.ts";

let dir = "";
let objects = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tack-health-lua-"));
  await mkdir(join(dir, "rules/example.com/Widget"), { recursive: true });
  await writeFile(join(dir, "rules/example.com/Widget/health.lua"), `
local hs = { status = "Progressing", message = "Waiting for the widget controller" }
if obj.status == nil or obj.status.conditions == nil then return hs end
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    hs.status = c.status == "True" and "Healthy" or "Degraded"
    hs.message = c.message
  end
end
return hs
`);
  await mkdir(join(dir, "rules/example.com/Spinner"), { recursive: true });
  await writeFile(join(dir, "rules/example.com/Spinner/health.lua"), "while true do end");
  objects = join(dir, "objects.yaml");
  await writeFile(objects, `apiVersion: example.com/v1
kind: Widget
metadata: {name: ok, namespace: shop}
status: {conditions: [{type: Ready, status: "True", message: all gears turn}]}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: new, namespace: shop}
---
apiVersion: example.com/v1
kind: Spinner
metadata: {name: s, namespace: shop}
`);
});
after(() => rm(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runHealthCommand(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; } });
  return { code, out, err };
}

test("--lua-dir runs the directory's health.lua per kind; a script that loops gives Unknown", async () => {
  const r = await run("--lua-dir", join(dir, "rules"), objects);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, [
    "Widget/shop/ok: Healthy - all gears turn",
    "Widget/shop/new: Progressing - Waiting for the widget controller",
    "Spinner/shop/s: Unknown - health.lua for example.com/Spinner exceeded its budget of 10000000 Lua instructions",
    "",
  ].join("\n"));
});

test("--rules' Lua keys win over --lua-dir for the same kind", async () => {
  const rulesFile = join(dir, "rules.yaml");
  await writeFile(rulesFile, `apiVersion: v1
kind: ConfigMap
metadata: {name: tack-health-rules}
data:
  resource.customizations.health.example.com_Widget: |
    return { status = "Suspended", message = "parked by the ConfigMap" }
`);
  const r = await run("-o", "json", `--lua-dir=${join(dir, "rules")}`, "--rules", rulesFile, objects);
  assert.equal(r.code, 0, r.err);
  const rows = JSON.parse(r.out) as Array<{ name: string; status: string; message: string }>;
  assert.deepEqual(rows.map((row) => [row.name, row.status, row.message]).slice(0, 2), [
    ["ok", "Suspended", "parked by the ConfigMap"], ["new", "Suspended", "parked by the ConfigMap"],
  ]);
});

test("a directory that cannot be read exits 2; a script that does not compile is named on stderr and gives Unknown", async () => {
  const missing = await run("--lua-dir", join(dir, "absent"), objects);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /absent: cannot read: ENOENT/);
  await mkdir(join(dir, "rules/example.com/Spinner"), { recursive: true });
  await writeFile(join(dir, "rules/example.com/Spinner/health.lua"), "return {");
  const broken = await run("--lua-dir", join(dir, "rules"), objects);
  assert.equal(broken.code, 0);
  assert.match(broken.err, /Spinner\/health\.lua: .*unexpected symbol|Spinner\/health\.lua: .*expected/);
  assert.match(broken.out, /Spinner\/shop\/s: Unknown - health rule .*Spinner\/health\.lua is invalid/);
});

test("--help documents --lua-dir", async () => {
  assert.match((await run("--help")).out, /--lua-dir DIR/);
});
