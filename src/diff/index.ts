// Pure comparison of desired and live objects. The live side is compared against what the API server says
// the object would become if Tack applied the desired manifest (a server-side-apply dry run, supplied by
// the caller): fields the server defaults or other managers own then never show as drift, and the
// server's own normalisation (quantities, int-or-string, empty maps) is never mistaken for a change.
// No I/O, no clock: the caller caches dry runs by (desired hash, live fingerprint).
import { createHash } from "node:crypto";
import { stringify } from "safe-stable-stringify";
import jsonPatch from "fast-json-patch";
import type { KubeObject } from "../api/index.ts";
import { Annotation } from "../api/index.ts";
import { firstFew } from "../util/text.ts";

/** Metadata the server owns or that changes without meaning (and status, which Git never declares). */
const VOLATILE_METADATA = ["resourceVersion", "managedFields", "generation", "uid", "creationTimestamp", "selfLink"];

/** The part of an object a user declares: no status, no server bookkeeping. */
export function comparable(obj: KubeObject): Record<string, unknown> {
  const { status: _status, metadata, ...rest } = obj;
  const meta: Record<string, unknown> = { ...metadata };
  for (const field of VOLATILE_METADATA) delete meta[field];
  if (metadata.annotations?.[Annotation.KubectlLastApplied]) {
    const { [Annotation.KubectlLastApplied]: _last, ...annotations } = metadata.annotations;
    meta.annotations = annotations;
  }
  return { ...rest, metadata: meta };
}

function digest(value: unknown): string {
  return createHash("sha256").update(stringify(value) ?? "").digest("base64url");
}

/** Stable hash of a desired manifest (key order does not matter). */
export function desiredHash(desired: KubeObject): string { return digest(desired); }

/** Stable hash of the declarable part of a live object: status-only updates leave it unchanged. */
export function liveFingerprint(live: KubeObject): string { return digest(comparable(live)); }

export interface Difference {
  op: "add" | "remove" | "replace";
  path: string;
}

/** What applying would change: JSON Patch paths from live to predicted, on their comparable parts. */
export function differences(live: KubeObject, predicted: KubeObject): Difference[] {
  const ops = jsonPatch.compare(comparable(live), comparable(predicted));
  return ops.filter((op): op is Difference & jsonPatch.Operation => op.op === "add" || op.op === "remove" || op.op === "replace")
    .map((op) => ({ op: op.op, path: op.path }));
}

export function summarizeDifferences(diffs: Difference[], max = 5): string {
  return firstFew(diffs.map((d) => d.path), max, ", ");
}
