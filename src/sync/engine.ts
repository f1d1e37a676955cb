// The sync engine: runs one operation as a sequence of steps (PreSync waves, Sync waves, PostSync waves),
// re-entrantly. Each call picks up from the results recorded in status.operationState, does what the first
// unfinished step needs (apply, create a hook, prune), and returns Running until that step is done and
// Healthy; a controller restarted mid-sync therefore resumes where it was and never re-runs a finished hook.
// Objects already in sync are not written (ApplyOutOfSyncOnly is Tack's default). Prune never runs after a
// failure, never on an empty render without allowEmpty, never past the prune guard without an explicit
// allow, and deletes only objects whose tracking id names this app, by uid. See docs/adr/0005-sync-engine.md.
//
// This file is the step loop; apply.ts writes, prune.ts deletes and guards, hooks.ts runs hooks, results.ts
// turns what happened into records and text, steps.ts plans the steps.
import type { KubeObject } from "../api/index.ts";
import { displayName, isTrackedByAnother, owningApp } from "../api/index.ts";
import { applyKindByKind, ensureNamespace } from "./apply.ts";
import { advanceHook, advanceSyncFailHooks, deleteFinishedHooks, pendingFailure } from "./hooks.ts";
import { hasOption } from "./plan.ts";
import { preflight, pruneNote, pruneOne } from "./prune.ts";
import { changeSetOf, changeSummary, findResult, recordResult, ResultStatus, type HookDeletionFailure } from "./results.ts";
import { itemsOf, planSteps, stepName } from "./steps.ts";
import type { EngineOutcome, EnginePhase, EngineRequest, SyncItem } from "./types.ts";
import { firstFew } from "../util/text.ts";

// The engine's pieces as the controller and the CLI use them, from one module.
export { completesInOneStep, planSteps } from "./steps.ts";
export { hookOutcome } from "./hooks.ts";
export { propagationPolicy } from "./prune.ts";
export { secretValues } from "./results.ts";
export type { EngineOutcome, EngineRequest, HookItem, StepItems, SyncItem } from "./types.ts";

/** How soon to look again while a step waits for health or a hook (watch events usually come sooner). */
const WAIT_REQUEUE_MS = 2_000;

export async function runSyncStep<T extends SyncItem>(req: EngineRequest<T>): Promise<EngineOutcome<T>> {
  const results = req.results.map((r) => ({ ...r }));
  const after = new Map<T, T | undefined>(req.items.map((c) => [c, c]));
  const outcome = (phase: EnginePhase, message: string, extra: { requeueAfterMs?: number; hookDeletionFailures?: HookDeletionFailure[] } = {}): EngineOutcome<T> => ({
    phase, message, results, changes: changeSetOf(results), hookDeletionFailures: extra.hookDeletionFailures ?? [],
    after: [...after.values()].filter((c): c is T => c !== undefined),
    ...(extra.requeueAfterMs !== undefined ? { requeueAfterMs: extra.requeueAfterMs } : {}),
  });
  // A failed sync runs its SyncFail hooks to the end before it is Failed (and its hooks deleted by policy).
  const fail = async (failure: string): Promise<EngineOutcome<T>> => {
    const syncFail = await advanceSyncFailHooks(req, failure, results);
    if (!syncFail.done) return outcome("Running", syncFail.message, { requeueAfterMs: WAIT_REQUEUE_MS });
    const hookDeletionFailures = await deleteFinishedHooks(req, results);
    req.logger.warn({ message: syncFail.message }, "sync failed");
    return outcome("Failed", syncFail.message, { hookDeletionFailures });
  };

  const failedEarlier = pendingFailure(req.message);
  if (failedEarlier !== undefined) return fail(failedEarlier);

  const isFirstCall = req.results.length === 0;
  if (isFirstCall) {
    const refusal = preflight(req);
    if (refusal) return outcome("Failed", refusal);
    if (hasOption(req.syncOptions, "CreateNamespace") && req.destinationNamespace && !req.dryRun) {
      const failure = await ensureNamespace(req);
      if (failure) return fail(failure);
    }
  }

  const takeOwnership = hasOption(req.syncOptions, "TakeOwnership");
  const applyOutOfSyncOnly = !hasOption(req.syncOptions, "ApplyOutOfSyncOnly", "false");
  const plan = planSteps(req.items, req.hooks, req.syncOptions);

  for (const [index, step] of plan.ordered.entries()) {
    // Argo CD's semantics: a wave waits for the previous one to be Healthy, but the operation ends once the last
    // step is applied (its hooks finished); the app's health keeps being reported after that.
    const isLastStep = index === plan.ordered.length - 1;
    if (req.signal.aborted) return outcome("Running", "controller shutting down; the sync resumes on restart");
    const { applies, prunes, hooks } = itemsOf(plan, step);
    const name = stepName(step);
    const waiting: string[] = [];

    // Hooks: created once per operation, then followed until they finish.
    for (const hook of hooks) {
      const advance = await advanceHook(req, hook, step.phase, results);
      if (advance.failed) return fail(`${step.phase} hook ${advance.name} failed: ${advance.message}`);
      if (!advance.done) waiting.push(`${advance.name}: ${advance.message}`);
    }

    // Applies: only what is out of sync (unless ApplyOutOfSyncOnly=false) and not yet written by this operation.
    const shared = applies.filter((item) => item.live && isTrackedByAnother(item.live, req.app));
    for (const item of shared) {
      if (takeOwnership || findResult(results, step.phase, item.key)) continue;
      const owner = owningApp(item.live!)!;
      recordResult(results, item, step, ResultStatus.Skipped,
        `tracked by Application ${owner.namespace}/${owner.name}; not taken over (sync option TakeOwnership=true takes it)`);
    }
    const toApply = applies.filter((item) => !findResult(results, step.phase, item.key) &&
      (!item.inSync || !applyOutOfSyncOnly) && (takeOwnership || !shared.includes(item)));
    const failures = await applyKindByKind(req, step, toApply, results, (item, live) => {
      after.set(item, { ...item, live, inSync: true, message: undefined });
    });
    if (failures.length > 0) return fail(`${failures.length} object(s) failed to apply in ${name}: ${firstFew(failures, 3, "; ")}`);
    if (toApply.length > 0 && !req.dryRun && !isLastStep) waiting.push(`${toApply.length} object(s) just applied`);

    // Prunes of this step.
    for (const item of prunes) {
      if (findResult(results, step.phase, item.key)) continue;
      const pruneFailure = await pruneOne(req, item, step, results);
      if (pruneFailure) return fail(pruneFailure);
      if (findResult(results, step.phase, item.key)?.status === ResultStatus.Pruned && !req.dryRun) after.set(item, undefined);
    }

    // Health gate: the step is done when everything it declares is Healthy (or has no health of its own).
    if (!req.dryRun && !isLastStep) {
      for (const item of applies) {
        if (shared.includes(item) && !takeOwnership) continue;
        waiting.push(...notReady(req, item));
      }
    }
    if (waiting.length > 0) {
      if (req.now >= req.deadline) return fail(`timed out in ${name} waiting for ${waiting.slice(0, 3).join("; ")}`);
      return outcome("Running", `${name}: waiting for ${firstFew(waiting, 3, "; ")}`, { requeueAfterMs: WAIT_REQUEUE_MS });
    }
  }

  const hookDeletionFailures = await deleteFinishedHooks(req, results);
  const changes = changeSetOf(results);
  req.logger.info({ applied: changes.applied.length, pruned: changes.pruned.length, hooks: changes.hooks.succeeded.length }, "sync succeeded");
  return outcome("Succeeded", `successfully synced (${changeSummary(changes)})${pruneNote(req)}`, { hookDeletionFailures });
}

/** Why an object the step declares keeps the step waiting: absent, or neither Healthy nor Suspended. Empty when ready. */
function notReady<T extends SyncItem>(req: EngineRequest<T>, item: T): string[] {
  const live: KubeObject | undefined = req.live(item.type, item.key.namespace, item.key.name);
  if (!live) return [`${displayName(item.key)}: not yet in the cluster`];
  const health = req.health(live);
  return health && health.status !== "Healthy" && health.status !== "Suspended" ? [`${displayName(item.key)}: ${health.status}: ${health.message}`] : [];
}

