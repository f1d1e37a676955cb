// Argo CD health scripts (`health.lua`) run in the reference Lua (5.4, compiled to WebAssembly by wasmoon), one
// Lua state per script, sandboxed and bounded (docs/adr/0008-lua-health-rules.md).
//
// Loading the WebAssembly module is asynchronous and happens once (loadLuaRuntime); compiling a script and
// running it on an object are synchronous, so assessHealth stays a plain function. A script sees only what Argo CD
// gives its scripts: the global `obj`, the base functions, string, table, math and an `os` with time and date
// (also through `require`, which loads nothing else).
// Every run is bounded in Lua instructions, in bytes the state may hold and in wall-clock time; whatever a script
// does (loops, allocates, throws, returns garbage), the run ends with a verdict, at worst Unknown with the reason.

import { LUA_MULTRET, LUA_REGISTRYINDEX, LuaWasm } from "wasmoon";
import type { KubeObject } from "../api/kube-object.ts";
import { HealthStatusCode, unknown, type HealthStatus } from "./types.ts";

export interface LuaLimits {
  /** Lua VM instructions one run may execute. */
  instructions: number;
  /** Bytes the script's Lua state may hold (the object's table, the script's own data, garbage not yet collected). */
  memoryBytes: number;
  /** Wall-clock time of one run, checked between instructions (Argo CD gives each script 1 s). */
  timeMs: number;
}

/**
 * 10 M instructions is about 0.1–0.2 s here and two orders of magnitude above what a real health script spends
 * on a large object; 32 MiB holds a 1.5 MB object (etcd's limit) several times over.
 */
export const LUA_LIMITS: Readonly<LuaLimits> = Object.freeze({ instructions: 10_000_000, memoryBytes: 32 * 1024 * 1024, timeMs: 1_000 });

/** The hook runs every this many instructions: often enough to stop a loop quickly, rare enough to cost nothing. */
const HOOK_EVERY = 1_000;
const LUA_MASKCOUNT = 8;
const LUA_OK = 0;
const LUA_ERRMEM = 4;
const LUA_TNIL = 0;
const LUA_TNUMBER = 3;
const LUA_TSTRING = 4;
const LUA_TTABLE = 5;
const TYPE_NAMES = ["nil", "boolean", "userdata", "number", "string", "table", "function", "userdata", "thread"];
const MAX_SCRIPT_BYTES = 256 * 1024;
const MAX_MESSAGE_LENGTH = 1_024;
/** Nesting of the object's JSON that is converted; Kubernetes objects are far shallower. */
const MAX_DEPTH = 100;

const STATUSES = new Set<string>(Object.values(HealthStatusCode));

// Runs once per state, with the full base library still in the state's real globals, and returns the table
// scripts see as their globals. Only what Argo CD opens for its scripts is copied over (base, table, string,
// math, os.time and os.date); load, loadstring, dofile, loadfile, collectgarbage, io, debug, package and the rest
// of os are never reachable, and require returns only those modules. Lua 5.1 names that Argo CD's gopher-lua still has are aliased to their 5.4 homes.
const SANDBOX = `
local safe = {}
for _, name in ipairs({ "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen",
    "rawset", "select", "getmetatable", "tonumber", "tostring", "type", "xpcall", "_VERSION" }) do
  safe[name] = _G[name]
end
local setmetatable, rawget, error = setmetatable, rawget, error
-- A finalizer could run during garbage collection outside any bounded call (and at lua_close, unbounded).
safe.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then error("__gc metamethods are not available", 2) end
  return setmetatable(t, mt)
end
string.dump = nil
-- Pattern matching runs inside one C call, where the instruction hook never fires, and backtracking makes it
-- polynomial: ("a"):rep(3000):find(".-.-.-b") would run for hours. Each call is charged, before it runs, an upper
-- bound of its work: the starting positions it tries times (length + 1) for every item that can backtrack
-- (*, +, -, ?, %b). About one such step costs what one instruction does (measured: 130-140 M/s for both).
local charge = __tack_charge
__tack_charge = nil
local function backtracking(p)
  local n, i, len = 0, 1, #p
  while i <= len do
    local c = p:sub(i, i)
    if c == "%" then
      if p:sub(i + 1, i + 1) == "b" then n = n + 1; i = i + 4 else i = i + 2 end
    elseif c == "[" then
      i = i + 1
      if p:sub(i, i) == "^" then i = i + 1 end
      if p:sub(i, i) == "]" then i = i + 1 end
      while i <= len and p:sub(i, i) ~= "]" do
        if p:sub(i, i) == "%" then i = i + 1 end
        i = i + 1
      end
      i = i + 1
    else
      if c == "*" or c == "+" or c == "-" or c == "?" then n = n + 1 end
      i = i + 1
    end
  end
  return n
end
local function cost(s, p, plain, whole)
  if type(s) ~= "string" and type(s) ~= "number" then return end
  if type(p) ~= "string" and type(p) ~= "number" then return end
  s, p = tostring(s), tostring(p)
  local n = #s + 1
  if plain then charge(n) return end
  local starts = (not whole and p:sub(1, 1) == "^") and 1 or n
  charge(starts * n ^ backtracking(p))
end
local find, match, gmatch, gsub = string.find, string.match, string.gmatch, string.gsub
string.find = function(s, p, init, plain) cost(s, p, plain) return find(s, p, init, plain) end
string.match = function(s, p, init) cost(s, p) return match(s, p, init) end
string.gmatch = function(s, p, init) cost(s, p, false, true) return gmatch(s, p, init) end
string.gsub = function(s, p, r, n) cost(s, p) return gsub(s, p, r, n) end
safe.string, safe.table, safe.math = string, table, math
safe.os = { time = os.time, date = os.date }
safe.unpack = table.unpack
-- Argo CD preloads its safe os so that 'local os = require("os")' works; require reaches nothing else (no files).
local modules = { os = safe.os, string = string, table = table, math = math }
safe.require = function(name)
  local m = modules[name]
  if m == nil then error("module '" .. tostring(name) .. "' is not available to health scripts", 2) end
  return m
end
table.getn = function(t) return #t end
math.pow = function(x, y) return x ^ y end
-- print would write to the controller's stdout; scripts use it for debugging only.
safe.print = function() end
return safe
`;

let runtime: Promise<LuaWasm> | undefined;

/** The WebAssembly Lua, instantiated once per process; scripts compile only after it has loaded. */
export function loadLuaRuntime(): Promise<LuaWasm> {
  runtime ??= LuaWasm.initialize();
  return runtime;
}

/**
 * One compiled `health.lua`: its own Lua state (so scripts cannot see each other), the chunk compiled once,
 * and a fresh global table for every run (so a run cannot see the one before, as in Argo CD's state per run).
 */
export class LuaHealthScript {
  readonly name: string;
  readonly #lua: LuaWasm;
  readonly #source: string;
  readonly #limits: LuaLimits;
  #L = 0;
  #chunkRef = 0;
  #envMetaRef = 0;
  #memoryUsed = 0;
  #pointers: number[] = [];
  #scratch = 0;
  #scratchSize = 0;
  // State of the run in progress (runs are synchronous: one at a time per script).
  #steps = 0;
  #deadline = 0;
  #stopped: string | undefined;
  #input: KubeObject | undefined;
  #result: HealthStatus | undefined;

  /** Throws an Error whose message is Lua's own when the script does not compile. */
  constructor(lua: LuaWasm, name: string, source: string, limits: LuaLimits = LUA_LIMITS) {
    this.#lua = lua;
    this.name = name;
    this.#source = source;
    this.#limits = limits;
    if (Buffer.byteLength(source) > MAX_SCRIPT_BYTES) throw new Error(`script is larger than ${MAX_SCRIPT_BYTES} bytes`);
    this.#open();
  }

  /** The verdict of the script on one object: never throws, never runs past its limits. */
  run(obj: KubeObject): HealthStatus {
    try {
      if (this.#L === 0) this.#open();
      return this.#protectedRun(obj);
    } catch (err) {
      // Only a fault of the WebAssembly machine itself gets here (Lua's own errors are caught by lua_pcall);
      // the state may be inconsistent, so it is dropped and rebuilt on the next run.
      this.#discard();
      return unknown(`health.lua for ${this.name} failed: ${text(err)}`);
    } finally {
      this.#input = undefined;
      // A script closed while a caller still held it (rules reloaded mid-reconcile) runs, then frees again.
      if (this.#closed) this.#discard();
    }
  }

  /** Frees the Lua state and the callbacks registered for it; a later run() opens them again for that run only. */
  close(): void {
    this.#closed = true;
    this.#discard();
  }

  #closed = false;

  #open(): void {
    const lua = this.#lua;
    const module = lua.module;
    this.#memoryUsed = 0;
    const alloc = module.addFunction((_ud: number, pointer: number, oldSize: number, newSize: number) => {
      const held = pointer ? oldSize : 0;
      if (newSize === 0) {
        if (pointer) module._free(pointer);
        this.#memoryUsed -= held;
        return 0;
      }
      // Failing here makes Lua collect garbage and retry, then raise "not enough memory" inside the protected call.
      if (newSize > held && this.#memoryUsed - held + newSize > this.#limits.memoryBytes) return 0;
      const moved = module._realloc(pointer, newSize);
      if (moved) this.#memoryUsed += newSize - held;
      return moved;
    }, "iiiii");
    this.#pointers.push(alloc);
    const L = lua.lua_newstate(alloc, null);
    if (!L) throw new Error("could not create a Lua state");
    this.#L = L;
    const hook = module.addFunction((state: number) => {
      this.#steps += HOOK_EVERY;
      if (this.#steps > this.#limits.instructions) this.#stop(state, `exceeded its budget of ${this.#limits.instructions} Lua instructions`);
      else if (performance.now() > this.#deadline) this.#stop(state, `exceeded its time limit of ${this.#limits.timeMs} ms`);
    }, "vii");
    this.#pointers.push(hook);
    lua.lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);
    const runner = module.addFunction((state: number) => this.#runner(state), "ii");
    this.#pointers.push(runner);
    this.#runnerPointer = runner;
    const charge = module.addFunction((state: number) => {
      const steps = lua.lua_tonumberx(state, 1, null);
      this.#steps += Number.isFinite(steps) ? Math.max(0, steps) : Infinity;
      if (this.#steps > this.#limits.instructions) {
        this.#stop(state, `exceeded its budget of ${this.#limits.instructions} Lua instructions (a pattern match too costly for its subject's length)`);
      }
      return 0;
    }, "ii");
    this.#pointers.push(charge);

    // Libraries: set up outside the budget, once per state; anything failing here is a fault of ours.
    for (const [name, open] of [["_G", lua.luaopen_base], ["table", lua.luaopen_table], ["string", lua.luaopen_string],
      ["math", lua.luaopen_math], ["os", lua.luaopen_os]] as const) {
      open.call(lua, L);
      lua.lua_setglobal(L, name);
    }
    lua.lua_pushcclosure(L, charge, 0);
    lua.lua_setglobal(L, "__tack_charge");
    this.#beginRun();
    if (this.#load(SANDBOX, "=sandbox") !== LUA_OK || lua.lua_pcallk(L, 0, 1, 0, 0, null) !== LUA_OK) {
      throw new Error(`internal: the Lua sandbox did not load: ${this.#errorText()}`);
    }
    // Registry: the sandbox's globals as the __index of every run's fresh environment, and the compiled chunk.
    lua.lua_createtable(L, 0, 1);
    lua.lua_rotate(L, -2, 1);
    lua.lua_setfield(L, -2, "__index");
    this.#envMetaRef = lua.luaL_ref(L, LUA_REGISTRYINDEX);
    if (this.#load(this.#source, `=${this.name}`) !== LUA_OK) {
      const message = this.#errorText();
      this.#discard();
      throw new Error(message);
    }
    this.#chunkRef = lua.luaL_ref(L, LUA_REGISTRYINDEX);
    lua.lua_settop(L, 0);
  }

  #runnerPointer = 0;

  #load(source: string, chunkName: string): number {
    const lua = this.#lua;
    const length = this.#encode(source);
    return lua.luaL_loadbufferx(this.#L, this.#scratch, length, chunkName, "t");
  }

  /** Writes a string as UTF-8 into a reusable buffer outside the Lua state; returns its length in bytes. */
  #encode(value: string): number {
    const module = this.#lua.module;
    const needed = module.lengthBytesUTF8(value) + 1;
    if (needed > this.#scratchSize) {
      if (this.#scratch) module._free(this.#scratch);
      this.#scratchSize = Math.max(needed, 4096);
      this.#scratch = module._malloc(this.#scratchSize);
      if (!this.#scratch) {
        this.#scratchSize = 0;
        throw new Error("out of WebAssembly memory");
      }
    }
    module.stringToUTF8(value, this.#scratch, needed);
    return needed - 1;
  }

  #beginRun(): void {
    this.#steps = 0;
    this.#deadline = performance.now() + this.#limits.timeMs;
    this.#stopped = undefined;
    this.#result = undefined;
  }

  #stop(state: number, reason: string): void {
    this.#stopped = reason;
    this.#raise(state, reason);
  }

  /** Raises a Lua error: lua_error unwinds to the enclosing lua_pcall and does not return. */
  #raise(state: number, message: string): never {
    this.#lua.lua_pushstring(state, message);
    this.#lua.lua_error(state);
    throw new Error("internal: lua_error returned");
  }

  #protectedRun(obj: KubeObject): HealthStatus {
    const lua = this.#lua;
    const L = this.#L;
    this.#beginRun();
    this.#input = obj;
    lua.lua_settop(L, 0);
    lua.lua_pushcclosure(L, this.#runnerPointer, 0);
    const status = lua.lua_pcallk(L, 0, 0, 0, 0, null);
    if (status === LUA_OK) {
      lua.lua_settop(L, 0);
      return this.#result ?? unknown(`health.lua for ${this.name} gave no result`);
    }
    const reason = this.#stopped ??
      (status === LUA_ERRMEM ? `exceeded its memory limit of ${this.#limits.memoryBytes} bytes` : `failed: ${this.#errorText()}`);
    lua.lua_settop(L, 0);
    return unknown(clip(`health.lua for ${this.name} ${reason}`));
  }

  /**
   * The protected body of a run, called by lua_pcall: everything that can raise a Lua error (allocation while
   * converting the object, the script itself, metamethods of what it returns) happens here, under the hook.
   */
  #runner(L: number): number {
    const lua = this.#lua;
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.#chunkRef));
    const base = lua.lua_gettop(L);
    lua.lua_createtable(L, 0, 1);
    this.#push(L, this.#input, 0);
    lua.lua_setfield(L, -2, "obj");
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.#envMetaRef));
    lua.lua_setmetatable(L, -2);
    lua.lua_setupvalue(L, -2, 1);
    lua.lua_callk(L, 0, LUA_MULTRET, 0, null);
    // Argo CD reads the value on top of the stack after the script: its last return value.
    this.#result = lua.lua_gettop(L) < base ? this.#invalid("nil") : this.#verdict(L);
    return 0;
  }

  #verdict(L: number): HealthStatus {
    const lua = this.#lua;
    const type = lua.lua_type(L, -1);
    if (type !== LUA_TTABLE) return this.#invalid(TYPE_NAMES[type] ?? "value");
    const statusType = lua.lua_getfield(L, -1, "status");
    const status = statusType === LUA_TSTRING ? lua.lua_tolstring(L, -1, null) : undefined;
    lua.lua_settop(L, -2);
    const messageType = lua.lua_getfield(L, -1, "message");
    let message = "";
    if (messageType === LUA_TSTRING) message = lua.lua_tolstring(L, -1, null);
    else if (messageType !== LUA_TNIL) {
      return unknown(`health.lua for ${this.name}: message must be a string, not ${TYPE_NAMES[messageType] ?? "value"}`);
    }
    lua.lua_settop(L, -2);
    // Argo CD's words for a table whose status is not one of the six.
    if (status === undefined || !STATUSES.has(status)) return unknown("Lua returned an invalid health status");
    return { status: status as HealthStatusCode, message: clip(message) };
  }

  #invalid(type: string): HealthStatus {
    return unknown(`health.lua for ${this.name}: expect table output from Lua script, not ${type}`);
  }

  /**
   * JSON → Lua as Argo CD's conversion does it: objects become tables keyed by string, arrays become sequences
   * from 1 whose null elements are skipped (gopher-lua's Append ignores nil), null becomes nil. Integral numbers
   * become Lua integers, so that they print as gopher-lua prints them ("3", not 5.4's "3.0").
   */
  #push(L: number, value: unknown, depth: number): void {
    const lua = this.#lua;
    if (depth > MAX_DEPTH || !lua.lua_checkstack(L, 4)) this.#raise(L, `the object is nested deeper than ${MAX_DEPTH} levels`);
    if (value === null || value === undefined) lua.lua_pushnil(L);
    else if (typeof value === "boolean") lua.lua_pushboolean(L, value ? 1 : 0);
    else if (typeof value === "number") {
      if (Number.isSafeInteger(value)) lua.lua_pushinteger(L, BigInt(value));
      else lua.lua_pushnumber(L, value);
    } else if (typeof value === "string") {
      const length = this.#encode(value);
      lua.lua_pushlstring(L, this.#scratch, length);
    } else if (Array.isArray(value)) {
      lua.lua_createtable(L, value.length, 0);
      let index = 0;
      for (const item of value) {
        if (item === null || item === undefined) continue;
        this.#push(L, item, depth + 1);
        lua.lua_rawseti(L, -2, BigInt(++index));
      }
    } else if (typeof value === "object") {
      const entries = Object.entries(value);
      lua.lua_createtable(L, 0, entries.length);
      for (const [key, item] of entries) {
        if (item === null || item === undefined) continue;
        const length = this.#encode(key);
        lua.lua_pushlstring(L, this.#scratch, length);
        this.#push(L, item, depth + 1);
        lua.lua_rawset(L, -3);
      }
    } else lua.lua_pushnil(L);
  }

  /** The error value on top of the stack as text, without calling any metamethod of the script's. */
  #errorText(): string {
    const lua = this.#lua;
    const type = lua.lua_type(this.#L, -1);
    if (type === LUA_TSTRING || type === LUA_TNUMBER) return clip(lua.lua_tolstring(this.#L, -1, null));
    return `(error object is a ${TYPE_NAMES[type] ?? "value"})`;
  }

  #discard(): void {
    const lua = this.#lua;
    if (this.#L) {
      // No finalizers exist (the sandbox refuses __gc), so closing runs no script code.
      lua.lua_sethook(this.#L, null, 0, 0);
      lua.lua_close(this.#L);
      this.#L = 0;
    }
    for (const pointer of this.#pointers) lua.module.removeFunction(pointer);
    this.#pointers = [];
    if (this.#scratch) lua.module._free(this.#scratch);
    this.#scratch = 0;
    this.#scratchSize = 0;
  }
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function clip(message: string): string {
  const line = message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
  return line;
}
