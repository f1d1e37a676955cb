// One Application's reconcile, as a straight line of stages:
//   spec → project → revision → checkout → render → desired → live → compare → (sync) → health → status
// Each stage's failure is a typed error that becomes a condition, an Event, a log line and a requeue;
// `finally` writes status once (only when it changed) and records metrics. An error anywhere leaves the
// comparison Unknown and prunes nothing.
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { stringify } from "safe-stable-stringify";
import type {
  Application, ApplicationSource, ApplicationSpec, ApplicationStatus, AppRef, Operation, OperationState, ResourceResult, ResourceStatus,
} from "../api/index.ts";
import type { AppProject, AppProjectSpec } from "../api/index.ts";
import { checkProject, DEFAULT_PROJECT_SPEC, syncWindowState } from "../project/index.ts";
import { Annotation, ApplicationSpecSchema, displayName, isOwnedBy, keyString, OperationPhase, owningApp, SyncStatusCode, type KubeObject } from "../api/index.ts";
import { describeScope, isConfined, KubeApiError, KubeConnectionError, NotLeaderError, outsideScope, type ClusterWriter, type Informer, type ObjectStore } from "../cluster/index.ts";
import { IN_CLUSTER, type ClusterRegistry, type TargetCluster } from "./clusters.ts";
import type { Config } from "../config.ts";
import { ComparisonError, ConditionType, ErrorReason, InternalError, InvalidSpecError, TackError, errorMessage } from "../errors.ts";
import type { RepoCache, RepoCredentials } from "../git/index.ts";
import { assessHealth, worstHealth, type CustomHealthRules, type HealthStatus, type HealthStatusCode } from "../health/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { redactSecrets } from "../redact.ts";
import { helmApiVersions, render, type RenderCache, type RenderOptions, type SourceType } from "../render/index.ts";
import { mergePatch } from "../util/merge-patch.ts";
import { compareDesired, type ResourceComparison } from "./compare.ts";
import { nextConditions, type ConditionInput } from "./conditions.ts";
import { prepareDesired, type DesiredObject } from "./desired.ts";
import { EventReason, type EventRecorder } from "./events.ts";
import type { ProcessResult } from "./queue.ts";
import { completesInOneStep, hookOutcome, runSyncStep, type HookItem } from "../sync/engine.ts";
import { changeSetOf, prunedMessage } from "../sync/results.ts";
import { automatedSync, failedSyncMessage, mayRetry, retryDelayMs } from "../sync/policy.ts";
import { hasOption, hookSpec, objectCompareOptions, objectSyncOptions } from "../sync/plan.ts";
import type { ResourceIgnoreDifferences } from "../diff/ignore.ts";
import type { JqEvaluator } from "../jq/index.ts";
import { repoCredentials } from "./credentials.ts";
import { OwnWrites } from "./own-writes.ts";
import { DistinctErrors, errorName, errorStack } from "./distinct-errors.ts";

const DEFAULT_HISTORY_LIMIT = 10;
/** Finalizers that ask for cascade deletion: Tack's, and Argo CD's so that migrated manifests keep working. */
export const RESOURCE_FINALIZERS = ["resources-finalizer.tack.dev", "resources-finalizer.argocd.argoproj.io"];

export interface ReconcilerDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Destination clusters: discovery, live cache, writer, ownership and comparisons of each. */
  clusters: ClusterRegistry;
  /** Writes to Applications, AppProjects and Events, in the cluster Tack runs in. */
  writer: ClusterWriter;
  repos: RepoCache;
  events: EventRecorder;
  applications: ObjectStore;
  projects: ObjectStore;
  repoSecrets: Informer;
  healthRules: () => CustomHealthRules | undefined;
  /** Evaluates ignoreDifferences' jqPathExpressions, bounded in time and memory. */
  jq: JqEvaluator;
  renderCache: RenderCache;
  renderOptions: Readonly<RenderOptions>;
  resyncDelayMs: () => number;
  signal: AbortSignal;
  now?: () => Date;
}

/** What a reconcile remembers between runs of the same app, so watch-triggered runs skip asking Git. */
interface AppMemory {
  sourceKey: string;
  revision: string;
  resolvedAt: number;
}

/** Rendered states kept (most recently used last): a render is redone only when revision or source moved. */
const RENDER_CACHE_ENTRIES = 512;

interface Loaded { revision: string; desired: DesiredObject[]; hooks: HookItem[]; sourceType: SourceType; emptyRender: boolean }

interface OperateContext {
  key: string;
  target: TargetCluster;
  project: AppProjectSpec;
  app: Application;
  ref: AppRef;
  spec: ApplicationSpec;
  source: ApplicationSource;
  previous: ApplicationStatus;
  loaded: Loaded;
  comparisons: ResourceComparison[];
  credentials: RepoCredentials | undefined;
  log: Logger;
  emitted: Array<[type: "Normal" | "Warning", reason: EventReason, message: string]>;
  setPrevious: (status: ApplicationStatus) => void;
  requeue: (ms: number) => void;
}

interface OperateOutcome { phase: "Running" | "Succeeded" | "Failed"; after: ResourceComparison[]; sameTarget: boolean }

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #memory = new Map<string, AppMemory>();
  readonly #outOfSyncSince = new Map<string, Date>();
  /** Apps Degraded since they were last Healthy (for HealthRecovered). */
  readonly #degraded = new Set<string>();
  readonly #rendered = new Map<string, Omit<Loaded, "revision">>();
  /** PostDelete hooks created by this process for apps being deleted (generateName hooks cannot be found by name). */
  readonly #postDeleteCreated = new Set<string>();
  readonly #ownWrites = new OwnWrites();
  readonly #internalErrors = new DistinctErrors();

  constructor(deps: ReconcilerDeps) { this.#deps = deps; }

  #now(): Date { return this.#deps.now?.() ?? new Date(); }

  forget(key: string): void { this.#memory.delete(key); }

  /** The next reconcile of this app asks Git for its revision (a webhook announced a push). */
  refresh(key: string): void { this.#memory.delete(key); }

  /** A revision resolved once for all the apps of one push (instead of one ref listing per app). */
  resolved(key: string, repoURL: string, revisionSpec: string, revision: string): void {
    this.#memory.set(key, { sourceKey: `${repoURL}#${revisionSpec}`, revision, resolvedAt: Date.now() });
  }

  async reconcile(key: string): Promise<ProcessResult> {
    const deps = this.#deps;
    const [namespace, name] = key.split("/") as [string, string];
    const app = deps.applications.get(namespace, name) as unknown as Application | undefined;
    if (!app) {
      this.#memory.delete(key);
      this.#ownWrites.forget(key);
      this.#outOfSyncSince.delete(key);
      this.#degraded.delete(key);
      deps.metrics.removeApp(namespace, name);
      return {};
    }
    if (this.#ownWrites.isStale(key, app as unknown as KubeObject)) return { requeueAfterMs: this.#ownWrites.retryDelayMs(key) };
    if (app.metadata.deletionTimestamp) return this.#finalize(key, app);
    const started = performance.now();
    const log = deps.logger.child({ application: key });
    // The status as stored: updated after each of our own writes (the informer's copy is never mutated).
    let previous: ApplicationStatus = app.status ?? {};
    const ref: AppRef = { namespace, name };
    const refresh = app.metadata.annotations?.[Annotation.Refresh] ?? app.metadata.annotations?.[Annotation.ArgoRefresh];
    const secrets: string[] = [];
    let next: ApplicationStatus = previous;
    let result: ProcessResult = { requeueAfterMs: deps.resyncDelayMs() };
    const emitted: Array<[type: "Normal" | "Warning", reason: EventReason, message: string]> = [];

    try {
      const spec = parseSpec(app);
      const source = spec.source!;
      const project = await this.#project(app, spec.project);
      const target = deps.clusters.resolve(spec.destination);
      deps.clusters.assertReachable(target);
      const credentials = repoCredentials(deps.repoSecrets, source.repoURL);
      if (credentials) secrets.push(...[credentials.password, credentials.bearerToken, credentials.tls?.keyData].filter((s): s is string => !!s));

      // An operation a user asked for (kubectl patch of `operation`, tack app sync or rollback) syncs what Git holds
      // now, as Argo CD resolves targetRevision when a sync is requested: past the revision cache and this app's
      // remembered revision, which may be up to a poll old.
      const requested = app.operation?.sync !== undefined && previous.operationState?.phase !== OperationPhase.Running;
      const loaded = await this.#load(key, app, target, source, source.targetRevision ?? "HEAD", credentials, { refresh: refresh !== undefined || requested });
      enforceScope(target, loaded, spec.syncPolicy?.syncOptions ?? []);
      await this.#watchTypes(target, loaded, previous.resources ?? []);
      let comparisons = await this.#compare(target, key, ref, loaded.desired, spec.syncPolicy?.syncOptions ?? [], spec.ignoreDifferences ?? []);
      // Before any write, on every path that can start one (DESIGN.md §3): a violation refuses the whole app.
      this.#enforceProject(project, app, loaded, comparisons);
      // Drift is announced when the comparison finds it, even when selfHeal undoes it within this reconcile.
      const drifted = comparisons.filter((c) => !c.inSync);
      if (drifted.length > 0 && previous.sync?.status !== SyncStatusCode.OutOfSync) {
        emitted.push(["Warning", EventReason.OutOfSync, outOfSyncMessage(drifted.map((c) => ({
          group: c.key.group, kind: c.key.kind, namespace: c.key.namespace, name: c.key.name, status: SyncStatusCode.OutOfSync,
          ...(c.requiresPruning ? { requiresPruning: true } : {}), ...(c.message ? { message: c.message } : {}),
        })), loaded.revision)]);
      }

      const { outcome, operationState, manual } = await this.#operate({
        key, app, ref, spec, source, previous, loaded, comparisons, credentials, log, emitted, project, target,
        setPrevious: (status) => { previous = status; },
        requeue: (ms) => { result = { requeueAfterMs: Math.min(result.requeueAfterMs ?? ms, ms) }; },
      });
      if (outcome && outcome.sameTarget) comparisons = outcome.after;

      const syncError: ConditionInput[] = operationState?.phase === OperationPhase.Failed || operationState?.phase === OperationPhase.Error
        ? [{ type: ConditionType.SyncError, status: "True", reason: ErrorReason.SyncFailed, message: failedSyncMessage(operationState, spec.syncPolicy?.retry) }] : [];
      const shared = comparisons.filter((c) => c.desired && c.live && isTrackedByAnother(c.live, ref));
      const sharedWarning: ConditionInput[] = shared.length > 0 ? [{
        type: ConditionType.SharedResourceWarning, status: "True", reason: "SharedResource",
        message: `${shared.slice(0, 5).map((c) => `${displayName(c.key)} is tracked by Application ${describeOwner(c.live!)}`).join("; ")}` +
          `${shared.length > 5 ? `; and ${shared.length - 5} more` : ""}: not taken over (sync option TakeOwnership=true takes it)`,
      }] : [];
      next = this.#statusFor(app, previous, loaded, comparisons, operationState, [...syncError, ...sharedWarning]);
      if (outcome?.phase === OperationPhase.Succeeded && !manual?.sync?.dryRun && !operationState?.operation?.sync?.dryRun) {
        next.history = appendHistory(previous.history, {
          revision: operationState!.syncResult!.revision!, deployedAt: operationState!.finishedAt!, deployStartedAt: operationState!.startedAt,
          source: statusSource(source), initiatedBy: operationState!.operation?.initiatedBy,
        }, app.spec.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT);
      }
      this.#healthEvents(key, previous.health?.status, next.health?.status, next.health?.message, emitted);
    } catch (err) {
      const typed = toTackError(err, secrets);
      log[typed.terminal ? "info" : "warn"]({ err: { type: typed.name, reason: typed.reason, message: typed.message } }, "reconcile failed");
      if (typed instanceof InternalError && this.#internalErrors.firstSeen(err)) {
        // The stack is what fixes a bug; once per distinct error, not on every retry of every app it hits.
        log.error({ err: { type: errorName(err), message: typed.message, stack: redactSecrets(errorStack(err), secrets) } }, "internal error (a bug in Tack?)");
      }
      next = this.#errorStatus(app, previous, typed);
      emitted.push(["Warning", typed.conditionType === ConditionType.InvalidSpecError ? EventReason.InvalidSpec : EventReason.ComparisonError, typed.message]);
      if (!typed.terminal && !deps.signal.aborted) result = { retry: true };
    } finally {
      try {
        if (!deps.signal.aborted || next.operationState?.phase !== OperationPhase.Running) await this.#writeStatus(app, previous, next);
        if (refresh !== undefined) {
          this.#ownWrites.record(key, await deps.writer.patchApplication(namespace, name,
            { metadata: { annotations: { [Annotation.Refresh]: null, [Annotation.ArgoRefresh]: null } } }));
        }
      } catch (err) {
        log.warn({ err: { message: redactSecrets(errorMessage(err), secrets) } }, "could not write status");
        result = { retry: true };
      }
      for (const [type, reason, message] of emitted) deps.events.record(app, type, reason, redactSecrets(message, secrets));
      this.#recordMetrics(app, next);
      deps.metrics.observeReconcile(namespace, name, (performance.now() - started) / 1000);
    }
    return result;
  }

  /**
   * Starts, continues or supersedes the sync operation. A Running operation is continued (one step per
   * reconcile) from the results recorded in status; a newer revision supersedes a running automated sync;
   * otherwise a user's `operation` or the automated policy may start one.
   */
  async #operate(ctx: OperateContext): Promise<{ outcome?: OperateOutcome; operationState: OperationState | undefined; manual?: Operation; blockedBy?: string }> {
    const deps = this.#deps;
    const { app, previous, loaded, source, log, emitted } = ctx;
    const { namespace, name } = app.metadata;
    let operationState = previous.operationState;
    const running = operationState?.phase === OperationPhase.Running ? operationState : undefined;
    const automated = automatedSync({
      policy: app.spec.syncPolicy, revision: loaded.revision, source: statusSource(source), last: app.status?.operationState, now: this.#now().getTime(),
      needsApply: ctx.comparisons.some((c) => !c.inSync && !c.requiresPruning), needsPrune: ctx.comparisons.some((c) => c.requiresPruning),
    });
    const autoSync = automated.action === "sync";
    if (automated.action === "none" && automated.why === "failed") log.debug({ revision: loaded.revision }, "automated sync skipped: the last attempt on this revision failed");
    const finish = (state: OperationState, phase: OperationPhase, message: string): OperationState => {
      const finished = { ...state, phase, message, finishedAt: this.#now().toISOString() };
      deps.metrics.countSync({ namespace, name, project: ctx.spec.project || "default", destServer: destinationServer(ctx.spec.destination), phase });
      const revision = short(state.syncResult?.revision ?? "");
      if (phase === OperationPhase.Succeeded) emitted.push(["Normal", EventReason.SyncSucceeded, `Synced to ${revision}: ${message}`]);
      else emitted.push(["Warning", EventReason.SyncFailed, `Sync to ${revision} failed: ${message}`]);
      const pruned = prunedMessage(changeSetOf(state.syncResult?.resources ?? []));
      if (pruned) emitted.push(["Normal", EventReason.Pruned, pruned]);
      return finished;
    };

    let current = running;
    if (running && running.operation?.initiatedBy?.automated && autoSync && running.syncResult?.revision !== loaded.revision) {
      // The newest revision wins: a sync stuck on a broken commit never blocks its fix (DESIGN.md §3 rule 10).
      operationState = finish(running, OperationPhase.Failed, `superseded by revision ${short(loaded.revision)}`);
      current = undefined;
    }
    let manual = !current && app.operation?.sync ? app.operation : undefined;
    if (!current && (manual || autoSync)) {
      const window = syncWindowState(ctx.project.syncWindows, { name: app.metadata.name, spec: app.spec }, this.#now(), manual !== undefined,
        { projectName: app.spec.project || "default" });
      if (!window.allowed) {
        if (manual) {
          // A refused manual sync ends at once, with the window named; the user's operation is cleared.
          const refused: OperationState = { operation: manual, phase: OperationPhase.Failed, message: window.reason,
            startedAt: this.#now().toISOString(), syncResult: { revision: loaded.revision, source: statusSource(source), resources: [] } };
          this.#ownWrites.record(ctx.key, await deps.writer.clearOperation(namespace, name, app.operation));
          return { operationState: finish(refused, OperationPhase.Failed, window.reason), manual };
        }
        log.info({ reason: window.reason }, "automated sync held by a sync window");
        emitted.push(["Normal", EventReason.SyncWindowClosed, window.reason]);
        ctx.requeue(60_000);
        manual = undefined;
        return { operationState, manual, blockedBy: window.reason };
      }
    }
    if (!current && (manual || autoSync)) {
      const retry = app.spec.syncPolicy?.retry;
      const op: Operation = manual ?? { sync: { prune: app.spec.syncPolicy?.automated?.prune ?? false }, initiatedBy: { automated: true }, ...(retry ? { retry } : {}) };
      const target = op.sync?.revision && op.sync.revision !== loaded.revision
        ? await this.#load(ctx.key, app, ctx.target, source, op.sync.revision, ctx.credentials, { refresh: false, remember: false })
        : loaded;
      current = { operation: op, phase: OperationPhase.Running, message: "syncing", startedAt: this.#now().toISOString(),
        retryCount: !manual && automated.action === "sync" ? automated.retryCount : 0, syncResult: { revision: target.revision, source: statusSource(source), resources: [] } };
      // Recorded before the first write, so a controller killed mid-sync resumes it (DESIGN.md §3 rule 9). An
      // automated operation without hooks and with one step has nothing to resume (starting it again is the same
      // apply), so it skips that write: a self-heal then costs one status write, not two.
      const oneStep = !manual && target === loaded && completesInOneStep(ctx.comparisons, target.hooks, app.spec.syncPolicy?.syncOptions ?? []);
      if (!oneStep) ctx.setPrevious(await this.#writeStatus(app, previous, { ...previous, operationState: current }));
      emitted.push(["Normal", EventReason.SyncStarted, `Sync to ${short(target.revision)} started${manual ? "" : " (automated)"}`]);
    } else if (!current && automated.action === "wait") {
      ctx.requeue(automated.waitMs);
    }
    if (!current) return { operationState, manual };

    const op = current.operation ?? {};
    const syncOptions = [...(app.spec.syncPolicy?.syncOptions ?? []), ...(op.sync?.syncOptions ?? [])];
    const revision = current.syncResult?.revision ?? loaded.revision;
    const sameTarget = revision === loaded.revision;
    const target = sameTarget ? loaded : await this.#load(ctx.key, app, ctx.target, source, revision, ctx.credentials, { refresh: false, remember: false });
    if (!sameTarget) await this.#watchTypes(ctx.target, target, []);
    const comparisons = sameTarget ? ctx.comparisons : await this.#compare(ctx.target, ctx.key, ctx.ref, target.desired, syncOptions, ctx.spec.ignoreDifferences ?? []);
    const rules = deps.healthRules();
    const engine = await runSyncStep({
      app: ctx.ref, items: comparisons, hooks: target.hooks, results: current.syncResult?.resources ?? [], message: current.message,
      prune: op.sync?.prune ?? false, dryRun: op.sync?.dryRun ?? false,
      allowEmpty: app.spec.syncPolicy?.automated?.allowEmpty ?? false, emptyRender: target.emptyRender,
      syncOptions, destinationNamespace: ctx.spec.destination.namespace,
      managedNamespaceMetadata: app.spec.syncPolicy?.managedNamespaceMetadata,
      pruneGuardPercent: deps.config.pruneGuardPercent,
      now: this.#now().getTime(), deadline: Date.parse(current.startedAt ?? "") + deps.config.syncTimeoutSeconds * 1000,
      health: (obj) => assessHealth(obj, rules),
      live: (type, ns, objName) => ctx.target.cache.get(type, ns, objName),
      writer: ctx.target.writer, discovery: ctx.target.discovery, signal: deps.signal, logger: log,
      onApplied: (k, desired, applied) => ctx.target.comparisons.storeApplied(k, desired, applied, ctx.spec.ignoreDifferences ?? []),
      ignore: { rules: ctx.spec.ignoreDifferences ?? [], jq: deps.jq },
    });
    current = { ...current, message: engine.message, syncResult: { ...current.syncResult, revision, source: statusSource(source), resources: engine.results } };
    if (engine.phase === "Running") {
      ctx.requeue(engine.requeueAfterMs ?? 2_000);
      return { outcome: { phase: engine.phase, after: engine.after, sameTarget }, operationState: current, manual };
    }
    const phase = engine.phase === "Succeeded" ? OperationPhase.Succeeded : OperationPhase.Failed;
    operationState = finish(current, phase, engine.message);
    // A retry comes back after its backoff. Otherwise look again at once: drift that arrived while the operation
    // ran is judged by the automated policy then.
    const retry = app.spec.syncPolicy?.retry;
    const retrying = phase !== OperationPhase.Succeeded && op.initiatedBy?.automated && mayRetry(retry, current.retryCount ?? 0);
    ctx.requeue(retrying ? retryDelayMs(retry, current.retryCount ?? 0) : 1);
    if (app.operation?.sync) this.#ownWrites.record(ctx.key, await deps.writer.clearOperation(namespace, name, app.operation));
    return { outcome: { phase: engine.phase, after: engine.after, sameTarget }, operationState, manual: op.initiatedBy?.automated ? undefined : op };
  }

  /**
   * Deletion of an Application. Without our finalizer Kubernetes removes it and its objects stay. With
   * `resources-finalizer.tack.dev` (or Argo CD's name for it; `/background` for background propagation) every
   * object it owns (by tracking id, never another app's, never one marked Delete=false) is deleted and gone
   * before the PostDelete hooks run, and only then is the finalizer removed.
   */
  async #finalize(key: string, app: Application): Promise<ProcessResult> {
    const deps = this.#deps;
    const finalizer = (app.metadata.finalizers ?? []).find((f) => RESOURCE_FINALIZERS.some((base) => f === base || f.startsWith(`${base}/`)));
    if (!finalizer) return {};
    const log = deps.logger.child({ application: key, finalizer });
    const ref: AppRef = { namespace: app.metadata.namespace, name: app.metadata.name };
    const policy = finalizer.endsWith("/background") ? "Background" : "Foreground";
    try {
      const target = deps.clusters.resolve(app.spec.destination ?? {});
      deps.clusters.assertReachable(target);
      await this.#watchTypes(target, { desired: [], hooks: [] }, app.status?.resources ?? []);
      const owned = target.ownership.owned(key)
        .map((o) => ({ ...o, live: target.cache.get(o.type, o.key.namespace, o.key.name) }))
        .filter((o) => o.live && isOwnedBy(o.live, ref) && !hookSpec(o.live));
      const remaining = owned.filter((o) => !hasOption(objectSyncOptions(o.live), "Delete", "false"));
      for (const o of remaining) {
        if (o.live!.metadata.deletionTimestamp) continue;
        await target.writer.delete(o.type, o.key.namespace || undefined, o.key.name, o.live!.metadata.uid!, policy).catch((err: unknown) => {
          if (!(err instanceof KubeApiError && (err.isNotFound || err.isConflict))) throw err;
        });
      }
      if (remaining.length > 0) {
        log.info({ remaining: remaining.length }, "waiting for the application's objects to be deleted");
        return { requeueAfterMs: 1_000 };
      }
      const postDelete = await this.#runPostDeleteHooks(key, app, target, log);
      if (postDelete === "waiting") return { requeueAfterMs: 1_000 };
      await deps.writer.patchApplication(app.metadata.namespace, app.metadata.name, {
        metadata: { finalizers: (app.metadata.finalizers ?? []).filter((f) => f !== finalizer), resourceVersion: app.metadata.resourceVersion },
      });
      log.info("cascade deletion finished; finalizer removed");
      return {};
    } catch (err) {
      log.warn({ err: { message: errorMessage(err) } }, "cascade deletion failed; retrying");
      return { retry: true };
    }
  }

  /** PostDelete hooks, created once and followed to completion; "done" when there are none or all finished. */
  async #runPostDeleteHooks(key: string, app: Application, target: TargetCluster, log: Logger): Promise<"done" | "waiting"> {
    const deps = this.#deps;
    const source = app.spec.source;
    if (!source) return "done";
    let loaded: Loaded;
    try {
      const credentials = repoCredentials(deps.repoSecrets, source.repoURL);
      loaded = await this.#load(key, app, target, source, source.targetRevision ?? "HEAD", credentials, { refresh: false });
    } catch (err) {
      // A repository that is gone must not keep the Application forever: its PostDelete hooks cannot run.
      log.warn({ err: { message: errorMessage(err) } }, "PostDelete hooks skipped: the source cannot be rendered");
      return "done";
    }
    const hooks = loaded.hooks.filter((h) => h.spec.types.includes("PostDelete"));
    if (hooks.length === 0) return "done";
    await this.#watchTypes(target, { desired: [], hooks }, []);
    const rules = deps.healthRules();
    let waiting = false;
    for (const hook of hooks) {
      const name = hook.desired.metadata.name;
      const live = name ? target.cache.get(hook.type, hook.key.namespace, name) : undefined;
      if (!live) {
        if (!this.#postDeleteCreated.has(`${key}/${hook.id}`)) {
          await (name ? target.writer.apply(hook.type, hook.desired) : target.writer.create(hook.type, hook.desired));
          this.#postDeleteCreated.add(`${key}/${hook.id}`);
        }
        waiting = true;
        continue;
      }
      const outcome = hookOutcome(live, assessHealth(live, rules));
      if (outcome.phase === "Running") waiting = true;
      else if (outcome.phase === "Failed") log.warn({ hook: hook.id, message: outcome.message }, "PostDelete hook failed");
    }
    if (!waiting) for (const hook of hooks) this.#postDeleteCreated.delete(`${key}/${hook.id}`);
    return waiting ? "waiting" : "done";
  }

  /** Revision → checkout → render → desired, reusing the last result when the source has not moved. */
  async #load(key: string, app: Application, target: TargetCluster, source: ApplicationSource, revisionSpec: string, credentials: RepoCredentials | undefined,
    opts: { refresh: boolean; remember?: boolean }): Promise<Loaded> {
    const deps = this.#deps;
    const remember = opts.remember ?? true;
    const hard = opts.refresh && app.metadata.annotations?.[Annotation.Refresh] === "hard";
    let revision: string;
    let resolveChart: (() => Promise<string>) | undefined;
    if (source.chart) {
      // A chart from a Helm repository: the revision is the chart version the constraint resolves to.
      const repositories = deps.renderOptions.helmRepositories!;
      resolveChart = async () => (await repositories.resolve(source.repoURL, source.chart!, revisionSpec === "HEAD" ? "" : revisionSpec)).version;
      revision = await resolveChart();
    } else {
      const sourceKey = `${source.repoURL}#${revisionSpec}`;
      const memory = remember ? this.#memory.get(key) : undefined;
      const nowMs = Date.now();
      // Watch-triggered reconciles reuse the revision resolved at the last poll; polls, refreshes and spec
      // changes ask the server (and the repo cache fetches only when the ref moved).
      const resolveDue = !memory || memory.sourceKey !== sourceKey || opts.refresh ||
        nowMs - memory.resolvedAt >= deps.config.resyncSeconds * 1000 * 0.8;
      revision = resolveDue
        ? await deps.repos.resolveRevision(source.repoURL, revisionSpec, { credentials, force: opts.refresh })
        : memory!.revision;
      if (remember && resolveDue) this.#memory.set(key, { sourceKey, revision, resolvedAt: nowMs });
    }

    const syncOptions = app.spec.syncPolicy?.syncOptions ?? [];
    const renderKey = stringify({ revision, source, app: key, cluster: target.server, ns: app.spec.destination?.namespace, max: deps.config.maxManifestBytes, syncOptions }) ?? "";
    const prepared = hard ? undefined : this.#rendered.get(renderKey);
    if (prepared) {
      this.#rendered.delete(renderKey);
      this.#rendered.set(renderKey, prepared);
      return { revision, ...prepared };
    }
    if (hard) deps.renderCache.clear();
    // The render cache is keyed by the content of what a render read (tree hashes), so a commit that touches
    // only other folders of a monorepo renders nothing.
    const renderStarted = performance.now();
    const rendered = await deps.renderCache.render({
      source, maxBytes: deps.config.maxManifestBytes, appName: app.metadata.name, appNamespace: app.metadata.namespace,
      destinationNamespace: app.spec.destination?.namespace, signal: deps.signal, revision, options: deps.renderOptions,
      kubeVersion: (await target.discovery.serverVersion()).gitVersion, apiVersions: helmApiVersions(target.discovery.types()),
    }, {
      treeHash: async (path) => {
        await deps.repos.ensureCommit(source.repoURL, revision, { credentials });
        return deps.repos.treeHash(source.repoURL, revision, path);
      },
      // A plain folder of manifests needs only itself written out, not every file of a monorepo.
      checkout: async () => (!source.helm && !source.kustomize && !source.plugin
        ? await deps.repos.checkoutPath(source.repoURL, revision, source.path ?? "", { credentials }) : undefined)
        ?? deps.repos.checkout(source.repoURL, revision, { credentials }),
      render,
      ...(resolveChart ? { resolveChart } : {}),
    });
    if (!rendered.cacheHit) deps.metrics.observeRender(rendered.sourceType, (performance.now() - renderStarted) / 1000);
    const state = await prepareDesired(rendered.objects, { namespace: app.metadata.namespace, name: app.metadata.name },
      app.spec.destination?.namespace, target.discovery, { skipDryRunOnMissingResource: hasOption(syncOptions, "SkipDryRunOnMissingResource") });
    const entry = { desired: state.desired, hooks: state.hooks, sourceType: rendered.sourceType, emptyRender: rendered.objects.length === 0 };
    this.#rendered.set(renderKey, entry);
    if (this.#rendered.size > RENDER_CACHE_ENTRIES) this.#rendered.delete(this.#rendered.keys().next().value!);
    return { revision, ...entry };
  }

  /** Watches the types the app uses now and the ones its inventory says it used before (for pruning). */
  async #watchTypes(target: TargetCluster, loaded: Pick<Loaded, "desired" | "hooks">, inventory: ResourceStatus[]): Promise<void> {
    const types = new Map([...loaded.desired, ...loaded.hooks].map((d) => [`${d.type.group}/${d.type.kind}`, d.type]));
    for (const entry of inventory) {
      const id = `${entry.group ?? ""}/${entry.kind}`;
      if (types.has(id)) continue;
      const type = target.discovery.byGroupKind(entry.group ?? "", entry.kind);
      // Recorded before the cluster was confined: not watched (nor pruned) now that it lies outside the scope.
      if (type && outsideScope(target.scope, { ...type, namespace: entry.namespace ?? "", name: entry.name, namespaced: type.namespaced }) === undefined) {
        types.set(id, type);
      }
    }
    try {
      // A type whose CRD is applied by this very sync is not served yet: it is watched after the sync.
      await Promise.all([...types.values()].filter((t) => target.discovery.peek(t.group ? `${t.group}/${t.version}` : t.version, t.kind))
        .map((t) => target.cache.ensureWatched(t)));
    } catch (err) {
      throw new ComparisonError(ErrorReason.ClusterError, `watching live state: ${errorMessage(err)}`, { cause: err });
    }
  }

  async #compare(target: TargetCluster, key: string, ref: AppRef, desired: DesiredObject[], syncOptions: string[], ignoreRules: ResourceIgnoreDifferences[]): Promise<ResourceComparison[]> {
    const deps = this.#deps;
    const compared = await compareDesired(desired, {
      cache: target.cache, writer: target.writer, comparisons: target.comparisons, dryRunConcurrency: 8, syncOptions,
      ignore: { rules: ignoreRules, jq: deps.jq },
    });
    const wanted = new Set(desired.map((d) => keyString(d.key)));
    for (const owned of target.ownership.owned(key)) {
      if (wanted.has(keyString(owned.key))) continue;
      const live = target.cache.get(owned.type, owned.key.namespace, owned.key.name);
      // Already being deleted (a prune in progress, waiting on finalizers): nothing left to do for it.
      if (!live || live.metadata.deletionTimestamp) continue;
      // Hooks are run by syncs and removed by their delete policy, never pruned as drift.
      if (hookSpec(live)) continue;
      // IgnoreExtraneous: an object left in the cluster on purpose does not make the app OutOfSync.
      const extraneousIgnored = hasOption(objectCompareOptions(live), "IgnoreExtraneous");
      compared.push({ key: owned.key, type: owned.type, desired: undefined, live, inSync: extraneousIgnored, requiresPruning: true,
        message: `tracked by ${ref.namespace}/${ref.name} but no longer in Git` });
    }
    return compared;
  }

  /**
   * The app's AppProject spec. A missing `default` project is created (allowing everything, as Argo CD's);
   * any other missing project is an InvalidSpecError.
   */
  async #project(app: Application, projectName: string | undefined): Promise<AppProjectSpec> {
    const name = projectName || "default";
    const found = this.#deps.projects.get(app.metadata.namespace, name) as unknown as AppProject | undefined;
    if (found) return found.spec ?? {};
    if (name !== "default") {
      throw new InvalidSpecError(`AppProject '${name}' not found in namespace '${app.metadata.namespace}'`, ErrorReason.ProjectNotFound);
    }
    await this.#deps.writer.createProject(app.metadata.namespace, "default", DEFAULT_PROJECT_SPEC).catch((err: unknown) => {
      if (!(err instanceof KubeApiError && err.isConflict)) throw err;   // created meanwhile by another reconcile
    });
    return DEFAULT_PROJECT_SPEC;
  }

  /** Project policy over everything this app would write or delete: any violation refuses the whole app. */
  #enforceProject(project: AppProjectSpec, app: Application, loaded: Loaded, comparisons: ResourceComparison[]): void {
    const objects = [...loaded.desired, ...loaded.hooks, ...comparisons.filter((c) => c.requiresPruning)]
      .map((o) => ({ group: o.key.group, kind: o.key.kind, namespace: o.key.namespace, name: o.key.name, namespaced: o.type.namespaced }));
    const violations = checkProject(project, { name: app.metadata.name, namespace: app.metadata.namespace, spec: app.spec }, objects,
      { now: this.#now(), manual: false, skipSyncWindows: true });
    if (violations.length > 0) {
      const shown = violations.slice(0, 5).map((v) => v.message).join("; ");
      throw new InvalidSpecError(`refused by project '${app.spec.project || "default"}': ${shown}${violations.length > 5 ? `; and ${violations.length - 5} more` : ""}`,
        ErrorReason.ProjectPolicyViolation);
    }
  }

  #statusFor(app: Application, previous: ApplicationStatus, loaded: Loaded, comparisons: ResourceComparison[],
    operationState: OperationState | undefined, extraConditions: ConditionInput[]): ApplicationStatus {
    const rules = this.#deps.healthRules();
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
    }).sort((a, b) => compareKeys(a, b));
    const syncStatus = resources.every((r) => r.status === SyncStatusCode.Synced) ? SyncStatusCode.Synced : SyncStatusCode.OutOfSync;
    const health = appHealth(resources);
    const now = this.#now().toISOString();
    const ready: ConditionInput = syncStatus === SyncStatusCode.Synced && health.status === "Healthy"
      ? { type: ConditionType.Ready, status: "True", reason: "SyncedAndHealthy", message: `Synced to ${short(loaded.revision)} and Healthy` }
      : { type: ConditionType.Ready, status: "False", reason: syncStatus === SyncStatusCode.OutOfSync ? "OutOfSync" : health.status,
          message: syncStatus === SyncStatusCode.OutOfSync ? outOfSyncMessage(resources, loaded.revision) : health.message || health.status };
    return {
      ...previous,
      sync: { status: syncStatus, revision: loaded.revision, comparedTo: { source: statusSource(app.spec.source), destination: app.spec.destination } },
      health,
      resources,
      conditions: nextConditions(previous.conditions, [ready, ...extraConditions], now, app.metadata.generation),
      ...(operationState ? { operationState } : {}),
      observedGeneration: app.metadata.generation,
      sourceType: loaded.sourceType,
    };
  }

  #errorStatus(app: Application, previous: ApplicationStatus, err: TackError): ApplicationStatus {
    const now = this.#now().toISOString();
    const conditions = nextConditions(previous.conditions, [
      { type: err.conditionType, status: "True", reason: err.reason, message: err.message },
      { type: ConditionType.Ready, status: "False", reason: err.reason, message: err.message },
    ], now, app.metadata.generation);
    return {
      ...previous,
      sync: { status: SyncStatusCode.Unknown, ...(previous.sync?.revision ? { revision: previous.sync.revision } : {}),
        comparedTo: { source: statusSource(app.spec.source), destination: app.spec.destination } },
      conditions,
      observedGeneration: app.metadata.generation,
    };
  }

  /** HealthDegraded on becoming Degraded; HealthRecovered on becoming Healthy after Degraded (even via Progressing). */
  #healthEvents(key: string, before: string | undefined, after: string | undefined, message: string | undefined,
    emitted: Array<["Normal" | "Warning", EventReason, string]>): void {
    if (after === before || !after) return;
    if (after === "Degraded") {
      this.#degraded.add(key);
      emitted.push(["Warning", EventReason.HealthDegraded, `Health is Degraded: ${message ?? ""}`.trim()]);
    } else if (after === "Healthy" && (this.#degraded.delete(key) || before === "Degraded")) {
      emitted.push(["Normal", EventReason.HealthRecovered, "Health recovered: Healthy"]);
    }
  }

  /**
   * Writes status only when something other than reconciledAt changed: an idle app costs no write.
   * Returns the status now stored, for the stages that follow in the same reconcile.
   */
  async #writeStatus(app: Application, previous: ApplicationStatus, next: ApplicationStatus): Promise<ApplicationStatus> {
    const { reconciledAt: _a, ...before } = previous;
    const { reconciledAt: _b, ...after } = next;
    if (stringify(before) === stringify(after)) return previous;
    const withTime = { ...next, reconciledAt: this.#now().toISOString() };
    const updated = await this.#deps.writer.patchApplicationStatus(app.metadata.namespace, app.metadata.name, mergePatch(previous, withTime));
    this.#ownWrites.record(`${app.metadata.namespace}/${app.metadata.name}`, updated);
    return (updated as unknown as Application).status ?? withTime;
  }

  #recordMetrics(app: Application, status: ApplicationStatus): void {
    const spec = app.spec;
    const { namespace, name } = app.metadata;
    const key = `${namespace}/${name}`;
    if (status.sync?.status === SyncStatusCode.OutOfSync) {
      // Since this process first saw it OutOfSync (status keeps no such time; a restart starts the clock again).
      if (!this.#outOfSyncSince.has(key)) this.#outOfSyncSince.set(key, this.#now());
    } else {
      this.#outOfSyncSince.delete(key);
    }
    this.#deps.metrics.setOutOfSyncSince(namespace, name, this.#outOfSyncSince.get(key));
    const op = status.operationState;
    if (op?.finishedAt && op.phase !== OperationPhase.Running) this.#deps.metrics.setLastSync(namespace, name, op.phase, new Date(op.finishedAt));
    this.#deps.metrics.setAppInfo({
      namespace: app.metadata.namespace, name: app.metadata.name, project: spec.project || "default",
      repo: spec.source?.repoURL ?? "", destServer: destinationServer(spec.destination ?? {}), destNamespace: spec.destination?.namespace ?? "",
      syncStatus: status.sync?.status ?? SyncStatusCode.Unknown, healthStatus: status.health?.status ?? "Unknown",
      autosyncEnabled: Boolean(spec.syncPolicy?.automated && spec.syncPolicy.automated.enabled !== false),
      operation: status.operationState?.phase === OperationPhase.Running ? "sync" : "",
    });
  }
}

function parseSpec(app: Application): ReturnType<typeof ApplicationSpecSchema.parse> {
  const parsed = ApplicationSpecSchema.safeParse(app.spec);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `spec.${i.path.join(".")}: ${i.message}`);
    throw new InvalidSpecError(`invalid spec: ${problems.join("; ")}`);
  }
  const spec = parsed.data;
  if (spec.sources && spec.sources.length > 0) throw new InvalidSpecError("spec.sources (multiple sources) is not supported yet: use spec.source");
  if (!spec.source) throw new InvalidSpecError("spec.source is required");
  const url = spec.source.repoURL;
  if (/^(ssh:\/\/|git@|git:\/\/)/.test(url)) throw new InvalidSpecError(`repoURL '${url}': SSH and git:// URLs are not supported: use an HTTPS URL`);
  if (!/^https?:\/\//.test(url)) throw new InvalidSpecError(`repoURL '${url}' is not an HTTP(S) URL`);
  return spec;
}

/**
 * The destination cluster's scope (--managed-namespaces, or a cluster Secret's `namespaces`) over everything the
 * app would write: an object outside it refuses the whole app before any write, as a project violation does.
 */
function enforceScope(target: TargetCluster, loaded: Loaded, syncOptions: string[]): void {
  if (!isConfined(target.scope)) return;
  const problems = [...loaded.desired, ...loaded.hooks]
    .map((o) => outsideScope(target.scope, { kind: o.key.kind, namespace: o.key.namespace, name: o.key.name, namespaced: o.type.namespaced }))
    .filter((p): p is string => p !== undefined);
  if (hasOption(syncOptions, "CreateNamespace") && !target.scope.clusterResources) {
    problems.push("sync option CreateNamespace=true writes a cluster-scoped Namespace, and cluster-scoped objects are not managed here");
  }
  if (problems.length === 0) return;
  throw new InvalidSpecError(`outside what Tack manages on cluster '${target.name}' (${describeScope(target.scope)}): ` +
    `${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}`, ErrorReason.OutsideManagedScope);
}

function destinationServer(destination: { server?: string; name?: string }): string {
  return destination.server ?? (destination.name === IN_CLUSTER.name || !destination.name ? IN_CLUSTER.server : destination.name);
}

function appHealth(resources: ResourceStatus[]): { status: HealthStatusCode; message?: string } {
  const counted = resources.filter((r) => r.health);
  const status = worstHealth(counted.map((r) => r.health!.status as HealthStatusCode));
  if (status === "Healthy") return { status };
  const culprit = counted.find((r) => r.health!.status === status);
  return culprit ? { status, message: `${displayName(resourceKey(culprit))}: ${culprit.health!.message ?? status}` } : { status };
}

function resourceKey(r: ResourceStatus | ResourceResult) {
  return { group: r.group ?? "", kind: r.kind, namespace: r.namespace ?? "", name: r.name };
}

function compareKeys(a: ResourceStatus, b: ResourceStatus): number {
  const x = keyString(resourceKey(a));
  const y = keyString(resourceKey(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

function outOfSyncMessage(resources: ResourceStatus[], revision: string): string {
  const off = resources.filter((r) => r.status !== SyncStatusCode.Synced);
  const names = off.slice(0, 5).map((r) => `${displayName(resourceKey(r))}${r.requiresPruning ? " (requires pruning)" : r.message ? ` (${r.message})` : ""}`);
  return `${off.length} resource(s) differ from ${short(revision)}: ${names.join(", ")}${off.length > 5 ? ", …" : ""}`;
}


function appendHistory(history: ApplicationStatus["history"], entry: Omit<NonNullable<ApplicationStatus["history"]>[number], "id">, limit: number): ApplicationStatus["history"] {
  const list = history ?? [];
  const id = list.reduce((max, h) => Math.max(max, h.id), -1) + 1;
  return [...list, { id, ...entry }].slice(-Math.max(1, limit));
}

/**
 * Typed errors keep their reason. An API server's answer, a lost connection, a lost Lease or an abort are the
 * cluster's (ClusterError); anything else no stage classified is a bug (InternalError), not the cluster's fault.
 */
export function toTackError(err: unknown, secrets: string[]): TackError {
  if (err instanceof TackError) {
    const message = redactSecrets(err.message, secrets);
    if (message === err.message) return err;
    return Object.assign(Object.create(Object.getPrototypeOf(err) as object) as TackError, err, { message });
  }
  const message = redactSecrets(errorMessage(err), secrets);
  const clusters = err instanceof KubeApiError || err instanceof KubeConnectionError || err instanceof NotLeaderError ||
    (err instanceof Error && err.name === "AbortError");
  return clusters
    ? new ComparisonError(ErrorReason.ClusterError, message, { cause: err })
    : new InternalError(`internal error: ${errorName(err)}: ${message}`, { cause: err });
}


function short(revision: string): string { return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision; }

function isTrackedByAnother(live: KubeObject, app: AppRef): boolean {
  const owner = owningApp(live);
  return owner !== undefined && (owner.namespace !== app.namespace || owner.name !== app.name);
}

function describeOwner(live: KubeObject): string {
  const owner = owningApp(live);
  return owner ? `${owner.namespace}/${owner.name}` : "unknown";
}

/**
 * The source as recorded in status (comparedTo, operation results, history): Helm values and parameter values
 * may be secrets, so they are replaced by a digest. Changes stay visible (the digest changes) and comparisons
 * between recorded sources still work, but no value is copied out of the spec (DESIGN.md §3 rule 6).
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
