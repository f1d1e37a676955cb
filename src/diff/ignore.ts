// `spec.ignoreDifferences`: which rules apply to an object, which fields they name, and those fields taken
// out of the comparison (both sides) or, with RespectIgnoreDifferences, kept at their live values in what
// is applied. Pure, apart from jq expressions, which run in the bounded evaluator of src/jq (the caller
// owns it and passes it in). Semantics follow Argo CD's; see docs/adr/0003-ignore-differences.md.
import type { z } from "zod";
import type { ResourceIgnoreDifferencesSchema } from "../api/index.ts";
import { JqError, JqErrorKind, type JqEvaluator } from "../jq/index.ts";

export type ResourceIgnoreDifferences = z.infer<typeof ResourceIgnoreDifferencesSchema>;

/** What a rule is matched against: group ("" for the core group), kind, namespace and name. */
export interface IgnoreTarget {
  group: string;
  kind: string;
  namespace?: string;
  name?: string;
}

/**
 * One step of a field path. A string is an object key (or, on an array, a JSON-pointer index such as "0");
 * a number is an array index; `{key}` is the element of a list-map whose fields equal those given
 * (managedFields' `k:`); `{value}` is the element of a set equal to the value (managedFields' `v:`).
 */
export type PathElement = string | number | { key: Record<string, unknown> } | { value: unknown };
export type FieldPath = PathElement[];
/** A location that exists in one object: object keys and array indices only. */
type Location = Array<string | number>;

// ---------------------------------------------------------------------------------------------- matching

const globCache = new Map<string, RegExp | null>();

/**
 * Argo CD matches group and kind as globs (gobwas/glob without separators): `*`, `?`, `[abc]`, `[!a-z]`,
 * `{a,b}` and `\` escapes. A pattern that does not compile matches nothing.
 */
export function globMatch(pattern: string, text: string): boolean {
  if (!/[*?[{\\]/.test(pattern)) return pattern === text;
  let re = globCache.get(pattern);
  if (re === undefined) {
    re = compileGlob(pattern);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re !== null && re.test(text);
}

function compileGlob(pattern: string): RegExp | null {
  let out = "";
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return null;
      out += escapeRegExp(next);
      i++;
    } else if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) return null;
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("!");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else if (c === "{") { braces++; out += "(?:"; }
    else if (c === "}" && braces > 0) { braces--; out += ")"; }
    else if (c === "," && braces > 0) out += "|";
    else out += escapeRegExp(c);
  }
  if (braces !== 0) return null;
  try {
    return new RegExp(`^${out}$`, "s");
  } catch {
    return null;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * The rules that apply to an object, as Argo CD matches them: group and kind are globs (an empty or
 * omitted group matches only the core group; `*` matches any), name and namespace match exactly and match
 * everything when empty or omitted.
 */
export function rulesFor(rules: readonly ResourceIgnoreDifferences[], key: IgnoreTarget): ResourceIgnoreDifferences[] {
  return rules.filter((rule) =>
    globMatch(rule.group ?? "", key.group) &&
    globMatch(rule.kind, key.kind) &&
    (!rule.name || rule.name === (key.name ?? "")) &&
    (!rule.namespace || rule.namespace === (key.namespace ?? "")));
}

/** group/kind/namespace/name of a manifest or live object. */
export function targetOf(obj: object): IgnoreTarget {
  const o = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const apiVersion = typeof o.apiVersion === "string" ? o.apiVersion : "";
  const slash = apiVersion.indexOf("/");
  return {
    group: slash < 0 ? "" : apiVersion.slice(0, slash),
    kind: typeof o.kind === "string" ? o.kind : "",
    namespace: typeof o.metadata?.namespace === "string" ? o.metadata.namespace : "",
    name: typeof o.metadata?.name === "string" ? o.metadata.name : "",
  };
}

// ---------------------------------------------------------------------------------------------- pointers

/**
 * RFC 6901 JSON pointer to path tokens (`~1` is `/`, `~0` is `~`). Tokens stay strings: on an array a
 * token such as "0" is an index. undefined when the pointer is not one ("" would name the whole object,
 * which is never removed).
 */
export function parsePointer(pointer: string): string[] | undefined {
  if (!pointer.startsWith("/")) return undefined;
  return pointer.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

// ------------------------------------------------------------------------------------- resolve and remove

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

const INDEX = /^(0|[1-9][0-9]*)$/;

/** The indices of `list` that one path element selects (several only for duplicated list-map keys). */
function matchInArray(list: unknown[], element: PathElement): number[] {
  if (typeof element === "number") return Number.isInteger(element) && element >= 0 && element < list.length ? [element] : [];
  if (typeof element === "string") {
    const i = INDEX.test(element) ? Number(element) : -1;
    return i >= 0 && i < list.length ? [i] : [];
  }
  const out: number[] = [];
  list.forEach((item, i) => {
    if ("key" in element ? isRecord(item) && Object.entries(element.key).every(([k, v]) => deepEqual(item[k], v)) : deepEqual(item, element.value)) out.push(i);
  });
  return out;
}

/** Where a path points in `obj`: every existing location it names (none when it names nothing). */
export function resolvePath(obj: unknown, path: FieldPath): Location[] {
  let frontier: Array<{ at: unknown; loc: Location }> = [{ at: obj, loc: [] }];
  for (const element of path) {
    const next: Array<{ at: unknown; loc: Location }> = [];
    for (const { at, loc } of frontier) {
      if (Array.isArray(at)) {
        for (const i of matchInArray(at, element)) next.push({ at: at[i], loc: [...loc, i] });
      } else if (isRecord(at) && typeof element === "string" && Object.hasOwn(at, element)) {
        next.push({ at: at[element], loc: [...loc, element] });
      }
    }
    frontier = next;
    if (frontier.length === 0) return [];
  }
  return frontier.map((f) => f.loc);
}

interface Trie { end: boolean; children: Map<string | number, Trie> }

const REMOVED: unique symbol = Symbol("removed");

/**
 * A copy of `obj` without the fields the paths name (paths that name nothing are skipped). All paths are
 * resolved against the original, so array indices mean what they meant before any removal. A map or list
 * that a removal leaves empty is removed too (as Argo CD drops the empty objects its patches leave), so
 * ignoring `/metadata/annotations/x` does not turn into a difference between `{}` and no annotations.
 * Untouched subtrees are shared with the input: treat both as read-only.
 */
export function removePaths<T>(obj: T, paths: readonly FieldPath[]): T {
  const root: Trie = { end: false, children: new Map() };
  let any = false;
  for (const path of paths) {
    for (const loc of resolvePath(obj, path)) {
      if (loc.length === 0) continue; // never the whole object
      let node = root;
      for (const step of loc) {
        let child = node.children.get(step);
        if (!child) { child = { end: false, children: new Map() }; node.children.set(step, child); }
        node = child;
      }
      node.end = true;
      any = true;
    }
  }
  if (!any) return obj;
  const result = prune(obj, root);
  return (result === REMOVED ? (Array.isArray(obj) ? [] : {}) : result) as T;
}

function prune(value: unknown, node: Trie): unknown {
  if (node.end) return REMOVED;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    let removed = false;
    value.forEach((item, i) => {
      const child = node.children.get(i);
      const v = child ? prune(item, child) : item;
      if (v === REMOVED) removed = true; else out.push(v);
    });
    return removed && out.length === 0 ? REMOVED : out;
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = { ...value };
    let removed = false;
    for (const [key, child] of node.children) {
      if (typeof key !== "string" || !Object.hasOwn(out, key)) continue;
      const v = prune(out[key], child);
      if (v === REMOVED) { delete out[key]; removed = true; } else out[key] = v;
    }
    return removed && Object.keys(out).length === 0 ? REMOVED : out;
  }
  return value;
}

/** A copy of `obj` without the fields the JSON pointers name; pointers to missing fields are ignored. */
export function removePointers<T>(obj: T, pointers: readonly string[]): T {
  return removePaths(obj, pointers.map(parsePointer).filter((p): p is string[] => p !== undefined));
}

// ------------------------------------------------------------------------------------------ managedFields

/**
 * The fields `managers` own according to `metadata.managedFields` (fieldsV1), as paths: `f:name` is a
 * field, `k:{...}` a list-map element by its keys, `v:...` a set element, `i:N` a list element by
 * index. Only leaves are returned (a `.` entry, "owns this map or element itself", names no field of its
 * own); an element or map whose every field is owned empties and is removed along with them.
 */
export function pathsOwnedBy(managedFields: unknown, managers: readonly string[]): FieldPath[] {
  if (!Array.isArray(managedFields) || managers.length === 0) return [];
  const out: FieldPath[] = [];
  for (const entry of managedFields) {
    if (!isRecord(entry) || typeof entry.manager !== "string" || !managers.includes(entry.manager)) continue;
    if (entry.fieldsType !== undefined && entry.fieldsType !== "FieldsV1") continue;
    if (isRecord(entry.fieldsV1)) collectOwned(entry.fieldsV1, [], out);
  }
  return out;
}

function collectOwned(node: Record<string, unknown>, prefix: FieldPath, out: FieldPath[]): void {
  for (const [raw, child] of Object.entries(node)) {
    if (raw === ".") continue;
    const element = parseFieldsV1Key(raw);
    if (element === undefined) continue;
    const path = [...prefix, element];
    const children = isRecord(child) ? Object.keys(child) : [];
    if (children.length === 0) out.push(path);
    else collectOwned(child as Record<string, unknown>, path, out);
  }
}

function parseFieldsV1Key(raw: string): PathElement | undefined {
  const body = raw.slice(2);
  try {
    switch (raw.slice(0, 2)) {
      case "f:": return body;
      case "k:": { const key: unknown = JSON.parse(body); return isRecord(key) ? { key } : undefined; }
      case "v:": return { value: JSON.parse(body) as unknown };
      case "i:": return INDEX.test(body) ? Number(body) : undefined;
      default: return undefined;
    }
  } catch {
    return undefined;
  }
}

// --------------------------------------------------------------------------------------- the entry points

/** The fields the matching rules ignore, in the forms each side can use. */
export interface IgnoredPaths {
  /** Paths that name fields by key (pointers, managed fields, index-free jq paths): removed from both sides. */
  both: FieldPath[];
  /** jq paths through an array index computed on the live object: positions, valid on that side only. */
  live: FieldPath[];
  /** The same, computed on the desired or predicted object. */
  other: FieldPath[];
  /** jq expressions that failed on an object (for example `.a[]` where `.a` is null): skipped, as Argo CD does. */
  warnings: string[];
}

export interface IgnoreInput<T extends object> {
  /** The desired manifest, or what the server-side-apply dry run predicts it becomes. */
  desiredOrPredicted: T;
  live: T;
  /** The Application's `spec.ignoreDifferences` (all of them: the ones that match are picked here). */
  rules: readonly ResourceIgnoreDifferences[];
  jq: JqEvaluator;
  /** Defaults to the live object's group/kind/namespace/name. */
  target?: IgnoreTarget;
}

/**
 * The ignored fields of one object. Rejects with a JqError when an expression does not compile or hits a
 * bound (time, memory): the comparison cannot be trusted then, and must not be reported as drift.
 */
export async function ignoredPaths<T extends object>(input: IgnoreInput<T>): Promise<IgnoredPaths> {
  const result: IgnoredPaths = { both: [], live: [], other: [], warnings: [] };
  const rules = rulesFor(input.rules, input.target ?? targetOf(input.live));
  if (rules.length === 0) return result;

  const seen = { both: new Set<string>(), live: new Set<string>(), other: new Set<string>() };
  const add = (side: "both" | "live" | "other", path: FieldPath): void => {
    const id = JSON.stringify(path);
    if (seen[side].has(id)) return;
    seen[side].add(id);
    result[side].push(path);
  };

  const expressions = [...new Set(rules.flatMap((r) => r.jqPathExpressions ?? []))];
  const sides = [["live", input.live], ["other", input.desiredOrPredicted]] as const;
  const evaluations = await Promise.all(expressions.flatMap((expression) => sides.map(async ([side, obj]) => {
    try {
      return { side, paths: await input.jq.paths(expression, obj) };
    } catch (err) {
      if (err instanceof JqError && err.kind === JqErrorKind.Runtime) {
        result.warnings.push(`${err.message} (on the ${side === "live" ? "live" : "desired"} object)`);
        return { side, paths: [] };
      }
      throw err;
    }
  })));

  for (const rule of rules) {
    for (const pointer of rule.jsonPointers ?? []) {
      const path = parsePointer(pointer);
      if (path) add("both", path);
    }
  }
  for (const { side, paths } of evaluations) {
    for (const path of paths) add(path.some((e) => typeof e === "number") ? side : "both", path);
  }
  const managers = [...new Set(rules.flatMap((r) => r.managedFieldsManagers ?? []))];
  const managedFields = (input.live as { metadata?: { managedFields?: unknown } }).metadata?.managedFields;
  for (const path of pathsOwnedBy(managedFields, managers)) add("both", path);
  return result;
}

/**
 * Both sides of a comparison without the fields the matching rules ignore, so that `differences(live,
 * predicted)` no longer reports them. Objects that no rule matches are returned as they are.
 */
export async function applyIgnoreRules<T extends object>(input: IgnoreInput<T>): Promise<{ predicted: T; live: T; ignored: IgnoredPaths }> {
  const ignored = await ignoredPaths(input);
  return {
    predicted: removePaths(input.desiredOrPredicted, [...ignored.both, ...ignored.other]),
    live: removePaths(input.live, [...ignored.both, ...ignored.live]),
    ignored,
  };
}

/**
 * For RespectIgnoreDifferences=true: the desired manifest with every ignored field set to its live value,
 * or removed where the live object lacks it, so that applying it never overwrites those fields. Compute
 * `paths` with `ignoredPaths({ desiredOrPredicted: desired, live, … })`. A list-map element the desired
 * manifest lacks is added with its key fields; an array position it lacks is left alone.
 */
export function respectIgnored<T extends object>(desired: T, live: object, paths: IgnoredPaths | readonly FieldPath[]): T {
  const all = Array.isArray(paths) ? paths as readonly FieldPath[] : [...(paths as IgnoredPaths).both, ...(paths as IgnoredPaths).live, ...(paths as IgnoredPaths).other];
  if (all.length === 0) return desired;
  const out = structuredClone(desired) as unknown;
  const removals: FieldPath[] = [];
  for (const path of all) {
    if (path.length === 0) continue;
    const [loc] = resolvePath(live, path);
    if (loc === undefined) { removals.push(path); continue; }
    setAt(out, path, valueAt(live, loc));
  }
  return removePaths(out, removals) as T;
}

function valueAt(obj: unknown, loc: Location): unknown {
  let at = obj;
  for (const step of loc) at = (at as Record<string | number, unknown>)[step];
  return at;
}

/** Sets the field a path names, creating the maps (and list-map or set elements) on the way. */
function setAt(obj: unknown, path: FieldPath, value: unknown): void {
  let at = obj;
  for (let i = 0; i < path.length; i++) {
    const element = path[i] as PathElement;
    const last = i === path.length - 1;
    const nextElement = path[i + 1];
    const fresh = (): unknown => (typeof nextElement === "number" || (typeof nextElement === "object") ? [] : {});
    if (Array.isArray(at)) {
      let [index] = matchInArray(at, element);
      if (index === undefined) {
        if (typeof element !== "object") return; // a position the desired list lacks: leave it alone
        at.push("key" in element ? { ...structuredClone(element.key) } : structuredClone(element.value));
        index = at.length - 1;
      }
      if (last) { at[index] = structuredClone(value); return; }
      at = at[index];
    } else if (isRecord(at) && typeof element === "string") {
      if (last) { at[element] = structuredClone(value); return; }
      if (!Object.hasOwn(at, element) || at[element] === null) at[element] = fresh();
      at = at[element];
    } else {
      return;
    }
  }
}
