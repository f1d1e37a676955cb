// `tack health [-o json] [--rules FILE] FILE...`: runs the controller's own health code (assessHealth) on the
// objects in YAML files, so a user can see offline what Tack will say about them. Input is untrusted: file
// size, YAML alias expansion and nesting are bounded before anything walks the documents.

import { readFile, stat } from "node:fs/promises";
import { loadAll } from "js-yaml";
import { displayName, keyOf, type KubeObject } from "../api/kube-object.ts";
import { assessHealth, compileHealthConfig, compileLuaRuleDir, type CustomHealthRules, type LuaRuleLayer, type RuleSource } from "../health/index.ts";

export interface CommandIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** The same cap Argo CD puts on one application's manifests. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
const MAX_ALIASES = 100;
/** Values a document may expand to once aliases are followed; a manifest of 10 MB is far below this. */
const MAX_EXPANDED_NODES = 2_000_000;

const USAGE = `Usage: tack health [-o text|json] [--rules FILE] [--lua-dir DIR] FILE...

Assesses the health of every Kubernetes object in the given YAML files (multi-document, or kind: List)
with exactly the checks the controller uses.

Options:
  -o, --output FORMAT   text (default): one line per object, "Kind/namespace/name: Status - message"
                        json: one array, in input order, of
                        {file, apiVersion, kind, namespace, name, status, message, rule};
                        status is null where no health rule applies, and rule is then absent.
                        rule names what decided: cel (a rule from --rules), lua (an Argo CD Lua
                        rule), shipped (a rule shipped with Tack for a popular operator), built-in
                        (Tack's check of a Kubernetes kind), generic (the conventions any custom
                        resource may follow: Ready/Stalled/Reconciling conditions, state words ...)
  --rules FILE          a ConfigMap manifest (like tack-health-rules) whose data holds custom health rules
                        (CEL keys group_Kind, Argo CD Lua keys resource.customizations.health.group_Kind)
  --lua-dir DIR         Argo CD Lua health rules laid out as Argo CD's resource_customizations
                        (DIR/<group>/<Kind>/health.lua); --rules wins over them for the same kind
  --allow-degraded      exit 0 even when an object is Degraded (report only)
  -h, --help            show this help

Exit status: 0 when every file was read and no object is Degraded; 1 when an object is Degraded (unless
--allow-degraded), so that a CI step fails; 2 when a file could not be read or parsed, or on a usage error.
`;

interface Row {
  file: string;
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
  status: string | null;
  message: string;
  /** Which rule decided; absent when none had an opinion (status null). */
  rule?: RuleSource;
}

class InputError extends Error {}

interface Options {
  format: "text" | "json";
  rulesFile?: string;
  luaDir?: string;
  files: string[];
  help: boolean;
  allowDegraded: boolean;
}

function parseArgs(args: string[]): Options {
  const options: Options = { format: "text", files: [], help: false, allowDegraded: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const takeValue = (flag: string): string => {
      const value = args[++i];
      if (value === undefined) throw new InputError(`${flag} needs a value`);
      return value;
    };
    if (arg === "-h" || arg === "--help") options.help = true;
    else if (arg === "-o" || arg === "--output") options.format = format(takeValue(arg));
    else if (arg.startsWith("-o=") || arg.startsWith("--output=")) options.format = format(arg.slice(arg.indexOf("=") + 1));
    else if (arg === "--allow-degraded") options.allowDegraded = true;
    else if (arg === "--rules") options.rulesFile = takeValue(arg);
    else if (arg.startsWith("--rules=")) options.rulesFile = arg.slice("--rules=".length);
    else if (arg === "--lua-dir") options.luaDir = takeValue(arg);
    else if (arg.startsWith("--lua-dir=")) options.luaDir = arg.slice("--lua-dir=".length);
    else if (arg === "--") {
      options.files.push(...args.slice(i + 1));
      break;
    }
    else if (arg.startsWith("-") && arg !== "-") throw new InputError(`unknown option ${arg}`);
    else options.files.push(arg);
  }
  return options;
}

function format(value: string): "text" | "json" {
  if (value === "text" || value === "json") return value;
  throw new InputError(`unknown output format "${value}" (use text or json)`);
}

async function readBounded(file: string): Promise<string> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new InputError(`${file}: not a regular file`);
    size = info.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (size > MAX_FILE_BYTES) throw new InputError(`${file}: larger than ${MAX_FILE_BYTES} bytes`);
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new InputError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Counts values reachable from a document, following shared (aliased) subtrees every time they occur. */
function expandsWithin(doc: unknown, limit: number): boolean {
  let budget = limit;
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const value = stack.pop();
    if (--budget < 0) return false;
    if (Array.isArray(value)) stack.push(...value);
    else if (typeof value === "object" && value !== null) stack.push(...Object.values(value));
  }
  return true;
}

function toObjects(doc: unknown, where: string): KubeObject[] {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new InputError(`${where}: not a Kubernetes object (expected a mapping with apiVersion and kind)`);
  }
  const d = doc as Record<string, unknown>;
  if (typeof d.apiVersion !== "string" || typeof d.kind !== "string") {
    throw new InputError(`${where}: not a Kubernetes object (apiVersion and kind must be strings)`);
  }
  if (d.kind === "List" || (d.kind.endsWith("List") && Array.isArray(d.items))) {
    return (Array.isArray(d.items) ? d.items : []).flatMap((item, i) => toObjects(item, `${where}, item ${i + 1}`));
  }
  const metadata = d.metadata ?? {};
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new InputError(`${where}: metadata must be a mapping`);
  }
  return [{ ...d, apiVersion: d.apiVersion, kind: d.kind, metadata } as KubeObject];
}

async function readObjects(file: string): Promise<KubeObject[]> {
  const text = await readBounded(file);
  let docs: unknown[];
  try {
    docs = loadAll(text, { filename: file, maxAliases: MAX_ALIASES });
  } catch (err) {
    throw new InputError(`${file}: invalid YAML: ${(err instanceof Error ? err.message : String(err)).split("\n", 1)[0]}`);
  }
  const objects: KubeObject[] = [];
  for (const [index, doc] of docs.entries()) {
    if (doc === null || doc === undefined) continue; // an empty document between two `---`
    const where = `${file}: document ${index + 1}`;
    if (!expandsWithin(doc, MAX_EXPANDED_NODES)) throw new InputError(`${where}: YAML aliases expand beyond ${MAX_EXPANDED_NODES} values`);
    objects.push(...toObjects(doc, where));
  }
  return objects;
}

async function readRules(file: string | undefined, luaDir: LuaRuleLayer | undefined): Promise<CustomHealthRules> {
  const source: Record<string, string> = {};
  if (file !== undefined) {
    const [configMap] = await readObjects(file);
    const data = configMap?.data;
    if (!configMap || configMap.kind !== "ConfigMap" || typeof data !== "object" || data === null) {
      throw new InputError(`${file}: expected a ConfigMap with data`);
    }
    for (const [key, value] of Object.entries(data)) if (typeof value === "string") source[key] = value;
  }
  const { rules, errors } = await compileHealthConfig(source, luaDir);
  if (errors.length > 0) {
    throw new InputError(errors.map((e) => `${file}: rule ${e.key}: ${e.message}`).join("\n"));
  }
  return rules;
}

/**
 * A directory of many scripts stays usable when one of them does not compile: that kind gets Unknown with the
 * reason, and the reason is also printed here. A directory that cannot be read at all is a usage error.
 */
async function readLuaDir(dir: string, io: CommandIO): Promise<LuaRuleLayer> {
  try {
    const { layer, errors } = await compileLuaRuleDir(dir);
    for (const e of errors) io.stderr(`tack health: ${e.key}: ${e.message}\n`);
    return layer;
  } catch (err) {
    throw new InputError(`${dir}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function row(file: string, obj: KubeObject, rules: CustomHealthRules | undefined): Row {
  const key = keyOf(obj);
  const health = assessHealth(obj, rules);
  return {
    file,
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: key.namespace || null,
    name: key.name,
    status: health?.status ?? null,
    message: health?.message ?? "",
    ...(health?.rule && { rule: health.rule }),
  };
}

function textLine(r: Row, obj: KubeObject): string {
  const name = displayName(keyOf(obj));
  if (r.status === null) return `${name}: None - no health check applies to this object`;
  return r.message ? `${name}: ${r.status} - ${r.message}` : `${name}: ${r.status}`;
}

export async function runHealthCommand(args: string[], io: CommandIO): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(args);
  } catch (err) {
    io.stderr(`tack health: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (options.files.length === 0) {
    io.stderr(`tack health: no files given\n\n${USAGE}`);
    return 2;
  }

  let rules: CustomHealthRules | undefined;
  if (options.rulesFile !== undefined || options.luaDir !== undefined) {
    try {
      rules = await readRules(options.rulesFile, options.luaDir === undefined ? undefined : await readLuaDir(options.luaDir, io));
    } catch (err) {
      io.stderr(`tack health: ${err instanceof InputError ? err.message : String(err)}\n`);
      return 2;
    }
  }

  const rows: Row[] = [];
  const lines: string[] = [];
  let failed = false;
  for (const file of options.files) {
    try {
      for (const obj of await readObjects(file)) {
        const r = row(file, obj, rules);
        rows.push(r);
        lines.push(textLine(r, obj));
      }
    } catch (err) {
      failed = true;
      io.stderr(`tack health: ${err instanceof InputError ? err.message : `${file}: ${String(err)}`}\n`);
    }
  }

  if (options.format === "json") io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
  else if (lines.length > 0) io.stdout(`${lines.join("\n")}\n`);
  if (failed) return 2;
  const degraded = rows.filter((r) => r.status === "Degraded").length;
  if (degraded === 0 || options.allowDegraded) return 0;
  // The objects are already listed on stdout; stderr says why the exit status is not 0.
  io.stderr(`tack health: ${degraded} of ${rows.length} objects Degraded (--allow-degraded exits 0 anyway)\n`);
  return 1;
}
