import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig, revisionCacheMs } from "../../src/config.ts";

test("defaults, environment, then flags; the result is frozen", () => {
  const config = loadConfig({ TACK_RESYNC_SECONDS: "60", TACK_APPLICATION_NAMESPACES: "a, b" }, ["--workers=3", "--log-level", "debug"]);
  assert.equal(config.resyncSeconds, 60);
  assert.equal(config.workers, 3);
  assert.equal(config.logLevel, "debug");
  assert.deepEqual(config.applicationNamespaces, ["a", "b"]);
  assert.equal(config.maxManifestBytes, 10 * 1024 * 1024);
  assert.ok(Object.isFrozen(config));
});

test("bad input names the setting", () => {
  assert.throws(() => loadConfig({}, ["--workers=0"]), (e: unknown) => e instanceof ConfigError && /workers/.test(e.message));
  assert.throws(() => loadConfig({}, ["--no-such-flag=1"]), /unknown flag --no-such-flag/);
  assert.throws(() => loadConfig({ TACK_LOG_LEVEL: "loud" }), /log-level/);
  assert.throws(() => loadConfig({}, ["--workers"]), /needs a value/);
});

test("the revision cache: 10 s by default, capped at half the resync period, 0 turns it off, bad values refused", () => {
  assert.equal(revisionCacheMs(loadConfig({}, [])), 10_000);
  assert.equal(revisionCacheMs(loadConfig({}, ["--resync-seconds=2"])), 1_000, "a fast poll is never slowed by the cache");
  assert.equal(revisionCacheMs(loadConfig({ TACK_REVISION_CACHE_SECONDS: "0" }, [])), 0);
  assert.throws(() => loadConfig({}, ["--revision-cache-seconds=-1"]), /revision-cache-seconds/);
});

test("--health-lua-dir (TACK_HEALTH_LUA_DIR) names the directory of Argo CD Lua health rules; unset by default", () => {
  assert.equal(loadConfig({}, ["--health-lua-dir", "/etc/tack/resource_customizations"]).healthLuaDir, "/etc/tack/resource_customizations");
  assert.equal(loadConfig({ TACK_HEALTH_LUA_DIR: "/rules" }).healthLuaDir, "/rules");
  assert.equal(loadConfig({}).healthLuaDir, undefined);
});
