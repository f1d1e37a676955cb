// Stage "operate": acts on the operation decision (decide-operation.ts). Starting an operation records it in status
// before the first write, so a controller killed mid-sync resumes it (safety rule 9); each reconcile then runs one
// step of the sync engine from the results recorded in status, and the last step finishes the operation.
import { stringify } from "safe-stable-stringify";
import type { Application, AppProjectSpec, Operation, OperationState, ResourceResult } from "../../api/index.ts";
import { keyString, OperationPhase } from "../../api/index.ts";
import type { RepoCredentials } from "../../git/index.ts";
import { assessHealth } from "../../health/index.ts";
import { completesInOneStep, runSyncStep } from "../../sync/engine.ts";
import { mayRetry, retryDelayMs } from "../../sync/policy.ts";
import { changeSetOf, hookDeletionMessage, prunedMessage, ResultStatus } from "../../sync/results.ts";
import type { TargetCluster } from "../clusters.ts";
import type { ResourceComparison } from "../compare.ts";
import { EventReason } from "../events.ts";
import { compareApp, watchTypes } from "./compare.ts";
import type { ReconcileContext } from "./context.ts";
import { decideOperation } from "./decide-operation.ts";
import type { ParsedSpec } from "./spec.ts";
import { loadSource, type Loaded } from "./source.ts";
import { destinationServer, short, statusSource, writeStatus } from "./status.ts";

export interface OperateInput {
  spec: ParsedSpec;
  project: AppProjectSpec;
  target: TargetCluster;
  loaded: Loaded;
  comparisons: ResourceComparison[];
  credentials: RepoCredentials | undefined;
}

export interface OperateResult {
  /** The operation state to show in status (undefined: none yet). */
  operationState: OperationState | undefined;
  /** The comparison after this step, when it ran at the revision compared (it then replaces the comparison). */
  after?: ResourceComparison[];
  /** The operation finished successfully on this reconcile and was not a dry run: it goes into history. */
  deployed: boolean;
}

export async function operate(ctx: ReconcileContext, input: OperateInput): Promise<OperateResult> {
  const { app, deps, log } = ctx;
  const decision = decideOperation({
    app, stored: ctx.previous.operationState, revision: input.loaded.revision, comparisons: input.comparisons, project: input.project, now: ctx.now(),
  });
  let operationState = ctx.previous.operationState;
  if (decision.action !== "continue" && decision.action !== "wait" && decision.action !== "none" && decision.supersedes) {
    operationState = finish(ctx, input, decision.supersedes, OperationPhase.Failed, `superseded by revision ${short(input.loaded.revision)}`);
  }
  let current: OperationState;
  switch (decision.action) {
    case "none":
      if (decision.why === "failed") log.debug({ revision: input.loaded.revision }, "automated sync skipped: the last attempt on this revision failed");
      return { operationState, deployed: false };
    case "wait":
      ctx.requeue(decision.waitMs);
      return { operationState, deployed: false };
    case "held":
      log.info({ reason: decision.reason }, "automated sync held by a sync window");
      ctx.events.push(["Normal", EventReason.SyncWindowClosed, decision.reason]);
      ctx.requeue(60_000);
      return { operationState, deployed: false };
    case "refused": {
      // A refused manual sync ends at once, with the window named; the user's operation is cleared.
      const refused: OperationState = { operation: decision.operation, phase: OperationPhase.Failed, message: decision.reason,
        startedAt: ctx.now().toISOString(), syncResult: { revision: input.loaded.revision, source: statusSource(input.spec.source), resources: [] } };
      await clearOperation(ctx);
      return { operationState: finish(ctx, input, refused, OperationPhase.Failed, decision.reason), deployed: false };
    }
    case "start":
      current = await start(ctx, input, decision.operation, decision.manual, decision.retryCount);
      break;
    case "continue":
      current = decision.running;
  }
  return step(ctx, input, current);
}

async function start(ctx: ReconcileContext, input: OperateInput, operation: Operation, manual: boolean, retryCount: number): Promise<OperationState> {
  const { app } = ctx;
  const target = operation.sync?.revision && operation.sync.revision !== input.loaded.revision
    ? await loadSource(ctx, input.target, input.spec.source, operation.sync.revision, input.credentials, { remember: false })
    : input.loaded;
  const current: OperationState = { operation, phase: OperationPhase.Running, message: "syncing", startedAt: ctx.now().toISOString(),
    retryCount, syncResult: { revision: target.revision, source: statusSource(input.spec.source), resources: [] } };
  // Recorded before the first write, so a controller killed mid-sync resumes it. An automated operation without
  // hooks and with one step has nothing to resume (starting it again is the same apply), so it skips that write:
  // a self-heal then costs one status write, not two.
  const oneStep = !manual && target === input.loaded && completesInOneStep(input.comparisons, target.hooks, app.spec.syncPolicy?.syncOptions ?? []);
  if (!oneStep) await writeStatus(ctx, { ...ctx.previous, operationState: current });
  ctx.events.push(["Normal", EventReason.SyncStarted, `Sync to ${short(target.revision)} started${manual ? "" : " (automated)"}`]);
  return current;
}

/** One step of the sync engine; the last one finishes the operation. */
async function step(ctx: ReconcileContext, input: OperateInput, running: OperationState): Promise<OperateResult> {
  const { app, deps, log } = ctx;
  const { spec } = input;
  const op = running.operation ?? {};
  const syncOptions = [...(app.spec.syncPolicy?.syncOptions ?? []), ...(op.sync?.syncOptions ?? [])];
  const revision = running.syncResult?.revision ?? input.loaded.revision;
  const sameTarget = revision === input.loaded.revision;
  const target = sameTarget ? input.loaded : await loadSource(ctx, input.target, spec.source, revision, input.credentials, { remember: false });
  if (!sameTarget) await watchTypes(input.target, target, []);
  const comparisons = sameTarget ? input.comparisons : await compareApp(ctx, input.target, target.desired, syncOptions, spec.ignoreDifferences ?? []);
  const rules = deps.healthRules();
  const engine = await runSyncStep({
    app: ctx.ref, items: comparisons, hooks: target.hooks, results: running.syncResult?.resources ?? [], message: running.message,
    prune: op.sync?.prune ?? false, dryRun: op.sync?.dryRun ?? false,
    allowEmpty: app.spec.syncPolicy?.automated?.allowEmpty ?? false, emptyRender: target.emptyRender,
    syncOptions, destinationNamespace: spec.destination.namespace,
    managedNamespaceMetadata: app.spec.syncPolicy?.managedNamespaceMetadata,
    pruneGuardPercent: deps.config.pruneGuardPercent,
    now: ctx.now().getTime(), deadline: Date.parse(running.startedAt ?? "") + deps.config.syncTimeoutSeconds * 1000,
    health: (obj) => assessHealth(obj, rules),
    live: (type, ns, objName) => input.target.cache.get(type, ns, objName),
    writer: input.target.writer, discovery: input.target.discovery, signal: deps.signal, logger: log,
    onApplied: (k, desired, applied) => input.target.comparisons.storeApplied(k, desired, applied, spec.ignoreDifferences ?? []),
    ignore: { rules: spec.ignoreDifferences ?? [], jq: deps.jq },
  });
  const current: OperationState = { ...running, message: engine.message,
    syncResult: { ...running.syncResult, revision, source: statusSource(spec.source), resources: engine.results } };
  const after = sameTarget ? engine.after : afterOtherRevision(input.comparisons, target, engine.results, revision);
  if (engine.phase === "Running") {
    ctx.requeue(engine.requeueAfterMs ?? 2_000);
    return { operationState: current, ...(after ? { after } : {}), deployed: false };
  }
  const undeleted = hookDeletionMessage(engine.hookDeletionFailures);
  if (undeleted) ctx.events.push(["Warning", EventReason.HookDeletionFailed, undeleted]);
  const phase = engine.phase === "Succeeded" ? OperationPhase.Succeeded : OperationPhase.Failed;
  const finished = finish(ctx, input, current, phase, engine.message);
  // A retry comes back after its backoff. Otherwise look again at once: drift that arrived while the operation
  // ran is judged by the automated policy then.
  const retry = app.spec.syncPolicy?.retry;
  const retrying = phase !== OperationPhase.Succeeded && op.initiatedBy?.automated && mayRetry(retry, current.retryCount ?? 0);
  ctx.requeue(retrying ? retryDelayMs(retry, current.retryCount ?? 0) : 1);
  if (app.operation?.sync) await clearOperation(ctx);
  return { operationState: finished, ...(after ? { after } : {}), deployed: phase === OperationPhase.Succeeded && !op.sync?.dryRun };
}

/**
 * A step of a sync to another revision than the one compared (a rollback, `--revision`) changes what the comparison
 * saw: an object it wrote with another manifest, or pruned, no longer matches the compared revision. Said so now,
 * rather than reporting Synced until the watch brings the written objects back.
 */
function afterOtherRevision(compared: ResourceComparison[], written: Loaded, results: readonly ResourceResult[], revision: string): ResourceComparison[] {
  const manifests = new Map(written.desired.map((d) => [keyString(d.key), stringify(d.desired)]));
  const touched = new Map(results.filter((r) => !r.hookType && (r.status === ResultStatus.Synced || r.status === ResultStatus.Pruned))
    .map((r) => [keyString({ group: r.group ?? "", kind: r.kind, namespace: r.namespace ?? "", name: r.name }), r.status]));
  return compared.map((c) => {
    const id = keyString(c.key);
    const what = touched.get(id);
    if (!c.desired || !c.inSync || what === undefined) return c;
    if (what === ResultStatus.Synced && manifests.get(id) === stringify(c.desired)) return c;
    return { ...c, inSync: false, message: `${what === ResultStatus.Pruned ? "pruned" : "written"} by the sync to ${short(revision)}` };
  });
}

/** Ends an operation: its phase, message and time, the sync metric, and the Events that say how it went. */
function finish(ctx: ReconcileContext, input: OperateInput, state: OperationState, phase: OperationPhase, message: string): OperationState {
  const { namespace, name } = ctx.app.metadata;
  ctx.deps.metrics.countSync({ namespace, name, project: input.spec.project || "default", destServer: destinationServer(input.spec.destination), phase });
  const revision = short(state.syncResult?.revision ?? "");
  if (phase === OperationPhase.Succeeded) ctx.events.push(["Normal", EventReason.SyncSucceeded, `Synced to ${revision}: ${message}`]);
  else ctx.events.push(["Warning", EventReason.SyncFailed, `Sync to ${revision} failed: ${message}`]);
  const pruned = prunedMessage(changeSetOf(state.syncResult?.resources ?? []));
  if (pruned) ctx.events.push(["Normal", EventReason.Pruned, pruned]);
  return { ...state, phase, message, finishedAt: ctx.now().toISOString() };
}

async function clearOperation(ctx: ReconcileContext): Promise<void> {
  const app: Application = ctx.app;
  ctx.ownWrites.record(ctx.key, await ctx.deps.writer.clearOperation(app.metadata.namespace, app.metadata.name, app.operation));
}
