// Parsing of manifest text into objects, bounded: js-yaml shares aliased nodes instead of copying them, so
// an alias bomb costs little to load but explodes when serialised (DESIGN.md §4: 432 bytes → 269 MB). The
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
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxNodes: 2_000_000, maxAliases: 10_000 };

/** Counts nodes as a serialiser would visit them (shared references counted each time), stopping at the bound. */
export function expandedNodeCount(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (++count > limit) return count;
    if (Array.isArray(node)) { for (const item of node) stack.push(item); }
    else if (typeof node === "object" && node !== null) { for (const item of Object.values(node)) stack.push(item); }
  }
  return count;
}

/**
 * Parses a multi-document YAML or JSON file into Kubernetes objects. Empty documents are skipped; `List`
 * kinds are flattened. `file` names the file in error messages (repo-relative).
 */
export function parseManifests(text: string, file: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): KubeObject[] {
  let docs: unknown[];
  try {
    docs = loadAll(text, { schema: KUBE_YAML_SCHEMA, filename: file, maxAliases: limits.maxAliases });
  } catch (err) {
    const detail = err instanceof YAMLException ? err.message : String(err);
    throw new ComparisonError(ErrorReason.ManifestInvalid, `invalid YAML: ${firstLine(detail)}`, { cause: err, terminal: true });
  }
  if (expandedNodeCount(docs, limits.maxNodes) > limits.maxNodes) {
    throw new ComparisonError(ErrorReason.ManifestTooLarge,
      `${file}: YAML expands to more than ${limits.maxNodes} nodes (alias expansion); refusing to use it`, { terminal: true });
  }
  return toObjects(docs, file);
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
