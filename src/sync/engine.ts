// The sync engine: runs one operation as a sequence of steps (PreSync waves, Sync waves, PostSync waves),
// re-entrantly. Each call picks up from the results recorded in status.operationState, does what the first
// unfinished step needs (apply, create a hook, prune), and returns Running until that step is done and
// Healthy; a controller restarted mid-sync therefore resumes where it was and never re-runs a finished hook.
// Objects already in sync are not written (ApplyOutOfSyncOnly is Tack's default). Prune never runs after a
// failure, never on an empty render without allowEmpty, never past the prune guard without an explicit
// allow, and deletes only objects whose tracking id names this app, by uid.
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import type { AppRef, KubeObject, ResourceKey, ResourceResult } from "../api/index.ts";
import { displayName, isOwnedBy, owningApp } from "../api/index.ts";
import { KubeApiError, type ClusterWriter, type Discovery, type PropagationPolicy, type ResourceType } from "../cluster/index.ts";
import { errorMessage } from "../errors.ts";
import { redactSecrets } from "../redact.ts";
import type { HealthStatus } from "../health/index.ts";
import { mapLimit } from "../util/concurrency.ts";
import { ignoredPaths, respectIgnored, rulesFor, type ResourceIgnoreDifferences } from "../diff/ignore.ts";
import type { JqEvaluator } from "../jq/index.ts";
import {
  DeletePolicy, hasOption, kindGroups, LAST_WAVE, objectSyncOptions, optionValue, orderSteps, SyncPhase, syncWave,
  type HookSpec, type Step,
} from "./plan.ts";

export interface SyncItem {
  key: ResourceKey;
  type: ResourceType;
  desired: KubeObject | undefined;
  live: KubeObject | undefined;
  inSync: boolean;
  requiresPruning: boolean;
  message?: string;
}

export interface HookItem {
  /** group/kind/namespace/name-or-generateName of the manifest: a hook's identity across reconciles. */
  id: string;
  key: ResourceKey;
  type: ResourceType;
  desired: KubeObject;
  spec: HookSpec;
}

export interface EngineRequest<T extends SyncItem> {
  app: AppRef;
  items: T[];
  hooks: HookItem[];
  /** Results recorded so far in this operation (empty on its first call). */
  results: ResourceResult[];
  prune: boolean;
  dryRun: boolean;
  allowEmpty: boolean;
  emptyRender: boolean;
  /** App-wide and operation sync options together. */
  syncOptions: string[];
  destinationNamespace: string | undefined;
  managedNamespaceMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Largest share of the app's objects one sync may prune without AllowMassPrune=true (0–100). */
  pruneGuardPercent: number;
  now: number;
  deadline: number;
  health: (obj: KubeObject) => HealthStatus | undefined;
  live: (type: ResourceType, namespace: string, name: string) => KubeObject | undefined;
  writer: ClusterWriter;
  discovery: Discovery;
  onApplied?: (key: ResourceKey, desired: KubeObject, applied: KubeObject) => void;
  /** spec.ignoreDifferences: with RespectIgnoreDifferences=true, ignored fields keep their live values. */
  ignore?: { rules: ResourceIgnoreDifferences[]; jq: JqEvaluator };
  signal: AbortSignal;
  logger: Logger;
  applyConcurrency?: number;
}

export interface EngineOutcome<T extends SyncItem> {
  phase: "Running" | "Succeeded" | "Failed";
  message: string;
  results: ResourceResult[];
  /** The comparisons as they stand now (applied objects in sync, pruned ones gone). */
  after: T[];
  requeueAfterMs?: number;
}

/** How soon to look again while a step waits for health or a hook (watch events usually come sooner). */
const WAIT_REQUEUE_MS = 2_000;

export interface StepItems<T> { applies: T[]; prunes: T[]; hooks: HookItem[] }

export async function runSyncStep<T extends SyncItem>(req: EngineRequest<T>): Promise<EngineOutcome<T>> {
  const results = req.results.map((r) => ({ ...r }));
  const after = new Map<T, T | undefined>(req.items.map((c) => [c, c]));
  const remaining = () => [...after.values()].filter((c): c is T => c !== undefined);
  const fail = async (message: string): Promise<EngineOutcome<T>> => {
    await runSyncFailHooks(req, results);
    await deleteHooksByPolicy(req, results, DeletePolicy.HookFailed, "Failed");
    req.logger.warn({ message }, "sync failed");
    return { phase: "Failed", message, results, after: remaining() };
  };

  const isFirstCall = req.results.length === 0;
  if (isFirstCall) {
    const refusal = preflight(req);
    if (refusal) return { phase: "Failed", message: refusal, results, after: remaining() };
    if (hasOption(req.syncOptions, "CreateNamespace") && req.destinationNamespace && !req.dryRun) {
      const failure = await ensureNamespace(req);
      if (failure) return fail(failure);
    }
  }

  const takeOwnership = hasOption(req.syncOptions, "TakeOwnership");
  const applyOutOfSyncOnly = !hasOption(req.syncOptions, "ApplyOutOfSyncOnly", "false");
  const { byStep, ordered } = planSteps(req.items, req.hooks, req.syncOptions);
  const stepOf = (phase: SyncPhase, wave: number): StepItems<T> => byStep.get(`${phase}/${wave}`) ?? { applies: [], prunes: [], hooks: [] };

  for (const [index, step] of ordered.entries()) {
    // Argo CD's semantics: a wave waits for the previous one to be Healthy, but the operation ends once the last
    // step is applied (its hooks finished); the app's health keeps being reported after that.
    const isLastStep = index === ordered.length - 1;
    if (req.signal.aborted) return { phase: "Running", message: "controller shutting down; the sync resumes on restart", results, after: remaining() };
    const { applies, prunes, hooks } = stepOf(step.phase, step.wave);
    const stepName = `${step.phase}${step.wave === LAST_WAVE ? " (prune last)" : ` wave ${step.wave}`}`;
    const waiting: string[] = [];

    // Hooks: created once per operation, then followed until they finish.
    for (const hook of hooks) {
      const outcome = await advanceHook(req, hook, step.phase, results);
      if (outcome.failed) return fail(`${step.phase} hook ${outcome.name} failed: ${outcome.message}`);
      if (!outcome.done) waiting.push(`${outcome.name}: ${outcome.message}`);
    }

    // Applies: only what is out of sync (unless ApplyOutOfSyncOnly=false) and not yet written by this operation.
    const shared = applies.filter((item) => item.live && isSharedWithAnotherApp(item.live, req.app));
    for (const item of shared) {
      if (takeOwnership || resultFor(results, step.phase, item.key)) continue;
      const owner = owningApp(item.live!)!;
      record(results, item, step, "Skipped", `tracked by Application ${owner.namespace}/${owner.name}; not taken over (sync option TakeOwnership=true takes it)`);
    }
    const toApply = applies.filter((item) => !resultFor(results, step.phase, item.key) &&
      (!item.inSync || !applyOutOfSyncOnly) && (takeOwnership || !shared.includes(item)));
    const failures: string[] = [];
    // One kind at a time, in Argo CD's kind order; the objects of a kind concurrently.
    for (const group of kindGroups(toApply.map((item) => ({ desired: item.desired!, item })))) {
      await mapLimit(group, req.applyConcurrency ?? 8, async ({ item }) => {
        try {
          const applied = await writeObject(req, item);
          record(results, item, step, "Synced", req.dryRun ? "would be applied (dry run)" : item.live ? "configured" : "created");
          if (!req.dryRun) {
            req.onApplied?.(item.key, item.desired!, applied);
            after.set(item, { ...item, live: applied, inSync: true, message: undefined });
          }
        } catch (err) {
          const message = errorMessage(err).replace(/^(PATCH|PUT|POST) \S+: /, "");
          failures.push(`${displayName(item.key)}: ${message}`);
          record(results, item, step, "SyncFailed", message);
        }
      });
      if (failures.length > 0) break;
      const crds = group.filter(({ item }) => isCrd(item.key));
      if (!req.dryRun && crds.length > 0) await waitUntilServed(req, crds.map(({ item }) => item.desired!), toApply);
    }
    if (failures.length > 0) return fail(`${failures.length} object(s) failed to apply in ${stepName}: ${failures.slice(0, 3).join("; ")}${failures.length > 3 ? "; …" : ""}`);
    if (toApply.length > 0 && !req.dryRun && !isLastStep) waiting.push(`${toApply.length} object(s) just applied`);

    // Prunes of this step.
    for (const item of prunes) {
      if (resultFor(results, step.phase, item.key)) continue;
      const pruneFailure = await pruneOne(req, item, step, results);
      if (pruneFailure) return fail(pruneFailure);
      if (resultFor(results, step.phase, item.key)?.status === "Pruned" && !req.dryRun) after.set(item, undefined);
    }

    // Health gate: the step is done when everything it declares is Healthy (or has no health of its own).
    if (!req.dryRun && !isLastStep) {
      for (const item of applies) {
        if (shared.includes(item) && !takeOwnership) continue;
        const live = req.live(item.type, item.key.namespace, item.key.name);
        if (!live) { waiting.push(`${displayName(item.key)}: not yet in the cluster`); continue; }
        const health = req.health(live);
        if (health && health.status !== "Healthy" && health.status !== "Suspended") waiting.push(`${displayName(item.key)}: ${health.status}: ${health.message}`);
      }
    }
    if (waiting.length > 0) {
      if (req.now >= req.deadline) return fail(`timed out in ${stepName} waiting for ${waiting.slice(0, 3).join("; ")}`);
      return { phase: "Running", message: `${stepName}: waiting for ${waiting.slice(0, 3).join("; ")}${waiting.length > 3 ? "; …" : ""}`,
        results, after: remaining(), requeueAfterMs: WAIT_REQUEUE_MS };
    }
  }

  await deleteHooksByPolicy(req, results, DeletePolicy.HookSucceeded, "Succeeded");
  const applied = results.filter((r) => r.status === "Synced" && !r.hookType).length;
  const pruned = results.filter((r) => r.status === "Pruned").length;
  const hooksRun = results.filter((r) => r.hookType && r.hookPhase === "Succeeded").length;
  const skipped = results.filter((r) => r.status === "PruneSkipped" || r.status === "Skipped").length;
  const summary = [`${applied} applied`, `${pruned} pruned`, hooksRun ? `${hooksRun} hook(s) succeeded` : "", skipped ? `${skipped} skipped` : ""]
    .filter(Boolean).join(", ");
  req.logger.info({ applied, pruned, hooks: hooksRun }, "sync succeeded");
  return { phase: "Succeeded", message: `successfully synced (${summary})${pruneNote(req)}`, results, after: remaining() };
}

/** How long custom resources wait for a CRD written in the same step to be served (Argo CD's engine waits 3 s too). */
const CRD_SERVED_TIMEOUT_MS = 3_000;
const CRD_SERVED_POLL_MS = 100;

function isCrd(key: ResourceKey): boolean {
  return key.group === "apiextensions.k8s.io" && key.kind === "CustomResourceDefinition";
}

/**
 * After CRDs are written: the API server serves their kinds only once they are Established, a moment later. The
 * objects of those kinds still to be written in this step wait until discovery lists their kind (at most
 * CRD_SERVED_TIMEOUT_MS; past that their writes fail with the server's own message, as they would without the wait).
 * Discovery is refreshed at least once either way, so that later lookups know the new kinds.
 */
async function waitUntilServed<T extends SyncItem>(req: EngineRequest<T>, crds: KubeObject[], toApply: T[]): Promise<void> {
  const defined = new Set(crds.map((crd) => {
    const spec = crd.spec as { group?: string; names?: { kind?: string } } | undefined;
    return `${spec?.group ?? ""}/${spec?.names?.kind ?? ""}`;
  }));
  const waiting = toApply.filter((item) => defined.has(`${item.key.group}/${item.key.kind}`));
  const giveUpAt = Date.now() + CRD_SERVED_TIMEOUT_MS;
  for (;;) {
    await req.discovery.refresh();
    if (waiting.every((item) => req.discovery.peek(item.desired!.apiVersion, item.key.kind))) return;
    if (Date.now() >= giveUpAt || req.signal.aborted) return;
    await delay(CRD_SERVED_POLL_MS, undefined, { signal: req.signal }).catch(() => {});
  }
}

/**
 * The operation's steps in order (PreSync, Sync and PostSync waves; PruneLast prunes in a wave of their own) with
 * what each one applies, prunes and runs.
 */
export function planSteps<T extends SyncItem>(items: T[], hooks: HookItem[], syncOptions: string[]): { byStep: Map<string, StepItems<T>>; ordered: Step[] } {
  const pruneLast = hasOption(syncOptions, "PruneLast");
  const byStep = new Map<string, StepItems<T>>();
  const steps: Step[] = [];
  const add = (phase: SyncPhase, wave: number): StepItems<T> => {
    const id = `${phase}/${wave}`;
    let entry = byStep.get(id);
    if (!entry) { entry = { applies: [], prunes: [], hooks: [] }; byStep.set(id, entry); }
    steps.push({ phase, wave });
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

/** Refusals decided before anything is written: shared objects under FailOnSharedResource, the prune guard. */
function preflight<T extends SyncItem>(req: EngineRequest<T>): string | undefined {
  if (hasOption(req.syncOptions, "FailOnSharedResource")) {
    const shared = req.items.filter((i) => i.desired && i.live && isSharedWithAnotherApp(i.live, req.app));
    if (shared.length > 0) {
      return `FailOnSharedResource=true: ${shared.slice(0, 5).map((i) => `${displayName(i.key)} (tracked by ${describeOwner(i.live!)})`).join(", ")}`;
    }
  }
  const prunable = req.items.filter((i) => i.requiresPruning && !hasOption(objectSyncOptions(i.live), "Prune", "false"));
  if (req.prune && prunable.length > 0 && !(req.emptyRender && !req.allowEmpty)) {
    const total = req.items.filter((i) => i.desired || i.requiresPruning).length;
    const percent = (prunable.length / total) * 100;
    const allowed = hasOption(req.syncOptions, "AllowMassPrune") || (req.emptyRender && req.allowEmpty);
    if (percent > req.pruneGuardPercent && !allowed) {
      return `prune guard: this sync would delete ${prunable.length} of the app's ${total} objects (${Math.round(percent)}%, more than ` +
        `${req.pruneGuardPercent}%); nothing was changed. If that is intended, sync with the option AllowMassPrune=true`;
    }
  }
  return undefined;
}

function pruneNote<T extends SyncItem>(req: EngineRequest<T>): string {
  const prunable = req.items.filter((i) => i.requiresPruning).length;
  return req.prune && req.emptyRender && !req.allowEmpty && prunable > 0
    ? `; refused to prune ${prunable} object(s) because the render is empty (set syncPolicy.automated.allowEmpty to allow it)` : "";
}

function isSharedWithAnotherApp(live: KubeObject, app: AppRef): boolean {
  const owner = owningApp(live);
  return owner !== undefined && (owner.namespace !== app.namespace || owner.name !== app.name);
}

function describeOwner(live: KubeObject): string {
  const owner = owningApp(live);
  return owner ? `Application ${owner.namespace}/${owner.name}` : "nobody";
}

function resultFor(results: ResourceResult[], phase: SyncPhase, key: ResourceKey): ResourceResult | undefined {
  return results.find((r) => !r.hookType && r.syncPhase === phase && (r.group ?? "") === key.group && r.kind === key.kind &&
    (r.namespace ?? "") === key.namespace && r.name === key.name);
}

function record(results: ResourceResult[], item: SyncItem, step: Step, status: string, message: string): void {
  // A server's refusal may quote the value it refused: a Secret's values never reach status (DESIGN.md §3 rule 6).
  if (item.key.kind === "Secret" && item.key.group === "") message = redactSecrets(message, secretValues(item.desired));
  results.push({
    group: item.key.group, version: item.type.version, kind: item.key.kind, namespace: item.key.namespace || undefined,
    name: item.key.name, status, message, syncPhase: step.phase, ...(step.wave !== 0 && step.wave !== LAST_WAVE ? { wave: step.wave } : {}),
  });
}

/**
 * SSA by default; Replace=true replaces; ServerSideApply=false writes a JSON merge patch. Validate=false also
 * writes a merge patch: server-side apply checks every field against the schema whatever fieldValidation says.
 */
async function writeObject<T extends SyncItem>(req: EngineRequest<T>, item: T): Promise<KubeObject> {
  const options = [...req.syncOptions, ...objectSyncOptions(item.desired)];
  const validate = !hasOption(options, "Validate", "false");
  const rules = req.ignore ? rulesFor(req.ignore.rules, item.key) : [];
  if (hasOption(options, "RespectIgnoreDifferences") && item.live && rules.length > 0) {
    // Fields the app ignores keep their live values (an HPA's replicas), so applying never resets them.
    const paths = await ignoredPaths({ desiredOrPredicted: item.desired!, live: item.live, rules, jq: req.ignore!.jq });
    item = { ...item, desired: respectIgnored(item.desired!, item.live, paths) };
  }
  if (hasOption(options, "Replace")) return req.writer.replace(item.type, item.desired!, item.live, { dryRun: req.dryRun, validate });
  if (hasOption(options, "ServerSideApply", "false") || !validate) {
    return req.writer.mergeUpdate(item.type, item.desired!, item.live, { dryRun: req.dryRun, validate });
  }
  return req.writer.apply(item.type, item.desired!, { dryRun: req.dryRun, signal: req.signal, validate });
}

async function pruneOne<T extends SyncItem>(req: EngineRequest<T>, item: T, step: Step, results: ResourceResult[]): Promise<string | undefined> {
  if (!req.prune) { record(results, item, step, "PruneSkipped", "ignored (requires pruning, and prune is off)"); return undefined; }
  if (req.emptyRender && !req.allowEmpty) { record(results, item, step, "PruneSkipped", "render is empty and allowEmpty is off"); return undefined; }
  if (hasOption(objectSyncOptions(item.live), "Prune", "false")) { record(results, item, step, "PruneSkipped", "sync option Prune=false"); return undefined; }
  // Ownership is checked on the very object deleted, and the uid precondition pins it (DESIGN.md §3 rule 3).
  if (!item.live || !isOwnedBy(item.live, req.app) || !item.live.metadata.uid) {
    record(results, item, step, "PruneSkipped", "not tracked by this application");
    return undefined;
  }
  if (req.dryRun) { record(results, item, step, "Pruned", "would be pruned (dry run)"); return undefined; }
  try {
    await req.writer.delete(item.type, item.key.namespace || undefined, item.key.name, item.live.metadata.uid, propagationPolicy(req.syncOptions, item.live));
    record(results, item, step, "Pruned", "pruned");
  } catch (err) {
    if (err instanceof KubeApiError && (err.isNotFound || err.isConflict)) { record(results, item, step, "Pruned", "already gone"); return undefined; }
    record(results, item, step, "SyncFailed", `prune failed: ${errorMessage(err)}`);
    return `prune of ${displayName(item.key)} failed: ${errorMessage(err)}`;
  }
  return undefined;
}

export function propagationPolicy(options: string[], live?: KubeObject): PropagationPolicy {
  const value = (optionValue(objectSyncOptions(live), "PrunePropagationPolicy") ?? optionValue(options, "PrunePropagationPolicy"))?.toLowerCase();
  return value === "background" ? "Background" : value === "orphan" ? "Orphan" : "Foreground";
}

async function ensureNamespace<T extends SyncItem>(req: EngineRequest<T>): Promise<string | undefined> {
  const type = await req.discovery.lookup("v1", "Namespace");
  if (!type) return undefined;
  const metadata = req.managedNamespaceMetadata;
  try {
    await req.writer.apply(type, {
      apiVersion: "v1", kind: "Namespace",
      metadata: { name: req.destinationNamespace!, ...(metadata?.labels ? { labels: metadata.labels } : {}), ...(metadata?.annotations ? { annotations: metadata.annotations } : {}) },
    }, { signal: req.signal });
    return undefined;
  } catch (err) {
    return `Namespace/${req.destinationNamespace} (CreateNamespace=true): ${errorMessage(err)}`;
  }
}

// ---- hooks ---------------------------------------------------------------------------------------------

interface HookAdvance { done: boolean; failed: boolean; name: string; message: string }

function hookResult(results: ResourceResult[], phase: SyncPhase, hook: HookItem): ResourceResult | undefined {
  return results.find((r) => r.hookType === phase && r.hookName === hookTemplateName(hook) &&
    (r.group ?? "") === hook.key.group && r.kind === hook.key.kind && (r.namespace ?? "") === hook.key.namespace);
}

function hookTemplateName(hook: HookItem): string {
  return hook.desired.metadata.name ?? hook.desired.metadata.generateName ?? "";
}

async function advanceHook<T extends SyncItem>(req: EngineRequest<T>, hook: HookItem, phase: SyncPhase, results: ResourceResult[]): Promise<HookAdvance> {
  const label = `${hook.key.kind}/${hook.key.namespace ? `${hook.key.namespace}/` : ""}${hookTemplateName(hook)}`;
  const existing = hookResult(results, phase, hook);
  if (existing?.hookPhase === "Succeeded") return { done: true, failed: false, name: label, message: "succeeded" };
  if (existing?.hookPhase === "Failed") return { done: true, failed: true, name: label, message: existing.message ?? "failed" };
  if (req.dryRun) {
    results.push(hookRecord(hook, phase, hookTemplateName(hook), "Succeeded", "would run (dry run)"));
    return { done: true, failed: false, name: label, message: "dry run" };
  }
  if (!existing) {
    const named = hook.desired.metadata.name;
    if (named) {
      const previous = req.live(hook.type, hook.key.namespace, named);
      if (previous) {
        if (!hook.spec.deletePolicies.includes(DeletePolicy.BeforeHookCreation)) {
          // Without BeforeHookCreation an earlier run's object stays; applying over it re-runs nothing.
        } else if (!previous.metadata.deletionTimestamp && previous.metadata.uid) {
          await req.writer.delete(hook.type, hook.key.namespace || undefined, named, previous.metadata.uid, "Background").catch((err: unknown) => {
            if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
          });
          return { done: false, failed: false, name: label, message: "deleting the previous run (BeforeHookCreation)" };
        } else {
          return { done: false, failed: false, name: label, message: "waiting for the previous run to be deleted" };
        }
      }
    }
    try {
      const created = named
        ? await req.writer.apply(hook.type, hook.desired, { signal: req.signal })
        : await req.writer.create(hook.type, hook.desired);
      results.push(hookRecord(hook, phase, created.metadata.name ?? hookTemplateName(hook), "Running", "created"));
      return { done: false, failed: false, name: label, message: "created" };
    } catch (err) {
      results.push(hookRecord(hook, phase, hookTemplateName(hook), "Failed", errorMessage(err)));
      return { done: true, failed: true, name: label, message: errorMessage(err) };
    }
  }
  const live = req.live(hook.type, hook.key.namespace, existing.name);
  if (!live) return { done: false, failed: false, name: label, message: "waiting for it to appear" };
  const outcome = hookOutcome(live, req.health(live));
  if (outcome.phase === "Running") return { done: false, failed: false, name: label, message: outcome.message };
  existing.hookPhase = outcome.phase;
  existing.message = outcome.message;
  existing.status = outcome.phase === "Succeeded" ? "Synced" : "SyncFailed";
  return { done: true, failed: outcome.phase === "Failed", name: label, message: outcome.message };
}

function hookRecord(hook: HookItem, phase: SyncPhase, name: string, hookPhase: string, message: string): ResourceResult {
  return {
    group: hook.key.group, version: hook.type.version, kind: hook.key.kind, namespace: hook.key.namespace || undefined, name,
    status: hookPhase === "Failed" ? "SyncFailed" : "Synced", message, syncPhase: phase, hookType: phase, hookPhase, hookName: hookTemplateName(hook),
  };
}

/** A Job or Pod finishes by its own status; any other hook kind is done once Healthy (failed when Degraded). */
export function hookOutcome(live: KubeObject, health: HealthStatus | undefined): { phase: "Running" | "Succeeded" | "Failed"; message: string } {
  const status = live.status as { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>; phase?: string; message?: string } | undefined;
  if (live.kind === "Job") {
    const condition = (type: string) => status?.conditions?.find((c) => c.type === type && c.status === "True");
    const failed = condition("Failed");
    if (failed) return { phase: "Failed", message: failed.message ?? failed.reason ?? "job failed" };
    const complete = condition("Complete");
    if (complete) return { phase: "Succeeded", message: "job completed" };
    return { phase: "Running", message: health?.message ?? "job running" };
  }
  if (live.kind === "Pod") {
    if (status?.phase === "Succeeded") return { phase: "Succeeded", message: "pod succeeded" };
    if (status?.phase === "Failed") return { phase: "Failed", message: status.message ?? "pod failed" };
    return { phase: "Running", message: `pod ${status?.phase ?? "pending"}` };
  }
  if (!health || health.status === "Healthy") return { phase: "Succeeded", message: health?.message || "healthy" };
  if (health.status === "Degraded") return { phase: "Failed", message: health.message };
  return { phase: "Running", message: health.message };
}

async function runSyncFailHooks<T extends SyncItem>(req: EngineRequest<T>, results: ResourceResult[]): Promise<void> {
  if (req.dryRun) return;
  for (const hook of req.hooks.filter((h) => h.spec.types.includes(SyncPhase.SyncFail))) {
    if (hookResult(results, SyncPhase.SyncFail, hook)) continue;
    try {
      const created = hook.desired.metadata.name
        ? await req.writer.apply(hook.type, hook.desired, { signal: req.signal })
        : await req.writer.create(hook.type, hook.desired);
      results.push(hookRecord(hook, SyncPhase.SyncFail, created.metadata.name ?? hookTemplateName(hook), "Running", "created after the sync failed"));
    } catch (err) {
      results.push(hookRecord(hook, SyncPhase.SyncFail, hookTemplateName(hook), "Failed", errorMessage(err)));
    }
  }
}

async function deleteHooksByPolicy<T extends SyncItem>(req: EngineRequest<T>, results: ResourceResult[], policy: DeletePolicy, phase: string): Promise<void> {
  if (req.dryRun) return;
  for (const hook of req.hooks.filter((h) => h.spec.deletePolicies.includes(policy))) {
    for (const result of results.filter((r) => r.hookName === hookTemplateName(hook) && r.kind === hook.key.kind && r.hookPhase === phase)) {
      const live = req.live(hook.type, hook.key.namespace, result.name);
      if (!live?.metadata.uid || live.metadata.deletionTimestamp) continue;
      try {
        await req.writer.delete(hook.type, hook.key.namespace || undefined, result.name, live.metadata.uid, "Background");
      } catch (err) {
        if (!(err instanceof KubeApiError && err.isNotFound)) req.logger.warn({ err: errorMessage(err), hook: result.name }, "could not delete hook");
      }
    }
  }
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
