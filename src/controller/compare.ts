// Compare stage: desired objects against the live cache. An object whose desired manifest and declarable
// live content are unchanged since the last comparison reuses that result: an unchanged app costs no API
// request. Otherwise one server-side-apply dry run tells what applying would change (see src/diff).
import type { KubeObject, ResourceKey } from "../api/index.ts";
import { displayName, keyString } from "../api/index.ts";
import { KubeApiError, type ClusterWriter, type LiveCache, type ResourceType } from "../cluster/index.ts";
import { desiredHash, differences, liveFingerprint, summarizeDifferences } from "../diff/index.ts";
import { applyIgnoreRules, rulesFor, type ResourceIgnoreDifferences } from "../diff/ignore.ts";
import { JqError, type JqEvaluator } from "../jq/index.ts";
import { stringify } from "safe-stable-stringify";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { hasOption, objectSyncOptions } from "../sync/plan.ts";
import { secretValues } from "../sync/engine.ts";
import { redactSecrets } from "../redact.ts";
import { mapLimit } from "../util/concurrency.ts";
import type { DesiredObject } from "./desired.ts";

export interface ResourceComparison {
  key: ResourceKey;
  type: ResourceType;
  desired: KubeObject | undefined;
  live: KubeObject | undefined;
  inSync: boolean;
  /** Why it is out of sync, naming the fields; or the server's refusal of the dry run. */
  message?: string;
  requiresPruning: boolean;
}

interface CachedComparison { desiredHash: string; liveFingerprint: string; inSync: boolean; message?: string }

/** Remembered comparisons per object; bounded by the number of managed objects (entries are dropped with them). */
export class ComparisonCache {
  readonly #entries = new Map<string, CachedComparison>();
  get size(): number { return this.#entries.size; }
  lookup(key: ResourceKey, dHash: string, lFingerprint: string): CachedComparison | undefined {
    const entry = this.#entries.get(keyString(key));
    return entry && entry.desiredHash === dHash && entry.liveFingerprint === lFingerprint ? entry : undefined;
  }
  store(key: ResourceKey, entry: CachedComparison): void { this.#entries.set(keyString(key), entry); }
  /** After our own apply: the object the server returned is, by definition, what Git declares. */
  storeApplied(key: ResourceKey, desired: KubeObject, applied: KubeObject, rules: ResourceIgnoreDifferences[] = []): void {
    const matching = rulesFor(rules, key);
    const dHash = matching.length > 0 ? `${desiredHash(desired)}:${stringify(matching)}` : desiredHash(desired);
    this.store(key, { desiredHash: dHash, liveFingerprint: liveFingerprint(applied), inSync: true });
  }
  forget(key: ResourceKey): void { this.#entries.delete(keyString(key)); }
}

export interface CompareDeps {
  cache: LiveCache;
  writer: ClusterWriter;
  comparisons: ComparisonCache;
  dryRunConcurrency: number;
  /** The app's sync options; with Validate=false the dry run is the same unvalidated merge the sync will do. */
  syncOptions: string[];
  /** spec.ignoreDifferences and the bounded jq evaluator its jqPathExpressions run in. */
  ignore: { rules: ResourceIgnoreDifferences[]; jq: JqEvaluator };
}

export async function compareDesired(desired: DesiredObject[], deps: CompareDeps): Promise<ResourceComparison[]> {
  return mapLimit(desired, deps.dryRunConcurrency, async ({ key, type, desired: want }): Promise<ResourceComparison> => {
    const live = deps.cache.get(type, key.namespace, key.name);
    if (!live) return { key, type, desired: want, live, inSync: false, message: "missing from the cluster", requiresPruning: false };
    const rules = rulesFor(deps.ignore.rules, key);
    // The ignore rules are part of the key: changing spec.ignoreDifferences must re-judge the object.
    const dHash = rules.length > 0 ? `${desiredHash(want)}:${stringify(rules)}` : desiredHash(want);
    const lFingerprint = liveFingerprint(live);
    const cached = deps.comparisons.lookup(key, dHash, lFingerprint);
    if (cached) return { key, type, desired: want, live, inSync: cached.inSync, message: cached.message, requiresPruning: false };

    let predicted: KubeObject;
    try {
      const unvalidated = hasOption([...deps.syncOptions, ...objectSyncOptions(want)], "Validate", "false");
      predicted = unvalidated
        ? await deps.writer.mergeUpdate(type, want, live, { dryRun: true, validate: false })
        : await deps.writer.apply(type, want, { dryRun: true });
    } catch (err) {
      if (err instanceof KubeApiError && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 429) {
        // The server refuses this manifest: the object is out of sync and the sync will report why.
        let message = `dry run refused: ${err.message.replace(/^PATCH \S+: /, "")}`;
        if (key.kind === "Secret" && key.group === "") message = redactSecrets(message, secretValues(want));
        deps.comparisons.store(key, { desiredHash: dHash, liveFingerprint: lFingerprint, inSync: false, message });
        return { key, type, desired: want, live, inSync: false, message, requiresPruning: false };
      }
      throw new ComparisonError(ErrorReason.ClusterError, `comparing ${displayName(key)}: ${(err as Error).message}`, { cause: err });
    }
    let diffs;
    try {
      const ignored = rules.length > 0 ? await applyIgnoreRules({ desiredOrPredicted: predicted, live, rules, jq: deps.ignore.jq }) : undefined;
      diffs = ignored ? differences(ignored.live, ignored.predicted) : differences(live, predicted);
    } catch (err) {
      if (err instanceof JqError) {
        throw new ComparisonError(ErrorReason.InvalidSpec, `comparing ${displayName(key)}: ignoreDifferences: ${err.message}`, { cause: err, terminal: err.kind === "invalid" });
      }
      throw err;
    }
    const inSync = diffs.length === 0;
    const message = inSync ? undefined : `differs from Git at ${summarizeDifferences(diffs)}`;
    deps.comparisons.store(key, { desiredHash: dHash, liveFingerprint: lFingerprint, inSync, message });
    return { key, type, desired: want, live, inSync, message, requiresPruning: false };
  });
}
