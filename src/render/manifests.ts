// Parsing of manifest text into objects, bounded: js-yaml shares aliased nodes instead of copying them, so
// an alias bomb costs little to load but explodes when serialised (docs/architecture.md §5: a few hundred bytes → hundreds of MB). The
// expanded size is counted right after the parse, before anything walks or serialises the result.
import { loadAll, YAML11_SCHEMA, mergeTag, YAMLException } from "js-yaml";
import { isKubeObject, type KubeObject } from "../api/index.ts";
import { ComparisonError, ErrorReason } from "../errors.ts";

/** kubectl reads YAML 1.1 (yes/no/on/off are booleans, `<<` merges); so must we, or the same file diverges. */
const KUBE_YAML_SCHEMA = YAML11_SCHEMA.withTags(mergeTag);

export interface ParseLimits {
  /** Most nodes (scalars + collections) a file may expand to, aliases counted at each use. */
  maxNodes: number;
  maxAliases: number;
  /**
   * Deepest nesting of collections a document may have. Everything downstream (diff, merge, hashing) walks
   * objects recursively, so an unbounded depth ends in a stack overflow far from the file that caused it.
   */
  maxDepth: number;
}

/** maxDepth is js-yaml's own default, so a JSON file and a YAML file meet the same bound. */
export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxNodes: 2_000_000, maxAliases: 10_000, maxDepth: 100 };

/** Counts nodes as a serialiser would visit them (shared references counted each time), stopping at the bound. */
export function expandedNodeCount(value: unknown, limit: number): number {
  return measure(value, limit, Number.MAX_SAFE_INTEGER).nodes;
}

/** Node count and nesting depth (top-level value = depth 0), walked without recursion; stops at either bound. */
function measure(value: unknown, maxNodes: number, maxDepth: number): { nodes: number; depth: number } {
  let nodes = 0;
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (++nodes > maxNodes || deepest > maxDepth) break;
    const children = Array.isArray(node) ? node : typeof node === "object" && node !== null ? Object.values(node) : [];
    for (const child of children) stack.push([child, depth + 1]);
  }
  return { nodes, depth: deepest };
}

/** Throws when parsed documents exceed the node or depth bound. */
function checkBounds(value: unknown, file: string, limits: ParseLimits): void {
  const { nodes, depth } = measure(value, limits.maxNodes, limits.maxDepth);
  if (nodes > limits.maxNodes) {
    throw new ComparisonError(ErrorReason.ManifestTooLarge,
      `${file}: expands to more than ${limits.maxNodes} nodes (alias expansion); refusing to use it`, { terminal: true });
  }
  if (depth > limits.maxDepth) {
    throw new ComparisonError(ErrorReason.ManifestInvalid, `${file}: nesting exceeds maxDepth (${limits.maxDepth}); refusing to use it`, { terminal: true });
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes manifest bytes as UTF-8, refusing invalid sequences: a lossy decode would apply U+FFFD in place of
 * the bytes in Git, silently. The error names `what` and the byte offset of the first invalid sequence (and,
 * for `helm template` output, the template it came from).
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    const before = Buffer.from(bytes.subarray(0, offset)).toString("latin1");
    const source = [...before.matchAll(/^# Source: (.+)$/gm)].at(-1)?.[1];
    throw new ComparisonError(ErrorReason.ManifestInvalid,
      `${what}: invalid UTF-8 at byte offset ${offset}${source ? ` (in ${source.trim()})` : ""}; manifests must be UTF-8 text`, { terminal: true });
  }
}

/** The offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629), or the length. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) { i++; continue; }
    // Lead byte → sequence length and the range allowed for the second byte (no overlongs, no surrogates, ≤ U+10FFFF).
    let length: number; let lo = 0x80; let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) { length = 3; if (b === 0xe0) lo = 0xa0; if (b === 0xed) hi = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { length = 4; if (b === 0xf0) lo = 0x90; if (b === 0xf4) hi = 0x8f; }
    else return i;
    if (i + length > bytes.length) return i;
    const second = bytes[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return i;
}

/**
 * Parses a multi-document YAML or JSON file into Kubernetes objects. Empty documents are skipped; `List`
 * kinds are flattened. `file` names the file in error messages (repo-relative).
 */
export function parseManifests(text: string, file: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): KubeObject[] {
  let docs: unknown[];
  try {
    docs = loadAll(text, { schema: KUBE_YAML_SCHEMA, filename: file, maxAliases: limits.maxAliases, maxDepth: limits.maxDepth });
  } catch (err) {
    const detail = err instanceof YAMLException ? err.message : String(err);
    throw new ComparisonError(ErrorReason.ManifestInvalid, `invalid YAML: ${firstLine(detail)}`, { cause: err, terminal: true });
  }
  // Aliases are shared, not copied, by the parse: the depth of an expanded alias chain is measured here too.
  checkBounds(docs, file, { ...limits, maxDepth: limits.maxDepth + 1 });
  return toObjects(docs, file);
}

/** A .json manifest file: one object, or an array of them; the same bounds as YAML. */
export function parseJsonManifests(text: string, file: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): KubeObject[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ComparisonError(ErrorReason.ManifestInvalid, `${file}: invalid JSON: ${(err as Error).message}`, { terminal: true });
  }
  checkBounds(value, file, limits);
  return toObjects(Array.isArray(value) ? value : [value], file);
}

/** Checks parsed documents and flattens Lists. Documents must already be bounded (see expandedNodeCount). */
export function toObjects(docs: unknown[], file: string): KubeObject[] {
  const objects: KubeObject[] = [];
  docs.forEach((doc, index) => {
    if (doc === null || doc === undefined) return;
    collect(doc, docs.length > 1 ? `${file} (document ${index + 1})` : file, objects);
  });
  return objects;
}

function collect(doc: unknown, where: string, out: KubeObject[]): void {
  if (!isKubeObject(doc)) {
    if (typeof doc === "object" && doc !== null && !Array.isArray(doc) && (doc as Record<string, unknown>).kind !== undefined &&
        String((doc as Record<string, unknown>).kind).endsWith("List") && Array.isArray((doc as Record<string, unknown>).items)) {
      for (const item of (doc as { items: unknown[] }).items) collect(item, where, out);
      return;
    }
    throw new ComparisonError(ErrorReason.ManifestInvalid,
      `${where}: not a Kubernetes object (apiVersion, kind and metadata are required)`, { terminal: true });
  }
  if (doc.kind.endsWith("List") && Array.isArray(doc.items)) {
    for (const item of doc.items) collect(item, where, out);
    return;
  }
  if (!doc.metadata.name && !doc.metadata.generateName) {
    throw new ComparisonError(ErrorReason.ManifestInvalid, `${where}: ${doc.kind} has no metadata.name`, { terminal: true });
  }
  out.push(doc);
}

/** js-yaml's first line names the problem, the file and line:column; the rest is a source excerpt. */
function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}
