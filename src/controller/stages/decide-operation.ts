// What to do about the sync operation on this reconcile, decided from the Application, the comparison and the
// clock alone (no I/O), so that every case is one row of a table test:
//   continue   a Running operation goes on from the results recorded in status (one step per reconcile);
//   start      a user's `operation` or the automated policy starts one;
//   held       the automated policy would start one, but a sync window is closed (looked at again later);
//   refused    a user's operation falls in a closed window: it ends at once, Failed, the window named;
//   wait       a failed automated sync will be retried after its backoff;
//   none       nothing to do.
// A Running automated sync on an older revision is superseded when a newer one is due (safety rule 10): the
// decision then carries it in `supersedes`, to be finished as Failed before the rest is acted on.
import type { AppProjectSpec, Application, Operation, OperationState } from "../../api/index.ts";
import { OperationPhase } from "../../api/index.ts";
import { syncWindowState } from "../../project/index.ts";
import { automatedSync } from "../../sync/policy.ts";
import type { ResourceComparison } from "../compare.ts";
import { statusSource } from "./status.ts";

export type OperationDecision =
  | { action: "continue"; running: OperationState }
  | { action: "start"; operation: Operation; retryCount: number; manual: boolean; supersedes?: OperationState }
  | { action: "held"; reason: string; supersedes?: OperationState }
  | { action: "refused"; operation: Operation; reason: string; supersedes?: OperationState }
  | { action: "wait"; waitMs: number }
  | { action: "none"; why?: string };

export interface OperationInputs {
  app: Application;
  /** The operation state as stored now (status.operationState). */
  stored: OperationState | undefined;
  /** The revision the comparison was made at. */
  revision: string;
  comparisons: readonly Pick<ResourceComparison, "inSync" | "requiresPruning">[];
  project: Pick<AppProjectSpec, "syncWindows">;
  now: Date;
}

export function decideOperation(input: OperationInputs): OperationDecision {
  const { app, stored, revision, now } = input;
  const automated = automatedSync({
    policy: app.spec.syncPolicy, revision, source: statusSource(app.spec.source), last: app.status?.operationState, now: now.getTime(),
    needsApply: input.comparisons.some((c) => !c.inSync && !c.requiresPruning), needsPrune: input.comparisons.some((c) => c.requiresPruning),
  });
  const autoSync = automated.action === "sync";
  const running = stored?.phase === OperationPhase.Running ? stored : undefined;
  let supersedes: OperationState | undefined;
  if (running) {
    // The newest revision wins: a sync stuck on a broken commit never blocks its fix.
    if (!(running.operation?.initiatedBy?.automated && autoSync && running.syncResult?.revision !== revision)) return { action: "continue", running };
    supersedes = running;
  }
  const requested = app.operation?.sync ? app.operation : undefined;
  const also = supersedes ? { supersedes } : {};
  if (requested || autoSync) {
    const window = syncWindowState(input.project.syncWindows, { name: app.metadata.name, spec: app.spec }, now, requested !== undefined,
      { projectName: app.spec.project || "default" });
    if (!window.allowed) {
      return requested ? { action: "refused", operation: requested, reason: window.reason, ...also } : { action: "held", reason: window.reason, ...also };
    }
    const retry = app.spec.syncPolicy?.retry;
    const operation: Operation = requested ??
      { sync: { prune: app.spec.syncPolicy?.automated?.prune ?? false }, initiatedBy: { automated: true }, ...(retry ? { retry } : {}) };
    return { action: "start", operation, manual: requested !== undefined, retryCount: !requested && automated.action === "sync" ? automated.retryCount : 0, ...also };
  }
  if (automated.action === "wait") return { action: "wait", waitMs: automated.waitMs };
  return { action: "none", why: automated.why };
}
