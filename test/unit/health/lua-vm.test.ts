// The Lua VM wrapper: Argo CD's inputs and outputs (the global `obj`, a returned {status, message}), the Lua 5.1
// idioms its scripts use, and the sandbox: hostile scripts end as Unknown with the reason, within their limits.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../../src/api/kube-object.ts";
import { loadLuaRuntime, LUA_LIMITS, LuaHealthScript, type LuaLimits } from "../../../src/health/lua-vm.ts";

const lua = await loadLuaRuntime();

const widget: KubeObject = {
  apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "shop", labels: { tier: "web" } },
  spec: { replicas: 3, ratio: 0.5, paused: false, nothing: null },
  status: {
    conditions: [
      { type: "Synced", status: "True" },
      null,
      { type: "Ready", status: "False", reason: "Jammed", message: "gear 7 is jammed" },
    ],
    tags: [],
  },
};

function run(script: string, obj: KubeObject = widget, limits?: LuaLimits) {
  const compiled = new LuaHealthScript(lua, "example.com/Widget", script, limits);
  try {
    return compiled.run(obj);
  } finally {
    compiled.close();
  }
}

function timed(script: string, limits?: LuaLimits) {
  const start = performance.now();
  const verdict = run(script, widget, limits);
  return { verdict, ms: performance.now() - start };
}

test("obj is the object as a table: 1-based arrays without null elements, null is nil, integers print as integers", () => {
  const verdict = run(`
    local c = obj.status.conditions
    return { status = "Healthy", message = table.concat({ #c, c[1].type, c[2].reason, tostring(obj.spec.nothing),
      tostring(obj.spec.replicas), tostring(obj.spec.ratio), tostring(obj.spec.paused), #obj.status.tags,
      obj.metadata.labels.tier, type(obj.status) }, ",") }`);
  assert.deepEqual(verdict, { status: "Healthy", message: "2,Synced,Jammed,nil,3,0.5,false,0,web,table" });
});

test("each of the six statuses is returned as given, with its message; a missing message is empty", () => {
  for (const status of ["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"]) {
    assert.deepEqual(run(`return { status = "${status}", message = "m" }`), { status, message: "m" });
  }
  assert.deepEqual(run(`return { status = "Healthy" }`), { status: "Healthy", message: "" });
});

test("the Lua 5.1 idioms of Argo CD's scripts work: unpack, #, pairs, ipairs, string and table functions, os.time", () => {
  const verdict = run(`
    local a, b = unpack({ "x", "y" })
    local keys = {}
    for k, _ in pairs(obj.metadata) do table.insert(keys, k) end
    table.sort(keys)
    local found = string.find("no endpoints available", "endpoints", 1, true)
    local word = string.match("Reason: Jammed.", "Reason: (%a+)")
    local dashed = string.gsub("a b c", " ", "-")
    local n = 0
    for _, c in ipairs(obj.status.conditions) do if c.status == "True" then n = n + 1 end end
    return { status = "Degraded", message = string.format("%s%s %s %d %s %s %d %s %d", a, b, table.concat(keys, "+"),
      found, word, dashed, n, tostring(os.time() > 0), table.getn(keys)) }`);
  assert.deepEqual(verdict, { status: "Degraded", message: "xy labels+name+namespace 4 Jammed a-b-c 1 true 3" });
});

test("a script with a syntax error does not compile, and says where", () => {
  assert.throws(() => new LuaHealthScript(lua, "example.com/Widget", "return {"), /example\.com\/Widget:1:/);
});

test("returning nothing, a non-table or an invalid status gives Unknown, as Argo CD does", () => {
  assert.deepEqual(run("local x = 1"), { status: "Unknown", message: "health.lua for example.com/Widget: expect table output from Lua script, not nil" });
  assert.match(run(`return "Healthy"`).message, /not string/);
  assert.deepEqual(run(`return { status = "Fine" }`), { status: "Unknown", message: "Lua returned an invalid health status" });
  assert.deepEqual(run(`return {}`), { status: "Unknown", message: "Lua returned an invalid health status" });
  assert.match(run(`return { status = "Healthy", message = {} }`).message, /message must be a string/);
});

test("a script that throws gives Unknown with its error", () => {
  assert.deepEqual(run(`error("the widget is on fire")`), { status: "Unknown", message: "health.lua for example.com/Widget failed: example.com/Widget:1: the widget is on fire" });
  assert.match(run(`return obj.spec.missing.field`).message, /attempt to index a nil value \(field 'missing'\)/);
  assert.match(run(`error({})`).message, /error object is a table/);
});

test("no file, process or code loading: os.execute, io, load, dofile, loadfile, debug, string.dump are absent", () => {
  for (const [script, absent] of [
    [`os.execute("touch /tmp/tack-lua-pwned")`, "field 'execute'"], [`os.exit(1)`, "field 'exit'"],
    [`io.open("/etc/passwd")`, "global 'io'"], [`load("return 1")()`, "global 'load'"],
    [`loadstring("return 1")()`, "global 'loadstring'"], [`dofile("/etc/passwd")`, "global 'dofile'"],
    [`loadfile("/etc/passwd")`, "global 'loadfile'"], [`debug.getinfo(1)`, "global 'debug'"], [`package.loadlib("x", "y")`, "global 'package'"],
    [`collectgarbage("stop")`, "global 'collectgarbage'"], [`string.dump(print)`, "field 'dump'"], [`coroutine.create(print)`, "global 'coroutine'"],
  ] as const) {
    const verdict = run(`${script} return { status = "Healthy" }`);
    assert.equal(verdict.status, "Unknown", script);
    assert.match(verdict.message, new RegExp(`attempt to (call|index) a nil value \\(${absent.replace(/[()]/g, "\\$&")}\\)`), script);
  }
});

test("require gives only the modules already open (Argo CD preloads its safe os); no file is ever loaded", () => {
  assert.deepEqual(run(`local os = require("os") return { status = "Healthy", message = type(os.time) .. tostring(os.execute) }`),
    { status: "Healthy", message: "functionnil" });
  for (const name of ["io", "debug", "package", "/etc/passwd", "./health"]) {
    assert.match(run(`require("${name}")`).message, /module '.*' is not available to health scripts/, name);
  }
});

test("each run has fresh globals: a run cannot see what the one before it left", () => {
  const script = new LuaHealthScript(lua, "example.com/Widget", `
    if seen then return { status = "Degraded", message = "saw the previous run" } end
    seen = true
    return { status = "Healthy" }`);
  assert.equal(script.run(widget).status, "Healthy");
  assert.equal(script.run(widget).status, "Healthy");
  script.close();
});

test("an infinite loop is stopped by the instruction budget", () => {
  const { verdict, ms } = timed("while true do end");
  assert.deepEqual(verdict, { status: "Unknown", message: `health.lua for example.com/Widget exceeded its budget of ${LUA_LIMITS.instructions} Lua instructions` });
  assert.ok(ms < 2_000, `stopped after ${ms} ms`);
});

test("a loop is stopped by the time limit when the instruction budget is larger", () => {
  const { verdict, ms } = timed("local i = 0 while true do i = i + 1 end", { ...LUA_LIMITS, instructions: 1e12, timeMs: 50 });
  assert.match(verdict.message, /exceeded its time limit of 50 ms/);
  assert.ok(ms < 1_000, `stopped after ${ms} ms`);
});

test("huge allocations are contained by the memory limit: doubling a string, string.rep, a growing table, deep recursion", () => {
  for (const script of [
    `local s = "x" while true do s = s .. s end`,
    `return { status = string.rep("x", 1e9) }`,
    `local t = {} local i = 0 while true do i = i + 1 t[i] = { i } end`,
    `local function f(n) return f(n + 1) + 1 end return f(1)`,
  ]) {
    const { verdict, ms } = timed(script);
    assert.equal(verdict.status, "Unknown", script);
    assert.match(verdict.message, /exceeded its (memory limit|budget)/, script);
    assert.ok(ms < 2_000, `${script}: ${ms} ms`);
  }
  // The state is usable again afterwards.
  const script = new LuaHealthScript(lua, "example.com/Widget", `local s = "x" for i = 1, 40 do s = s .. s end`);
  assert.equal(script.run(widget).status, "Unknown");
  assert.equal(new LuaHealthScript(lua, "example.com/Widget", `return { status = "Healthy" }`).run(widget).status, "Healthy");
  script.close();
});

test("a backtracking pattern on a long string is refused before it runs; ordinary patterns are not", () => {
  const { verdict, ms } = timed(`local s = string.rep("a", 3000) return { status = "Healthy", message = tostring(s:find(".-.-.-b")) }`);
  assert.match(verdict.message, /pattern match too costly/);
  assert.ok(ms < 500, `${ms} ms`);
  const many = timed(`local s = string.rep("a", 2000) for i = 1, 1000 do s:find(".-b") end`);
  assert.match(many.verdict.message, /exceeded its budget/);
  assert.equal(run(`return { status = "Healthy", message = string.match(string.rep("x", 1000) .. " Ready", "(%a+)$") }`).status, "Healthy");
});

test("__gc finalizers are refused: they would run outside any bounded call", () => {
  assert.match(run(`setmetatable({}, { __gc = function() while true do end end })`).message, /__gc metamethods are not available/);
  assert.equal(run(`local t = setmetatable({}, { __index = function() return "Healthy" end }) return { status = t.x }`).status, "Healthy");
});

test("a metamethod of the returned table is bounded too", () => {
  const verdict = run(`return setmetatable({}, { __index = function() while true do end end })`);
  assert.match(verdict.message, /exceeded its budget/);
});

test("compiled once, a script is fast to run again", () => {
  const script = new LuaHealthScript(lua, "example.com/Widget", `
    for _, c in ipairs(obj.status.conditions) do
      if c.type == "Ready" then return { status = c.status == "True" and "Healthy" or "Degraded", message = c.message } end
    end
    return { status = "Progressing" }`);
  const start = performance.now();
  for (let i = 0; i < 1_000; i++) assert.equal(script.run(widget).status, "Degraded");
  const perRun = (performance.now() - start) / 1_000;
  script.close();
  assert.ok(perRun < 1, `${perRun} ms per run`);
});
