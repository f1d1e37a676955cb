// Argo CD Lua health rules as a table for the ladder (CustomHealthRules.lua): from the `tack-health-rules`
// ConfigMap's keys `resource.customizations.health.<group>_<Kind>` (argocd-cm's key format) and from a directory
// laid out as Argo CD's `resource_customizations` (lua-dir.ts reads it). Keys may hold wildcards as Argo CD's do:
// `*` in a ConfigMap key, `_` in a directory name (`_.crossplane.io/_` is `*.crossplane.io/*`).
//
// Pure apart from loading the Lua runtime once. Order of lookup, as in Argo CD: the ConfigMap's exact key, the
// ConfigMap's wildcards, the directory's exact key, the directory's wildcards.

import type { HealthCheck } from "./types.ts";
import { unknown } from "./types.ts";
import { loadLuaRuntime, LuaHealthScript } from "./lua-vm.ts";

export const LUA_HEALTH_KEY_PREFIX = "resource.customizations.health.";

export interface LuaRuleSource {
  /** The table key it answers for: "group/Kind", "Kind" for the core group; `*` matches any run of characters. */
  key: string;
  /** Where it came from, for messages: the ConfigMap key or the file. */
  origin: string;
  script: string;
}

export interface LuaRuleError {
  key: string;
  message: string;
}

export function isLuaHealthKey(configKey: string): boolean {
  return configKey.startsWith(LUA_HEALTH_KEY_PREFIX);
}

const GROUP = /^[a-z0-9.*-]*$/;
const KIND = /^[A-Za-z0-9*]+$/;

/** "group_Kind" (core: "Kind" or "_Kind") → "group/Kind" (core: "Kind"); groups and kinds never contain "_". */
export function luaTableKey(suffix: string): string | undefined {
  const underscore = suffix.lastIndexOf("_");
  const group = underscore < 0 ? "" : suffix.slice(0, underscore);
  const kind = underscore < 0 ? suffix : suffix.slice(underscore + 1);
  if (!KIND.test(kind) || !GROUP.test(group)) return undefined;
  return group ? `${group}/${kind}` : kind;
}

/** The Lua rules among a ConfigMap's data; the other keys are left to the CEL compiler. */
export function luaSourcesFromConfigMap(data: Readonly<Record<string, string>>): { sources: LuaRuleSource[]; errors: LuaRuleError[] } {
  const sources: LuaRuleSource[] = [];
  const errors: LuaRuleError[] = [];
  for (const [configKey, script] of Object.entries(data)) {
    if (!isLuaHealthKey(configKey)) continue;
    const key = luaTableKey(configKey.slice(LUA_HEALTH_KEY_PREFIX.length));
    if (!key) errors.push({ key: configKey, message: `key must be ${LUA_HEALTH_KEY_PREFIX}<group>_<Kind>` });
    else if (key === "Secret") errors.push({ key: configKey, message: "rules for Secrets are not allowed: messages could reveal their data" });
    else sources.push({ key, origin: configKey, script });
  }
  return { sources, errors };
}

function wildcard(pattern: string): RegExp {
  const body = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${body}$`);
}

interface Layer {
  exact: Map<string, HealthCheck>;
  /** Most specific first (longest pattern), so that the choice does not depend on the order of the source. */
  wildcards: Array<{ pattern: string; match: RegExp; check: HealthCheck }>;
  scripts: LuaHealthScript[];
}

/**
 * The user's Lua rules as a ReadonlyMap for the ladder: get() also answers through wildcard keys, so the ladder's
 * plain lookup by "group/Kind" finds `*.crossplane.io/*` too. Secrets are never answered (see custom-rules.ts).
 */
export class LuaRuleTable extends Map<string, HealthCheck> {
  readonly #layers: Layer[];
  readonly #owned: Layer[];

  /** `owned`: the layers whose scripts close() frees (the directory's layer outlives every ConfigMap's table). */
  constructor(layers: Layer[], owned: Layer[] = layers) {
    super();
    this.#layers = layers;
    this.#owned = owned;
    for (const layer of [...layers].reverse()) for (const [key, check] of layer.exact) super.set(key, check);
  }

  override get(key: string): HealthCheck | undefined {
    if (key === "Secret") return undefined;
    for (const layer of this.#layers) {
      const exact = layer.exact.get(key);
      if (exact) return exact;
      for (const w of layer.wildcards) if (w.match.test(key)) return w.check;
    }
    return undefined;
  }

  override has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Frees the Lua states of the rules it owns (the controller calls it when the ConfigMap is replaced). */
  close(): void {
    for (const layer of this.#owned) for (const script of layer.scripts) script.close();
  }
}

/** Compiles one source of rules (the ConfigMap or the directory); a script that does not compile yields Unknown. */
export async function compileLuaLayer(sources: readonly LuaRuleSource[]): Promise<{ layer: Layer; errors: LuaRuleError[] }> {
  const layer: Layer = { exact: new Map(), wildcards: [], scripts: [] };
  const errors: LuaRuleError[] = [];
  if (sources.length === 0) return { layer, errors };
  const lua = await loadLuaRuntime();
  for (const source of sources) {
    let check: HealthCheck;
    try {
      const script = new LuaHealthScript(lua, source.key, source.script);
      layer.scripts.push(script);
      check = (obj) => script.run(obj);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      errors.push({ key: source.origin, message });
      check = () => unknown(`health rule ${source.origin} is invalid: ${message}`);
    }
    if (source.key.includes("*")) layer.wildcards.push({ pattern: source.key, match: wildcard(source.key), check });
    else layer.exact.set(source.key, check);
  }
  layer.wildcards.sort((a, b) => b.pattern.length - a.pattern.length || (a.pattern < b.pattern ? -1 : 1));
  return { layer, errors };
}

export type { Layer as LuaRuleLayer };
