// Conditions on the Application, following Kubernetes conventions: lastTransitionTime moves only when the
// status flips, observedGeneration on each. Error conditions (ComparisonError, InvalidSpecError, SyncError)
// are present while the error lasts and removed when it clears; Ready says whether the app is Synced and
// Healthy, so `kubectl wait --for=condition=Ready` works.
import type { Condition } from "../api/index.ts";
import { ConditionType } from "../errors.ts";

export interface ConditionInput {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

/** The next condition list: `wanted` conditions set, error types not in `wanted` removed, others kept. */
export function nextConditions(previous: Condition[] | undefined, wanted: ConditionInput[], now: string, generation: number | undefined): Condition[] {
  const errorTypes = new Set<string>([ConditionType.ComparisonError, ConditionType.InvalidSpecError, ConditionType.SyncError,
    ConditionType.SharedResourceWarning, ConditionType.DeletionError]);
  const wantedTypes = new Set(wanted.map((c) => c.type));
  const kept = (previous ?? []).filter((c) => !wantedTypes.has(c.type) && !errorTypes.has(c.type));
  const set = wanted.map((c): Condition => {
    const old = previous?.find((p) => p.type === c.type);
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime ?? now : now,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
  return [...kept, ...set].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}
