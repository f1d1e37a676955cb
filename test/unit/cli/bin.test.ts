// bin/tack.js, the installed command, under the machine's own Node: an older one is told which Node tack needs
// (from package.json's engines) instead of failing on the .ts extension with a stack trace.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

const BIN = new URL("../../../bin/tack.js", import.meta.url).pathname;
const ENGINES = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { engines: { node: string } }).engines.node;

/** A Node older than the engines' minimum installed on this machine, outside node_modules (npm ci brings 24). */
function olderNode(): { path: string; version: string } | undefined {
  const minimum = Number(/>=\s*(\d+)/.exec(ENGINES)![1]);
  for (const path of ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"]) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ["--version"], { encoding: "utf8" }).trim();
    if (Number(version.slice(1).split(".")[0]) < minimum) return { path, version };
  }
  return undefined;
}

test("under an older Node, bin/tack.js says which Node it needs and exits 1, without a stack trace", (t) => {
  const old = olderNode();
  if (!old) return t.skip(`no Node older than ${ENGINES} on this machine`);
  const r = spawnSync(old.path, [BIN, "version"], { encoding: "utf8" });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, "");
  assert.ok(r.stderr.startsWith(`tack needs Node.js ${ENGINES} (it runs its TypeScript sources directly); this is Node.js ${old.version} (${old.path}).\n`), r.stderr);
  assert.match(r.stderr, /npm run tack -- ARGS/);
  assert.doesNotMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION|^\s+at /m);
});

test("under the Node it needs, bin/tack.js runs the command", () => {
  const r = spawnSync(process.execPath, [BIN, "version"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});
