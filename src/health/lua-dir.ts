// Reads Argo CD Lua health rules from a directory laid out as Argo CD's `resource_customizations`:
// `<group>/<Kind>/health.lua`, a core kind as `<Kind>/health.lua`, and `_` in a name as a wildcard
// (`_.crossplane.io/_/health.lua` answers for every kind of every group under crossplane.io). Everything else
// in the tree (actions, testdata) is ignored. The one module of health/ that touches the file system: the
// directory is read once, by the controller at start and by `tack health --lua-dir`.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { LuaRuleError, LuaRuleSource } from "./lua-rules.ts";

const SCRIPT = "health.lua";
/** Argo CD ships about 240 scripts; ten times that is still a directory a person could have meant. */
const MAX_SCRIPTS = 2_500;
const MAX_SCRIPT_BYTES = 256 * 1024;
const GROUP = /^[a-z0-9._-]+$/;
const KIND = /^[A-Za-z0-9_]+$/;

async function isFile(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

async function subdirectories(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Throws when the directory itself cannot be read; a script that cannot be read is reported in `errors`. */
export async function readLuaRuleDir(dir: string): Promise<{ sources: LuaRuleSource[]; errors: LuaRuleError[] }> {
  const sources: LuaRuleSource[] = [];
  const errors: LuaRuleError[] = [];
  const candidates: Array<{ key: string; file: string }> = [];
  for (const first of await subdirectories(dir)) {
    const firstPath = join(dir, first);
    // A core kind: <Kind>/health.lua directly under the root.
    if (KIND.test(first) && (await isFile(join(firstPath, SCRIPT))) !== undefined) {
      candidates.push({ key: first.replaceAll("_", "*"), file: join(firstPath, SCRIPT) });
    }
    if (!GROUP.test(first)) continue;
    for (const second of await subdirectories(firstPath)) {
      if (!KIND.test(second)) continue;
      const file = join(firstPath, second, SCRIPT);
      if ((await isFile(file)) === undefined) continue;
      candidates.push({ key: `${first}/${second}`.replaceAll("_", "*"), file });
    }
    if (candidates.length > MAX_SCRIPTS) throw new Error(`${dir}: more than ${MAX_SCRIPTS} health.lua scripts`);
  }
  for (const { key, file } of candidates) {
    const size = await isFile(file);
    if (size === undefined || size > MAX_SCRIPT_BYTES) {
      errors.push({ key: file, message: `larger than ${MAX_SCRIPT_BYTES} bytes` });
      continue;
    }
    try {
      sources.push({ key, origin: file, script: await readFile(file, "utf8") });
    } catch (err) {
      errors.push({ key: file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    }
  }
  return { sources, errors };
}
