// What a sync did, as data: the per-object records the engine keeps in status.operationState.syncResult.resources
// (Argo CD's shape, so the status reads the same), the change set derived from them, and the one place where
// they are turned into text, so that the operation message, the Events and `tack app sync` say the same thing.
// Pure: no client, no clock.
import type { KubeObject, ResourceKey, ResourceResult } from "../api/index.ts";
import { displayName } from "../api/index.ts";
import { redactSecrets } from "../redact.ts";
import { LAST_WAVE, type DeletePolicy, type Step, type SyncPhase } from "./plan.ts";
import { firstFew } from "../util/text.ts";

/** `ResourceResult.status`: what happened to one object (hooks use Synced or SyncFailed too). */
export const ResultStatus = {
  Synced: "Synced", SyncFailed: "SyncFailed", Pruned: "Pruned", PruneSkipped: "PruneSkipped", Skipped: "Skipped",
} as const;
export type ResultStatus = (typeof ResultStatus)[keyof typeof ResultStatus];

/** `ResourceResult.hookPhase`: where a hook's run stands. */
export const HookPhase = { Running: "Running", Succeeded: "Succeeded", Failed: "Failed" } as const;
export type HookPhase = (typeof HookPhase)[keyof typeof HookPhase];

/** A hook object that its delete policy said to delete and the API server refused to (it stays in the cluster). */
export interface HookDeletionFailure {
  /** The hook object as it exists in the cluster (the generated name, for generateName hooks). */
  key: ResourceKey;
  policy: DeletePolicy;
  message: string;
}

/** The records of one operation grouped by what happened to them. */
export interface ChangeSet {
  /** Objects written (created or configured), hooks excluded. */
  applied: ResourceResult[];
  pruned: ResourceResult[];
  /** Not written or not pruned on purpose: shared with another app, Prune=false, prune off, empty render. */
  skipped: ResourceResult[];
  /** Objects whose write or prune failed, hooks excluded. */
  failed: ResourceResult[];
  hooks: { running: ResourceResult[]; succeeded: ResourceResult[]; failed: ResourceResult[] };
}

export function isHookResult(result: ResourceResult): boolean {
  return result.hookType !== undefined;
}

export function changeSetOf(results: readonly ResourceResult[]): ChangeSet {
  const objects = results.filter((r) => !isHookResult(r));
  const hooks = results.filter(isHookResult);
  const withStatus = (...statuses: ResultStatus[]) => objects.filter((r) => (statuses as string[]).includes(r.status));
  const inPhase = (phase: HookPhase) => hooks.filter((r) => r.hookPhase === phase);
  return {
    applied: withStatus(ResultStatus.Synced),
    pruned: withStatus(ResultStatus.Pruned),
    skipped: withStatus(ResultStatus.PruneSkipped, ResultStatus.Skipped),
    failed: withStatus(ResultStatus.SyncFailed),
    hooks: { running: inPhase(HookPhase.Running), succeeded: inPhase(HookPhase.Succeeded), failed: inPhase(HookPhase.Failed) },
  };
}

export function resultKey(result: ResourceResult): ResourceKey {
  return { group: result.group ?? "", kind: result.kind, namespace: result.namespace ?? "", name: result.name };
}

/** "3 applied, 1 pruned, 2 hook(s) succeeded, 1 skipped": the counts of a finished sync (zero hooks and skips left out). */
export function changeSummary(changes: ChangeSet): string {
  const hooks = changes.hooks.succeeded.length;
  const skipped = changes.skipped.length;
  return [`${changes.applied.length} applied`, `${changes.pruned.length} pruned`,
    hooks ? `${hooks} hook(s) succeeded` : "", skipped ? `${skipped} skipped` : ""].filter(Boolean).join(", ");
}

/** The Pruned Event's text ("Pruned ConfigMap/ns/a, Secret/ns/b"), or undefined when nothing was pruned. */
export function prunedMessage(changes: ChangeSet): string | undefined {
  return changes.pruned.length > 0 ? `Pruned ${changes.pruned.map((r) => displayName(resultKey(r))).join(", ")}` : undefined;
}

/** "could not delete Job/ns/a (HookSucceeded): forbidden; …": for a condition or an Event, at most 5 named. */
const NOT_DELETED = "; not deleted (";

/** Notes on a hook's record that its delete policy could not be carried out (the record stays in status). */
export function noteNotDeleted(record: ResourceResult, policy: DeletePolicy, message: string): void {
  record.message = `${record.message ?? ""}${NOT_DELETED}${policy}): ${message}`;
}

/** The hook records of an operation whose delete policy could not be carried out: the objects are still there. */
export function undeletedHooks(results: readonly ResourceResult[]): HookDeletionFailure[] {
  return results.filter((r) => r.hookType && r.message?.includes(NOT_DELETED)).map((r) => {
    const note = r.message!.slice(r.message!.indexOf(NOT_DELETED) + NOT_DELETED.length);
    const [policy, ...rest] = note.split("): ");
    return { key: { group: r.group ?? "", kind: r.kind, namespace: r.namespace ?? "", name: r.name }, policy: policy as DeletePolicy, message: rest.join("): ") };
  });
}

export function hookDeletionMessage(failures: readonly HookDeletionFailure[]): string | undefined {
  if (failures.length === 0) return undefined;
  return `could not delete ${failures.length} hook object(s), left in the cluster: ` +
    firstFew(failures.map((f) => `${displayName(f.key)} (${f.policy}): ${f.message}`), 5, "; ");
}


/** The columns `tack app sync` prints for each record of an operation. */
export const RESULT_COLUMNS = ["GROUP", "KIND", "NAMESPACE", "NAME", "RESULT", "MESSAGE"] as const;

export function resultRow(result: ResourceResult): string[] {
  return [result.group ?? "", result.kind, result.namespace ?? "", result.name, result.status, result.message ?? ""];
}

/** A hook's record, matched by the phase it ran in and its manifest's name (generated names differ per run). */
export function findHookResult(results: readonly ResourceResult[], phase: SyncPhase, hook: { key: ResourceKey; templateName: string }): ResourceResult | undefined {
  return results.find((r) => r.hookType === phase && r.hookName === hook.templateName &&
    (r.group ?? "") === hook.key.group && r.kind === hook.key.kind && (r.namespace ?? "") === hook.key.namespace);
}

/** An ordinary object's record in the given phase. */
export function findResult(results: readonly ResourceResult[], phase: SyncPhase, key: ResourceKey): ResourceResult | undefined {
  return results.find((r) => !isHookResult(r) && r.syncPhase === phase && (r.group ?? "") === key.group && r.kind === key.kind &&
    (r.namespace ?? "") === key.namespace && r.name === key.name);
}

/** Records what happened to an ordinary object in a step; returns the record (its message masked for a Secret). */
export function recordResult(results: ResourceResult[], item: { key: ResourceKey; type: { version: string }; desired: KubeObject | undefined },
  step: Step, status: ResultStatus, message: string): ResourceResult {
  // A server's refusal may quote the value it refused: a Secret's values never reach status (safety rule 6; docs/adr/0005-sync-engine.md).
  if (item.key.kind === "Secret" && item.key.group === "") message = redactSecrets(message, secretValues(item.desired));
  const record: ResourceResult = {
    group: item.key.group, version: item.type.version, kind: item.key.kind, namespace: item.key.namespace || undefined,
    name: item.key.name, status, message, syncPhase: step.phase, ...(step.wave !== 0 && step.wave !== LAST_WAVE ? { wave: step.wave } : {}),
  };
  results.push(record);
  return record;
}

/** A Secret manifest's values, plain and base64, for redaction. */
export function secretValues(secret: KubeObject | undefined): string[] {
  const values: string[] = [];
  for (const [field, encoded] of [["data", true], ["stringData", false]] as const) {
    const map = secret?.[field] as Record<string, unknown> | undefined;
    for (const value of Object.values(map ?? {})) {
      if (typeof value !== "string") continue;
      values.push(value);
      values.push(encoded ? Buffer.from(value, "base64").toString("utf8") : Buffer.from(value).toString("base64"));
    }
  }
  return values;
}
