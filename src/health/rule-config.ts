// The `tack-health-rules` ConfigMap compiled whole: its CEL keys (custom-rules.ts) and its Argo CD Lua keys
// (lua-rules.ts), with the Lua rules of a directory (lua-dir.ts) beneath the ConfigMap's. The controller and
// `tack health` both build their rules here, so they agree.

import { compileHealthRules, type HealthRuleError } from "./custom-rules.ts";
import { readLuaRuleDir } from "./lua-dir.ts";
import { compileLuaLayer, luaSourcesFromConfigMap, LuaRuleTable, type LuaRuleLayer } from "./lua-rules.ts";
import type { CustomHealthRules } from "./types.ts";

export interface CompiledHealthRules extends CustomHealthRules {
  readonly lua: LuaRuleTable;
}

/** The Lua rules of a `resource_customizations`-style directory, compiled once (the directory is read at start). */
export async function compileLuaRuleDir(dir: string): Promise<{ layer: LuaRuleLayer; errors: HealthRuleError[] }> {
  const { sources, errors } = await readLuaRuleDir(dir);
  const compiled = await compileLuaLayer(sources);
  return { layer: compiled.layer, errors: [...errors, ...compiled.errors] };
}

/**
 * Compiles a ConfigMap's data. Keys that do not compile are reported in `errors` and yield Unknown for their kind.
 * `rules.lua.close()` frees the ConfigMap's Lua states (not the directory's) once the rules are replaced.
 */
export async function compileHealthConfig(
  data: Readonly<Record<string, string>>, luaDir?: LuaRuleLayer,
): Promise<{ rules: CompiledHealthRules; errors: HealthRuleError[] }> {
  const cel = compileHealthRules(data);
  const { sources, errors: keyErrors } = luaSourcesFromConfigMap(data);
  const { layer, errors: luaErrors } = await compileLuaLayer(sources);
  const lua = new LuaRuleTable(luaDir ? [layer, luaDir] : [layer], [layer]);
  return { rules: { checks: cel.rules.checks, lua }, errors: [...cel.errors, ...keyErrors, ...luaErrors] };
}
