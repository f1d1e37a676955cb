// The steps of one operation (pure): which phase and wave each object and hook of the app belongs to, and
// the order in which the steps run. The engine plans them again on every call, so nothing of the plan has
// to be kept between reconciles.
import { hasOption, LAST_WAVE, objectSyncOptions, orderSteps, SyncPhase, syncWave, type Step } from "./plan.ts";
import type { HookItem, StepItems, SyncItem } from "./types.ts";

export interface StepPlan<T> {
  byStep: Map<string, StepItems<T>>;
  ordered: Step[];
}

export function stepId(step: Step): string {
  return `${step.phase}/${step.wave}`;
}

/** "Sync wave 1", "PreSync wave 0", "Sync (prune last)": how messages name a step. */
export function stepName(step: Step): string {
  return `${step.phase}${step.wave === LAST_WAVE ? " (prune last)" : ` wave ${step.wave}`}`;
}

export function itemsOf<T>(plan: StepPlan<T>, step: Step): StepItems<T> {
  return plan.byStep.get(stepId(step)) ?? { applies: [], prunes: [], hooks: [] };
}

/**
 * The operation's steps in order (PreSync, Sync and PostSync waves; PruneLast prunes in a wave of their own) with
 * what each one applies, prunes and runs. SyncFail and PostDelete hooks belong to no step: they run on their event.
 */
export function planSteps<T extends SyncItem>(items: T[], hooks: HookItem[], syncOptions: string[]): StepPlan<T> {
  const pruneLast = hasOption(syncOptions, "PruneLast");
  const byStep = new Map<string, StepItems<T>>();
  const steps: Step[] = [];
  const add = (phase: SyncPhase, wave: number): StepItems<T> => {
    const step = { phase, wave };
    let entry = byStep.get(stepId(step));
    if (!entry) { entry = { applies: [], prunes: [], hooks: [] }; byStep.set(stepId(step), entry); }
    steps.push(step);
    return entry;
  };
  for (const item of items) {
    if (item.desired) {
      add(SyncPhase.Sync, syncWave(item.desired)).applies.push(item);
    } else if (item.requiresPruning && item.live) {
      const last = pruneLast || hasOption(objectSyncOptions(item.live), "PruneLast");
      add(SyncPhase.Sync, last ? LAST_WAVE : syncWave(item.live)).prunes.push(item);
    }
  }
  for (const hook of hooks) {
    for (const phase of hook.spec.types) {
      if (phase !== SyncPhase.PreSync && phase !== SyncPhase.Sync && phase !== SyncPhase.PostSync) continue;
      add(phase, syncWave(hook.desired)).hooks.push(hook);
    }
  }
  return { byStep, ordered: orderSteps(steps) };
}

/**
 * True when an operation is done in one call of runSyncStep whatever happens: no hooks of any phase (SyncFail and
 * PostDelete included) and at most one step. Such an operation needs no Running record before its first write: a
 * controller killed in the middle simply starts it again, and re-applying is harmless.
 */
export function completesInOneStep<T extends SyncItem>(items: T[], hooks: HookItem[], syncOptions: string[]): boolean {
  return hooks.length === 0 && planSteps(items, [], syncOptions).ordered.length <= 1;
}
