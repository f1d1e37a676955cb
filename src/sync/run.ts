// Runs one sync: applies what is out of sync in plan order (namespaces, CRDs, then the rest), then prunes
// what this app owns and Git no longer declares. Objects already in sync are not written (the comparison
// is exact: a server-side-apply dry run). Prune never runs after a failed apply, never on an empty render
// without allowEmpty, and deletes only objects whose tracking id names this app, by uid.
import type { Logger } from "pino";
import type { AppRef, KubeObject, ResourceKey, ResourceResult } from "../api/index.ts";
import { displayName, isOwnedBy } from "../api/index.ts";
import { KubeApiError, type ClusterWriter, type Discovery, type PropagationPolicy, type ResourceType } from "../cluster/index.ts";
import { errorMessage } from "../errors.ts";
import { mapLimit } from "../util/concurrency.ts";
import { applySteps } from "./plan.ts";

export interface SyncItem {
  key: ResourceKey;
  type: ResourceType;
  desired: KubeObject | undefined;
  live: KubeObject | undefined;
  inSync: boolean;
  requiresPruning: boolean;
  message?: string;
}

export interface SyncRequest<T extends SyncItem> {
  app: AppRef;
  comparisons: T[];
  prune: boolean;
  dryRun: boolean;
  allowEmpty: boolean;
  emptyRender: boolean;
  syncOptions: string[];
  destinationNamespace: string | undefined;
  writer: ClusterWriter;
  discovery: Discovery;
  /** Told of every object the server accepted, so the next compare needs no dry run. */
  onApplied?: (key: ResourceKey, desired: KubeObject, applied: KubeObject) => void;
  signal: AbortSignal;
  logger: Logger;
  applyConcurrency?: number;
}

export interface SyncOutcome<T extends SyncItem = SyncItem> {
  phase: "Succeeded" | "Failed";
  message: string;
  results: ResourceResult[];
  /** The comparisons as they stand after the sync (applied objects in sync, pruned ones gone). */
  after: T[];
}

export function hasSyncOption(options: string[], option: string): boolean {
  return options.some((o) => o.replace(/\s/g, "") === option);
}

export async function runSync<T extends SyncItem>(req: SyncRequest<T>): Promise<SyncOutcome<T>> {
  const results: ResourceResult[] = [];
  const after = new Map<T, T | undefined>(req.comparisons.map((c) => [c, c]));
  const failures: string[] = [];
  const record = (item: SyncItem, status: string, message: string) => results.push({
    group: item.key.group, version: item.type.version, kind: item.key.kind, namespace: item.key.namespace || undefined,
    name: item.key.name, status, message, syncPhase: "Sync",
  });

  if (hasSyncOption(req.syncOptions, "CreateNamespace=true") && req.destinationNamespace && !req.dryRun) {
    await ensureNamespace(req, req.destinationNamespace, failures);
  }

  const toApply = req.comparisons.filter((c) => c.desired && !c.inSync);
  for (const step of applySteps(toApply.map((item) => ({ desired: item.desired!, item })))) {
    if (failures.length > 0 || req.signal.aborted) break;
    await mapLimit(step, req.applyConcurrency ?? 8, async ({ item }) => {
      try {
        const applied = await req.writer.apply(item.type, item.desired!, { dryRun: req.dryRun, signal: req.signal });
        record(item, "Synced", req.dryRun ? "would be applied (dry run)" : item.live ? "configured" : "created");
        if (!req.dryRun) {
          req.onApplied?.(item.key, item.desired!, applied);
          after.set(item, { ...item, live: applied, inSync: true, message: undefined });
        }
      } catch (err) {
        const message = errorMessage(err).replace(/^PATCH \S+: /, "");
        failures.push(`${displayName(item.key)}: ${message}`);
        record(item, "SyncFailed", message);
      }
    });
    // Kinds defined by CRDs applied in this step become servable only once discovery has seen them.
    if (step.some(({ item }) => item.key.kind === "CustomResourceDefinition") && !req.dryRun) await req.discovery.refresh();
  }
  if (req.signal.aborted && failures.length === 0) failures.push("controller shutting down before the sync finished; it resumes on restart");

  const prunable = req.comparisons.filter((c) => c.requiresPruning);
  let pruneNote = "";
  if (prunable.length > 0 && failures.length === 0) {
    if (!req.prune) {
      for (const item of prunable) record(item, "PruneSkipped", "ignored (requires pruning, and prune is off)");
    } else if (req.emptyRender && !req.allowEmpty) {
      pruneNote = `; refused to prune ${prunable.length} object(s) because the render is empty (set syncPolicy.automated.allowEmpty to allow it)`;
      for (const item of prunable) record(item, "PruneSkipped", "render is empty and allowEmpty is off");
    } else {
      const policy = propagationPolicy(req.syncOptions);
      for (const item of prunable) {
        // Ownership is checked on the very object deleted, and the uid precondition pins it (DESIGN.md §3 rule 3).
        if (!item.live || !isOwnedBy(item.live, req.app) || !item.live.metadata.uid) {
          record(item, "PruneSkipped", "not tracked by this application");
          continue;
        }
        if (req.dryRun) { record(item, "Pruned", "would be pruned (dry run)"); continue; }
        try {
          await req.writer.delete(item.type, item.key.namespace || undefined, item.key.name, item.live.metadata.uid, policy);
          record(item, "Pruned", "pruned");
          after.set(item, undefined);
        } catch (err) {
          if (err instanceof KubeApiError && (err.isNotFound || err.isConflict)) {
            record(item, "Pruned", "already gone");
            after.set(item, undefined);
            continue;
          }
          failures.push(`${displayName(item.key)}: ${errorMessage(err)}`);
          record(item, "SyncFailed", `prune failed: ${errorMessage(err)}`);
        }
      }
    }
  }

  const applied = results.filter((r) => r.status === "Synced").length;
  const pruned = results.filter((r) => r.status === "Pruned").length;
  const summary = `${applied} applied, ${pruned} pruned${pruneNote}`;
  const remaining = [...after.values()].filter((c): c is T => c !== undefined);
  if (failures.length > 0) {
    req.logger.warn({ failures }, "sync failed");
    return { phase: "Failed", message: `${failures.length} failed: ${failures.slice(0, 3).join("; ")}${failures.length > 3 ? "; …" : ""} (${summary})`, results, after: remaining };
  }
  req.logger.info({ applied, pruned }, "sync succeeded");
  return { phase: "Succeeded", message: `successfully synced: ${summary}`, results, after: remaining };
}

function propagationPolicy(options: string[]): PropagationPolicy {
  const value = options.map((o) => /^PrunePropagationPolicy=(\w+)$/.exec(o.trim())?.[1]).find(Boolean)?.toLowerCase();
  return value === "background" ? "Background" : value === "orphan" ? "Orphan" : "Foreground";
}

async function ensureNamespace(req: SyncRequest<SyncItem>, name: string, failures: string[]): Promise<void> {
  const type = await req.discovery.lookup("v1", "Namespace");
  if (!type) return;
  try {
    await req.writer.apply(type, { apiVersion: "v1", kind: "Namespace", metadata: { name } }, { signal: req.signal });
  } catch (err) {
    failures.push(`Namespace/${name} (CreateNamespace=true): ${errorMessage(err)}`);
  }
}
