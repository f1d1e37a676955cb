// Stage "status": the Application's status from the comparison (or from the error that stopped it), its history,
// the health Events, the one status write per reconcile (none when nothing but the time changed) and the metrics.
import { createHash } from "node:crypto";
import { stringify } from "safe-stable-stringify";
import type { Application, ApplicationSource, ApplicationStatus, OperationState, ResourceResult, ResourceStatus } from "../../api/index.ts";
import { describeOwner, displayName, isTrackedByAnother, keyString, OperationPhase, SyncStatusCode } from "../../api/index.ts";
import { ConditionType, ErrorReason, type TackError } from "../../errors.ts";
import { assessHealth, worstHealth, type HealthStatus, type HealthStatusCode } from "../../health/index.ts";
import { failedSyncMessage, type RetryStrategy } from "../../sync/policy.ts";
import { hookDeletionMessage, undeletedHooks } from "../../sync/results.ts";
import { mergePatch } from "../../util/merge-patch.ts";
import { firstFew } from "../../util/text.ts";
import { IN_CLUSTER } from "../clusters.ts";
import type { ResourceComparison } from "../compare.ts";
import { nextConditions, type ConditionInput } from "../conditions.ts";
import { EventReason } from "../events.ts";
import type { PendingEvent, ReconcileContext } from "./context.ts";
import type { Loaded } from "./source.ts";

const DEFAULT_HISTORY_LIMIT = 10;

/** The status after a comparison (and the operation step, if one ran). */
export function comparedStatus(ctx: ReconcileContext, loaded: Loaded, comparisons: ResourceComparison[],
  operationState: OperationState | undefined, extraConditions: ConditionInput[]): ApplicationStatus {
  const { app, previous } = ctx;
  const rules = ctx.deps.healthRules();
  const resources: ResourceStatus[] = comparisons.map((c) => {
    const health: HealthStatus | undefined = c.requiresPruning ? undefined
      : c.live ? assessHealth(c.live, rules) : { status: "Missing", message: "missing from the cluster" };
    return {
      group: c.key.group, version: c.type.version, kind: c.key.kind, namespace: c.key.namespace || undefined, name: c.key.name,
      status: c.inSync ? SyncStatusCode.Synced : SyncStatusCode.OutOfSync,
      ...(health ? { health: { status: health.status, ...(health.message ? { message: health.message } : {}) } } : {}),
      ...(c.requiresPruning ? { requiresPruning: true } : {}),
      ...(!c.inSync && c.message ? { message: c.message } : {}),
    };
  }).sort(compareKeys);
  const syncStatus = resources.every((r) => r.status === SyncStatusCode.Synced) ? SyncStatusCode.Synced : SyncStatusCode.OutOfSync;
  const health = appHealth(resources);
  const ready: ConditionInput = syncStatus === SyncStatusCode.Synced && health.status === "Healthy"
    ? { type: ConditionType.Ready, status: "True", reason: "SyncedAndHealthy", message: `Synced to ${short(loaded.revision)} and Healthy` }
    : { type: ConditionType.Ready, status: "False", reason: syncStatus === SyncStatusCode.OutOfSync ? "OutOfSync" : health.status,
        message: syncStatus === SyncStatusCode.OutOfSync ? outOfSyncMessage(resources, loaded.revision) : health.message || health.status };
  return {
    ...previous,
    sync: { status: syncStatus, revision: loaded.revision, comparedTo: { source: statusSource(app.spec.source), destination: app.spec.destination } },
    health,
    resources,
    conditions: nextConditions(previous.conditions, [ready, ...extraConditions], ctx.now().toISOString(), app.metadata.generation),
    ...(operationState ? { operationState } : {}),
    observedGeneration: app.metadata.generation,
    sourceType: loaded.sourceType,
  };
}

/** The status when a stage failed: the comparison is Unknown (nothing was pruned), the error is the condition. */
export function errorStatus(ctx: ReconcileContext, err: TackError): ApplicationStatus {
  const { app, previous } = ctx;
  const conditions = nextConditions(previous.conditions, [
    { type: err.conditionType, status: "True", reason: err.reason, message: err.message },
    { type: ConditionType.Ready, status: "False", reason: err.reason, message: err.message },
  ], ctx.now().toISOString(), app.metadata.generation);
  return {
    ...previous,
    sync: { status: SyncStatusCode.Unknown, ...(previous.sync?.revision ? { revision: previous.sync.revision } : {}),
      comparedTo: { source: statusSource(app.spec.source), destination: app.spec.destination } },
    conditions,
    observedGeneration: app.metadata.generation,
  };
}

/**
 * SyncError while the last operation failed (saying whether a retry follows), or while hooks it should have deleted
 * are still in the cluster because the API server refused the delete.
 */
export function syncErrorCondition(state: OperationState | undefined, retry: RetryStrategy | undefined): ConditionInput[] {
  if (!state || state.phase === OperationPhase.Running) return [];
  const failed = state.phase === OperationPhase.Failed || state.phase === OperationPhase.Error;
  const undeleted = hookDeletionMessage(undeletedHooks(state.syncResult?.resources ?? []));
  if (!failed && !undeleted) return [];
  const message = [failed ? failedSyncMessage(state, retry) : undefined, undeleted].filter(Boolean).join("; ");
  return [{ type: ConditionType.SyncError, status: "True", reason: failed ? ErrorReason.SyncFailed : ErrorReason.HookDeletionFailed, message }];
}

/** SharedResourceWarning when objects Git declares are tracked by another Application (they are not taken over). */
export function sharedResourceWarning(ctx: ReconcileContext, comparisons: ResourceComparison[]): ConditionInput[] {
  const shared = comparisons.filter((c) => c.desired && c.live && isTrackedByAnother(c.live, ctx.ref));
  if (shared.length === 0) return [];
  return [{
    type: ConditionType.SharedResourceWarning, status: "True", reason: "SharedResource",
    message: `${firstFew(shared.map((c) => `${displayName(c.key)} is tracked by ${describeOwner(c.live!)}`))}: not taken over (sync option TakeOwnership=true takes it)`,
  }];
}

/** The history entry of a finished, successful, non-dry-run sync. */
export function withHistory(app: Application, status: ApplicationStatus, state: OperationState, source: ApplicationSource): ApplicationStatus {
  const list = status.history ?? [];
  const id = list.reduce((max, h) => Math.max(max, h.id), -1) + 1;
  const entry = {
    id, revision: state.syncResult!.revision!, deployedAt: state.finishedAt!, deployStartedAt: state.startedAt,
    source: statusSource(source), initiatedBy: state.operation?.initiatedBy,
  };
  return { ...status, history: [...list, entry].slice(-Math.max(1, app.spec.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT)) };
}

/** HealthDegraded on becoming Degraded; HealthRecovered on becoming Healthy after Degraded (even via Progressing). */
export function healthEvents(ctx: ReconcileContext, before: string | undefined, after: string | undefined, message: string | undefined): void {
  if (after === before || !after) return;
  if (after === "Degraded") {
    ctx.memory.degraded = true;
    ctx.events.push(["Warning", EventReason.HealthDegraded, `Health is Degraded: ${message ?? ""}`.trim()]);
  } else if (after === "Healthy" && (ctx.memory.degraded || before === "Degraded")) {
    ctx.memory.degraded = false;
    ctx.events.push(["Normal", EventReason.HealthRecovered, "Health recovered: Healthy"]);
  }
}

/** OutOfSync, once, when the comparison first finds drift (even when selfHeal undoes it within this reconcile). */
export function driftEvent(ctx: ReconcileContext, comparisons: ResourceComparison[], revision: string): PendingEvent[] {
  const drifted = comparisons.filter((c) => !c.inSync);
  if (drifted.length === 0 || ctx.previous.sync?.status === SyncStatusCode.OutOfSync) return [];
  return [["Warning", EventReason.OutOfSync, outOfSyncMessage(drifted.map((c) => ({
    group: c.key.group, kind: c.key.kind, namespace: c.key.namespace, name: c.key.name, status: SyncStatusCode.OutOfSync,
    ...(c.requiresPruning ? { requiresPruning: true } : {}), ...(c.message ? { message: c.message } : {}),
  })), revision)]];
}

/**
 * Writes status only when something other than reconciledAt changed: an idle app costs no write. The status now
 * stored becomes ctx.previous, for the stages that follow in the same reconcile.
 */
export async function writeStatus(ctx: ReconcileContext, next: ApplicationStatus): Promise<void> {
  const { app, previous } = ctx;
  const { reconciledAt: _a, ...before } = previous;
  const { reconciledAt: _b, ...after } = next;
  if (stringify(before) === stringify(after)) return;
  const withTime = { ...next, reconciledAt: ctx.now().toISOString() };
  const updated = await ctx.deps.writer.patchApplicationStatus(app.metadata.namespace, app.metadata.name, mergePatch(previous, withTime));
  ctx.ownWrites.record(ctx.key, updated);
  ctx.previous = (updated as unknown as Application).status ?? withTime;
}

export function recordMetrics(ctx: ReconcileContext, status: ApplicationStatus): void {
  const { app, memory, deps } = ctx;
  const spec = app.spec;
  const { namespace, name } = app.metadata;
  if (status.sync?.status === SyncStatusCode.OutOfSync) memory.outOfSyncSince ??= ctx.now();
  else memory.outOfSyncSince = undefined;
  deps.metrics.setOutOfSyncSince(namespace, name, memory.outOfSyncSince);
  const op = status.operationState;
  if (op?.finishedAt && op.phase !== OperationPhase.Running) deps.metrics.setLastSync(namespace, name, op.phase, new Date(op.finishedAt));
  deps.metrics.setAppInfo({
    namespace, name, project: spec.project || "default",
    repo: spec.source?.repoURL ?? "", destServer: destinationServer(spec.destination ?? {}), destNamespace: spec.destination?.namespace ?? "",
    syncStatus: status.sync?.status ?? SyncStatusCode.Unknown, healthStatus: status.health?.status ?? "Unknown",
    autosyncEnabled: Boolean(spec.syncPolicy?.automated && spec.syncPolicy.automated.enabled !== false),
    operation: status.operationState?.phase === OperationPhase.Running ? "sync" : "",
  });
}

export function destinationServer(destination: { server?: string; name?: string }): string {
  return destination.server ?? (destination.name === IN_CLUSTER.name || !destination.name ? IN_CLUSTER.server : destination.name);
}

function appHealth(resources: ResourceStatus[]): { status: HealthStatusCode; message?: string } {
  const counted = resources.filter((r) => r.health);
  const status = worstHealth(counted.map((r) => r.health!.status as HealthStatusCode));
  if (status === "Healthy") return { status };
  const culprit = counted.find((r) => r.health!.status === status);
  return culprit ? { status, message: `${displayName(resourceKey(culprit))}: ${culprit.health!.message ?? status}` } : { status };
}

export function resourceKey(r: ResourceStatus | ResourceResult) {
  return { group: r.group ?? "", kind: r.kind, namespace: r.namespace ?? "", name: r.name };
}

function compareKeys(a: ResourceStatus, b: ResourceStatus): number {
  const x = keyString(resourceKey(a));
  const y = keyString(resourceKey(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

function outOfSyncMessage(resources: ResourceStatus[], revision: string): string {
  const off = resources.filter((r) => r.status !== SyncStatusCode.Synced);
  const names = off.map((r) => `${displayName(resourceKey(r))}${r.requiresPruning ? " (requires pruning)" : r.message ? ` (${r.message})` : ""}`);
  return `${off.length} resource(s) differ from ${short(revision)}: ${firstFew(names, 5, ", ")}`;
}

/** A commit as people read it: the first 7 characters of a full SHA; anything else (a chart version) as it is. */
export function short(revision: string): string { return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision; }

/**
 * The source as recorded in status (comparedTo, operation results, history): Helm values and parameter values
 * may be secrets, so they are replaced by a digest. Changes stay visible (the digest changes) and comparisons
 * between recorded sources still work, but no value is copied out of the spec (safety rule 6).
 */
export function statusSource<T extends ApplicationSource | undefined>(source: T): T {
  const helm = source?.helm;
  if (!source || !helm || (!helm.parameters?.length && helm.values === undefined && helm.valuesObject === undefined)) return source;
  const digest = (value: unknown) => `sha256:${createHash("sha256").update(stringify(value) ?? "").digest("hex").slice(0, 16)}`;
  return {
    ...source,
    helm: {
      ...helm,
      ...(helm.parameters ? { parameters: helm.parameters.map((p) => ({ ...p, value: digest(p.value) })) } : {}),
      ...(helm.values !== undefined ? { values: digest(helm.values) } : {}),
      ...(helm.valuesObject !== undefined ? { valuesObject: { digest: digest(helm.valuesObject) } } : {}),
    },
  };
}
