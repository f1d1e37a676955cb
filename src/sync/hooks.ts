// Hooks: objects that run once per operation in their phase (PreSync, Sync, PostSync; SyncFail after a failure)
// and are followed until they finish, then deleted as their delete policy says. A hook's record in status is its
// memory across reconciles: created once (a named one after its previous run is gone, under BeforeHookCreation),
// followed while Running, never run again once Succeeded or Failed.
import type { KubeObject, ResourceResult } from "../api/index.ts";
import { displayName, keyOf } from "../api/index.ts";
import { KubeApiError } from "../cluster/index.ts";
import { errorMessage } from "../errors.ts";
import type { HealthStatus } from "../health/index.ts";
import { DeletePolicy, SyncPhase } from "./plan.ts";
import { findHookResult, HookPhase, noteNotDeleted, ResultStatus, type HookDeletionFailure } from "./results.ts";
import type { EngineRequest, HookItem, SyncItem } from "./types.ts";
import { firstFew } from "../util/text.ts";

export interface HookAdvance { done: boolean; failed: boolean; name: string; message: string }

export function hookTemplateName(hook: HookItem): string {
  return hook.desired.metadata.name ?? hook.desired.metadata.generateName ?? "";
}

function hookResult(results: readonly ResourceResult[], phase: SyncPhase, hook: HookItem): ResourceResult | undefined {
  return findHookResult(results, phase, { key: hook.key, templateName: hookTemplateName(hook) });
}

function hookRecord(hook: HookItem, phase: SyncPhase, name: string, hookPhase: HookPhase, message: string): ResourceResult {
  return {
    group: hook.key.group, version: hook.type.version, kind: hook.key.kind, namespace: hook.key.namespace || undefined, name,
    status: hookPhase === HookPhase.Failed ? ResultStatus.SyncFailed : ResultStatus.Synced, message, syncPhase: phase,
    hookType: phase, hookPhase, hookName: hookTemplateName(hook),
  };
}

/** Moves one hook of `phase` forward: create it, or follow the run created earlier in this operation. */
export async function advanceHook<T extends SyncItem>(req: EngineRequest<T>, hook: HookItem, phase: SyncPhase, results: ResourceResult[],
  createdMessage = "created"): Promise<HookAdvance> {
  const label = displayName({ ...hook.key, name: hookTemplateName(hook) });
  const existing = hookResult(results, phase, hook);
  if (existing?.hookPhase === HookPhase.Succeeded) return { done: true, failed: false, name: label, message: "succeeded" };
  if (existing?.hookPhase === HookPhase.Failed) return { done: true, failed: true, name: label, message: existing.message ?? "failed" };
  if (req.dryRun) {
    results.push(hookRecord(hook, phase, hookTemplateName(hook), HookPhase.Succeeded, "would run (dry run)"));
    return { done: true, failed: false, name: label, message: "dry run" };
  }
  if (!existing) {
    const named = hook.desired.metadata.name;
    const previous = named ? req.live(hook.type, hook.key.namespace, named) : undefined;
    if (previous && hook.spec.deletePolicies.includes(DeletePolicy.BeforeHookCreation)) {
      // The previous run goes first, so that this operation's run is a new object (a Job's spec cannot change).
      if (previous.metadata.deletionTimestamp || !previous.metadata.uid) {
        return { done: false, failed: false, name: label, message: "waiting for the previous run to be deleted" };
      }
      await req.writer.delete(hook.type, hook.key.namespace || undefined, named!, previous.metadata.uid, "Background").catch((err: unknown) => {
        if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
      });
      return { done: false, failed: false, name: label, message: "deleting the previous run (BeforeHookCreation)" };
    }
    // Without BeforeHookCreation an earlier run's object stays; applying over it re-runs nothing.
    try {
      const created = named
        ? await req.writer.apply(hook.type, hook.desired, { signal: req.signal })
        : await req.writer.create(hook.type, hook.desired);
      results.push(hookRecord(hook, phase, created.metadata.name ?? hookTemplateName(hook), HookPhase.Running, createdMessage));
      return { done: false, failed: false, name: label, message: createdMessage };
    } catch (err) {
      results.push(hookRecord(hook, phase, hookTemplateName(hook), HookPhase.Failed, errorMessage(err)));
      return { done: true, failed: true, name: label, message: errorMessage(err) };
    }
  }
  const live = req.live(hook.type, hook.key.namespace, existing.name);
  if (!live) return { done: false, failed: false, name: label, message: "waiting for it to appear" };
  const outcome = hookOutcome(live, req.health(live));
  if (outcome.phase === HookPhase.Running) return { done: false, failed: false, name: label, message: outcome.message };
  finishHookRecord(existing, outcome.phase, outcome.message);
  return { done: true, failed: outcome.phase === HookPhase.Failed, name: label, message: outcome.message };
}

function finishHookRecord(record: ResourceResult, phase: typeof HookPhase.Succeeded | typeof HookPhase.Failed, message: string): void {
  record.hookPhase = phase;
  record.message = message;
  record.status = phase === HookPhase.Succeeded ? ResultStatus.Synced : ResultStatus.SyncFailed;
}

/** A Job or Pod finishes by its own status; any other hook kind is done once Healthy (failed when Degraded). */
export function hookOutcome(live: KubeObject, health: HealthStatus | undefined): { phase: HookPhase; message: string } {
  const status = live.status as { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>; phase?: string; message?: string } | undefined;
  if (live.kind === "Job") {
    const condition = (type: string) => status?.conditions?.find((c) => c.type === type && c.status === "True");
    const failed = condition("Failed");
    if (failed) return { phase: HookPhase.Failed, message: failed.message ?? failed.reason ?? "job failed" };
    const complete = condition("Complete");
    if (complete) return { phase: HookPhase.Succeeded, message: "job completed" };
    return { phase: HookPhase.Running, message: health?.message ?? "job running" };
  }
  if (live.kind === "Pod") {
    if (status?.phase === "Succeeded") return { phase: HookPhase.Succeeded, message: "pod succeeded" };
    if (status?.phase === "Failed") return { phase: HookPhase.Failed, message: status.message ?? "pod failed" };
    return { phase: HookPhase.Running, message: `pod ${status?.phase ?? "pending"}` };
  }
  if (!health || health.status === "Healthy") return { phase: HookPhase.Succeeded, message: health?.message || "healthy" };
  if (health.status === "Degraded") return { phase: HookPhase.Failed, message: health.message };
  return { phase: HookPhase.Running, message: health.message };
}

// ---- SyncFail ------------------------------------------------------------------------------------------

/**
 * How long SyncFail hooks may run past the operation's deadline. A sync that failed by its deadline still runs
 * them (they are how a failure is announced or cleaned up), so they get a bound of their own.
 */
export const SYNC_FAIL_GRACE_MS = 5 * 60_000;

/**
 * The operation message while SyncFail hooks run: this mark, then the failure. The message is what status keeps
 * between reconciles, so the next call knows from it that the sync already failed, and why.
 */
const AFTER_FAILURE = "running SyncFail hooks; the sync failed: ";

export function syncFailMessage(failure: string): string {
  return `${AFTER_FAILURE}${failure}`;
}

/** The failure of a sync whose SyncFail hooks were still running at the last call, or undefined. */
export function pendingFailure(message: string | undefined): string | undefined {
  return message?.startsWith(AFTER_FAILURE) ? message.slice(AFTER_FAILURE.length) : undefined;
}

export interface SyncFailProgress {
  done: boolean;
  /** While running, the operation message to record; when done, the operation's final failure message. */
  message: string;
}

/**
 * Creates the SyncFail hooks of a failed sync and follows them until they finish (or SYNC_FAIL_GRACE_MS past the
 * deadline): the operation stays Running meanwhile, as in Argo CD, so that each hook's outcome is recorded and its
 * delete policy applied. A dry run runs none.
 */
export async function advanceSyncFailHooks<T extends SyncItem>(req: EngineRequest<T>, failure: string, results: ResourceResult[]): Promise<SyncFailProgress> {
  const hooks = req.hooks.filter((h) => h.spec.types.includes(SyncPhase.SyncFail));
  if (req.dryRun || hooks.length === 0) return { done: true, message: failure };
  const waiting: string[] = [];
  const failed: string[] = [];
  for (const hook of hooks) {
    const advance = await advanceHook(req, hook, SyncPhase.SyncFail, results, "created after the sync failed");
    if (!advance.done) waiting.push(`${advance.name}: ${advance.message}`);
    else if (advance.failed) failed.push(`${advance.name}: ${advance.message}`);
  }
  if (waiting.length > 0 && req.now < req.deadline + SYNC_FAIL_GRACE_MS) return { done: false, message: syncFailMessage(failure) };
  for (const record of results.filter((r) => r.hookType === SyncPhase.SyncFail && r.hookPhase === HookPhase.Running)) {
    finishHookRecord(record, HookPhase.Failed, `still running ${SYNC_FAIL_GRACE_MS / 60_000} min after the operation's deadline; no longer followed`);
  }
  const unfinished = waiting.map((w) => `${w} (given up)`);
  const problems = [...failed, ...unfinished];
  return { done: true, message: problems.length > 0 ? `${failure}; SyncFail hook(s) failed: ${firstFew(problems, 3, "; ")}` : failure };
}

// ---- deletion by policy --------------------------------------------------------------------------------

/**
 * At the end of an operation, whatever its outcome: hooks that succeeded are deleted under HookSucceeded, hooks that
 * failed under HookFailed (SyncFail hooks included). A refused delete is noted in the hook's record and returned.
 */
export async function deleteFinishedHooks<T extends SyncItem>(req: EngineRequest<T>, results: ResourceResult[]): Promise<HookDeletionFailure[]> {
  if (req.dryRun) return [];
  const failures: HookDeletionFailure[] = [];
  const policyFor = { [HookPhase.Succeeded]: DeletePolicy.HookSucceeded, [HookPhase.Failed]: DeletePolicy.HookFailed } as const;
  for (const hook of req.hooks) {
    for (const record of results.filter((r) => r.hookType && r.hookName === hookTemplateName(hook) && r.kind === hook.key.kind &&
      (r.group ?? "") === hook.key.group && (r.namespace ?? "") === hook.key.namespace)) {
      const policy = record.hookPhase === HookPhase.Succeeded || record.hookPhase === HookPhase.Failed ? policyFor[record.hookPhase] : undefined;
      if (!policy || !hook.spec.deletePolicies.includes(policy)) continue;
      const live = req.live(hook.type, hook.key.namespace, record.name);
      if (!live?.metadata.uid || live.metadata.deletionTimestamp) continue;
      try {
        await req.writer.delete(hook.type, hook.key.namespace || undefined, record.name, live.metadata.uid, "Background");
      } catch (err) {
        if (err instanceof KubeApiError && err.isNotFound) continue;
        const message = errorMessage(err);
        failures.push({ key: keyOf(live), policy, message });
        noteNotDeleted(record, policy, message);
        req.logger.warn({ err: message, hook: record.name, policy }, "could not delete hook");
      }
    }
  }
  return failures;
}
