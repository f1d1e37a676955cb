// Deleting what Git no longer declares, and the checks that keep that safe: the refusals decided before anything
// is written (FailOnSharedResource, the prune guard), the per-object rules (prune off, empty render, Prune=false,
// owned by this app) and the delete itself, pinned to the uid that was checked.
import type { KubeObject } from "../api/index.ts";
import { describeOwner, displayName, isOwnedBy, isTrackedByAnother } from "../api/index.ts";
import { firstFew } from "../util/text.ts";
import { KubeApiError, type PropagationPolicy } from "../cluster/index.ts";
import { errorMessage } from "../errors.ts";
import { hasOption, objectSyncOptions, optionValue, type Step } from "./plan.ts";
import { recordResult, ResultStatus } from "./results.ts";
import type { EngineRequest, SyncItem } from "./types.ts";
import type { ResourceResult } from "../api/index.ts";

/** Refusals decided before anything is written: shared objects under FailOnSharedResource, the prune guard. */
export function preflight<T extends SyncItem>(req: EngineRequest<T>): string | undefined {
  if (hasOption(req.syncOptions, "FailOnSharedResource")) {
    const shared = req.items.filter((i) => i.desired && i.live && isTrackedByAnother(i.live, req.app));
    if (shared.length > 0) {
      return `FailOnSharedResource=true: ${firstFew(shared.map((i) => `${displayName(i.key)} (tracked by ${describeOwner(i.live!)})`), 5, ", ")}`;
    }
  }
  const prunable = req.items.filter((i) => i.requiresPruning && !hasOption(objectSyncOptions(i.live), "Prune", "false"));
  if (req.prune && prunable.length > 0 && !(req.emptyRender && !req.allowEmpty)) {
    const total = req.items.filter((i) => i.desired || i.requiresPruning).length;
    const percent = (prunable.length / total) * 100;
    const allowed = hasOption(req.syncOptions, "AllowMassPrune") || (req.emptyRender && req.allowEmpty);
    if (percent > req.pruneGuardPercent && !allowed) {
      return `prune guard: this sync would delete ${prunable.length} of the app's ${total} objects (${Math.round(percent)}%, more than ` +
        `${req.pruneGuardPercent}%); nothing was changed. If that is intended, sync with the option AllowMassPrune=true`;
    }
  }
  return undefined;
}

/** The note a successful sync ends with when an empty render held its prunes back. */
export function pruneNote<T extends SyncItem>(req: EngineRequest<T>): string {
  const prunable = req.items.filter((i) => i.requiresPruning).length;
  return req.prune && req.emptyRender && !req.allowEmpty && prunable > 0
    ? `; refused to prune ${prunable} object(s) because the render is empty (set syncPolicy.automated.allowEmpty to allow it)` : "";
}

/** Prunes one object (or records why not); returns the operation's failure message when the delete failed. */
export async function pruneOne<T extends SyncItem>(req: EngineRequest<T>, item: T, step: Step, results: ResourceResult[]): Promise<string | undefined> {
  const skip = (why: string) => { recordResult(results, item, step, ResultStatus.PruneSkipped, why); return undefined; };
  if (!req.prune) return skip("ignored (requires pruning, and prune is off)");
  if (req.emptyRender && !req.allowEmpty) return skip("render is empty and allowEmpty is off");
  if (hasOption(objectSyncOptions(item.live), "Prune", "false")) return skip("sync option Prune=false");
  // Ownership is checked on the very object deleted, and the uid precondition pins it (safety rule 3; ADR 0005).
  if (!item.live || !isOwnedBy(item.live, req.app) || !item.live.metadata.uid) return skip("not tracked by this application");
  if (req.dryRun) { recordResult(results, item, step, ResultStatus.Pruned, "would be pruned (dry run)"); return undefined; }
  try {
    await req.writer.delete(item.type, item.key.namespace || undefined, item.key.name, item.live.metadata.uid, propagationPolicy(req.syncOptions, item.live));
    recordResult(results, item, step, ResultStatus.Pruned, "pruned");
  } catch (err) {
    if (err instanceof KubeApiError && (err.isNotFound || err.isConflict)) { recordResult(results, item, step, ResultStatus.Pruned, "already gone"); return undefined; }
    recordResult(results, item, step, ResultStatus.SyncFailed, `prune failed: ${errorMessage(err)}`);
    return `prune of ${displayName(item.key)} failed: ${errorMessage(err)}`;
  }
  return undefined;
}

/** PrunePropagationPolicy from the object's own sync options, else the app's; Foreground unless told otherwise. */
export function propagationPolicy(options: string[], live?: KubeObject): PropagationPolicy {
  const value = (optionValue(objectSyncOptions(live), "PrunePropagationPolicy") ?? optionValue(options, "PrunePropagationPolicy"))?.toLowerCase();
  return value === "background" ? "Background" : value === "orphan" ? "Orphan" : "Foreground";
}
