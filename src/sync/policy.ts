// Pure decisions of the automated sync policy and of sync retries: whether an automated sync starts, whether a
// failed one is tried again and after what backoff, and how a failed attempt is reported. No I/O, no clock (the
// time comes in as an argument), so every case is a row of a table test.
//
// Retries are opt-in: without `spec.syncPolicy.retry` a failed automated sync is attempted once per revision and
// source, because a sync that failed usually fails again the same way, and every attempt re-runs its hooks (a
// failing PreSync migration would run again and again). A new commit, a change of source or a manual sync start
// again. Argo CD's own default differs (see docs/adr/0007-sync-retry-default.md).
import { stringify } from "safe-stable-stringify";
import type { ApplicationSource, OperationState, SyncPolicy } from "../api/index.ts";
import { OperationPhase } from "../api/index.ts";

export type RetryStrategy = NonNullable<SyncPolicy["retry"]>;

/** Argo CD's backoff defaults, for the fields `retry.backoff` leaves out: 5 s, doubling, at most 3 min. */
export const DEFAULT_BACKOFF = { durationMs: 5_000, factor: 2, maxDurationMs: 180_000 } as const;

/**
 * Retries allowed after a failed sync: `retry.limit`, negative for unlimited. No `retry`, or a `retry` without
 * `limit`, allows none (Argo CD's RetryStrategy: "If set to 0, no retries will be performed").
 */
export function retryLimit(retry: RetryStrategy | undefined): number {
  return retry?.limit ?? 0;
}

/** Whether a sync that failed after `retryCount` retries may be retried once more. */
export function mayRetry(retry: RetryStrategy | undefined, retryCount: number): boolean {
  const limit = retryLimit(retry);
  return limit < 0 || retryCount < limit;
}

/** The wait before the next retry of a sync already retried `retryCount` times: duration × factor^retryCount, capped. */
export function retryDelayMs(retry: RetryStrategy | undefined, retryCount: number): number {
  const backoff = retry?.backoff;
  const base = parseDuration(backoff?.duration) ?? DEFAULT_BACKOFF.durationMs;
  const factor = backoff?.factor ?? DEFAULT_BACKOFF.factor;
  const max = parseDuration(backoff?.maxDuration) ?? DEFAULT_BACKOFF.maxDurationMs;
  return Math.min(max, base * factor ** Math.max(0, retryCount));
}

/** "1h30m", "2m", "5s", "250ms" → milliseconds; undefined when absent (the schema refuses malformed ones). */
export function parseDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(value) * units[unit!]!;
  return total;
}

export interface AutomatedSyncInput {
  policy: SyncPolicy | undefined;
  /** The revision and the source (as recorded in status) the app is compared with now. */
  revision: string;
  source: ApplicationSource | undefined;
  /** Some object differs from Git and can be applied. */
  needsApply: boolean;
  /** Some object is no longer in Git (pruned only with `automated.prune`). */
  needsPrune: boolean;
  /** The last operation, as recorded in status. */
  last: OperationState | undefined;
  /** Now, in ms since the epoch. */
  now: number;
}

export type AutomatedSync =
  /** Start an automated sync, recording `retryCount` retries before it. */
  | { action: "sync"; retryCount: number; why: "new-target" | "self-heal" | "retry" }
  /** A retry is due after waitMs. */
  | { action: "wait"; waitMs: number }
  | { action: "none"; why: "disabled" | "in-sync" | "synced" | "failed" | "running" };

/**
 * Argo CD's automated sync policy. A sync starts when the app is out of sync and the last operation was not
 * for this revision and source (a new commit or a changed source always gets its attempt: the newest revision
 * wins over a failing one). For the same revision and source: after a success only selfHeal syncs again (drift);
 * after a failure only `syncPolicy.retry` does, up to its limit, with its backoff, and only a failure of an
 * automated sync (a manual sync is the user's; selfHeal does not override a failure either, as in Argo CD).
 */
export function automatedSync(input: AutomatedSyncInput): AutomatedSync {
  const automated = input.policy?.automated;
  if (!automated || automated.enabled === false) return { action: "none", why: "disabled" };
  const needsPrune = automated.prune === true && input.needsPrune;
  if (!input.needsApply && !needsPrune) return { action: "none", why: "in-sync" };
  const last = input.last;
  const sameTarget = last?.syncResult?.revision === input.revision && stringify(last.syncResult.source) === stringify(input.source);
  if (!last || !sameTarget) return { action: "sync", retryCount: 0, why: "new-target" };
  if (last.phase === OperationPhase.Running || last.phase === OperationPhase.Terminating) return { action: "none", why: "running" };
  if (last.phase === OperationPhase.Succeeded) return automated.selfHeal === true ? { action: "sync", retryCount: 0, why: "self-heal" } : { action: "none", why: "synced" };
  // Failed or Error on this very revision and source.
  const retryCount = last.retryCount ?? 0;
  if (!last.operation?.initiatedBy?.automated || !mayRetry(input.policy?.retry, retryCount)) return { action: "none", why: "failed" };
  const elapsed = input.now - Date.parse(last.finishedAt ?? last.startedAt ?? "");
  const wait = retryDelayMs(input.policy?.retry, retryCount);
  if (Number.isFinite(elapsed) && elapsed < wait) return { action: "wait", waitMs: wait - elapsed };
  return { action: "sync", retryCount: retryCount + 1, why: "retry" };
}

/**
 * The SyncError message of a failed operation: Argo CD's "Failed last sync attempt to <revision>: <message>",
 * then what happens next, so that nobody waits for a retry that will not come.
 */
export function failedSyncMessage(state: OperationState, retry: RetryStrategy | undefined): string {
  const head = `Failed last sync attempt to ${state.syncResult?.revision ?? "an unknown revision"}: ${state.message ?? "sync failed"}`;
  if (!state.operation?.initiatedBy?.automated) return head;
  const retryCount = state.retryCount ?? 0;
  const limit = retryLimit(retry);
  if (mayRetry(retry, retryCount)) {
    return `${head}; retry ${retryCount + 1}${limit < 0 ? "" : ` of ${limit}`} after ${formatMs(retryDelayMs(retry, retryCount))}`;
  }
  if (retry === undefined) {
    return `${head}; not retried (spec.syncPolicy.retry is not set): a new commit, a change of source or a manual sync starts again`;
  }
  return `${head}; retried ${retryCount} time(s), the limit of spec.syncPolicy.retry: a new commit, a change of source or a manual sync starts again`;
}

function formatMs(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1_000) ? `${Math.round((ms % 60_000) / 1_000)}s` : ""}`;
}
