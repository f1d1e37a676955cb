// One Application's reconcile, as a pipeline of named stages (stages/, docs/architecture.md):
//   spec → project → source → compare → operate → status          (finalize instead, when it is being deleted)
// A stage returns its output or throws a typed error; the error becomes a condition, an Event, a log line and a
// requeue. `finally` writes status once (only when it changed), records the Events and the metrics. An error
// anywhere leaves the comparison Unknown and prunes nothing.
import type { Application, ApplicationStatus, KubeObject } from "../api/index.ts";
import { Annotation, OperationPhase } from "../api/index.ts";
import { KubeApiError, KubeConnectionError, NotLeaderError } from "../cluster/index.ts";
import { ComparisonError, ConditionType, ErrorReason, InternalError, TackError, errorMessage } from "../errors.ts";
import { credentialSecrets } from "../git/index.ts";
import { redactSecrets } from "../redact.ts";
import { AppMemories } from "./app-memory.ts";
import { repoCredentials } from "./credentials.ts";
import { DistinctErrors, errorName, errorStack } from "./distinct-errors.ts";
import { EventReason } from "./events.ts";
import { OwnWrites } from "./own-writes.ts";
import type { ProcessResult } from "./queue.ts";
import { compareApp, watchTypes } from "./stages/compare.ts";
import { stage, type ReconcileContext, type ReconcilerDeps } from "./stages/context.ts";
import { finalize } from "./stages/finalize.ts";
import { operate } from "./stages/operate.ts";
import { enforceProject, enforceScope, resolveProject } from "./stages/project.ts";
import { loadSource, requestedRefresh } from "./stages/source.ts";
import { parseSpec } from "./stages/spec.ts";
import { comparedStatus, driftEvent, errorStatus, healthEvents, recordMetrics, sharedResourceWarning, syncErrorCondition, withHistory, writeStatus } from "./stages/status.ts";

export type { ReconcilerDeps } from "./stages/context.ts";
export { statusSource } from "./stages/status.ts";

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #memories = new AppMemories();
  readonly #ownWrites = new OwnWrites();
  readonly #internalErrors = new DistinctErrors();

  constructor(deps: ReconcilerDeps) { this.#deps = deps; }

  /** The Application informer delivered this version (our own writes are waited for until it does). */
  observed(key: string, app: KubeObject): void { this.#ownWrites.observed(key, app); }

  /** The Application informer listed again: it holds every write of ours that completed before the list began. */
  relisted(listStartedAt: number): void { this.#ownWrites.listedSince(listStartedAt); }

  /** The next reconcile of this app asks Git for its revision (a webhook announced a push). */
  refresh(key: string): void { this.#memories.of(key).resolved = undefined; }

  /** A revision resolved once for all the apps of one push (instead of one ref listing per app). */
  resolved(key: string, repoURL: string, revisionSpec: string, revision: string): void {
    this.#memories.of(key).resolved = { sourceKey: `${repoURL}#${revisionSpec}`, revision, resolvedAt: Date.now() };
  }

  async reconcile(key: string): Promise<ProcessResult> {
    const deps = this.#deps;
    const [namespace, name] = key.split("/") as [string, string];
    const app = deps.applications.get(namespace, name) as unknown as Application | undefined;
    if (!app) {
      this.#memories.forget(key);
      this.#ownWrites.forget(key);
      deps.metrics.removeApp(namespace, name);
      return {};
    }
    if (this.#ownWrites.isStale(key, app as unknown as KubeObject)) return { requeueAfterMs: this.#ownWrites.retryDelayMs(key) };
    let result: ProcessResult = { requeueAfterMs: deps.resyncDelayMs() };
    const ctx = this.#context(key, app, (ms) => { result = { requeueAfterMs: Math.min(result.requeueAfterMs ?? ms, ms) }; });
    if (app.metadata.deletionTimestamp) {
      try {
        return await stage("finalize", () => finalize(ctx, (err) => this.#typed(ctx, err)));
      } finally {
        this.#recordEvents(ctx);
      }
    }
    const started = performance.now();
    const refresh = requestedRefresh(app);
    let next: ApplicationStatus = ctx.previous;
    try {
      const spec = await stage("spec", () => parseSpec(app));
      const { project, target, credentials } = await stage("project", async () => {
        const project = await resolveProject(ctx, spec.project);
        const target = deps.clusters.resolve(spec.destination);
        deps.clusters.assertReachable(target);
        return { project, target, credentials: repoCredentials(deps.repoSecrets, spec.source.repoURL) };
      });
      ctx.secrets.push(...credentialSecrets(credentials));
      // An operation a user asked for syncs what Git holds now, as Argo CD resolves targetRevision when a sync is
      // requested: past the revision cache and this app's remembered revision, which may be up to a poll old.
      const requested = app.operation?.sync !== undefined && ctx.previous.operationState?.phase !== OperationPhase.Running;
      const syncOptions = spec.syncPolicy?.syncOptions ?? [];
      const loaded = await stage("source", () => loadSource(ctx, target, spec.source, spec.source.targetRevision ?? "HEAD", credentials,
        { refresh: refresh ?? (requested ? "normal" : undefined) }));
      let comparisons = await stage("compare", async () => {
        enforceScope(target, loaded, syncOptions);
        await watchTypes(target, loaded, ctx.previous.resources ?? []);
        const compared = await compareApp(ctx, target, loaded.desired, syncOptions, spec.ignoreDifferences ?? []);
        // Before any write, on every path that can start one: a violation refuses the whole app.
        enforceProject(project, app, loaded, compared, ctx.now());
        return compared;
      });
      ctx.events.push(...driftEvent(ctx, comparisons, loaded.revision));
      const operated = await stage("operate", () => operate(ctx, { spec, project, target, loaded, comparisons, credentials }));
      if (operated.after) comparisons = operated.after;
      next = await stage("status", () => {
        const state = operated.operationState;
        const status = comparedStatus(ctx, loaded, comparisons, state, [...syncErrorCondition(state, spec.syncPolicy?.retry), ...sharedResourceWarning(ctx, comparisons)]);
        return operated.deployed && state ? withHistory(app, status, state, spec.source) : status;
      });
      healthEvents(ctx, ctx.previous.health?.status, next.health?.status, next.health?.message);
    } catch (err) {
      const typed = toTackError(err, ctx.secrets);
      ctx.log[typed.terminal ? "info" : "warn"]({ stage: typed.stage, err: { type: typed.name, reason: typed.reason, message: typed.message } }, "reconcile failed");
      if (typed instanceof InternalError && this.#internalErrors.firstSeen(err)) {
        // The stack is what fixes a bug; once per distinct error, not on every retry of every app it hits.
        ctx.log.error({ err: { type: errorName(err), message: typed.message, stack: redactSecrets(errorStack(err), ctx.secrets) } }, "internal error (a bug in Tack?)");
      }
      next = errorStatus(ctx, typed);
      ctx.events.push(["Warning", typed.conditionType === ConditionType.InvalidSpecError ? EventReason.InvalidSpec : EventReason.ComparisonError, typed.message]);
      if (!typed.terminal && !deps.signal.aborted) result = { retry: true };
    } finally {
      try {
        if (!deps.signal.aborted || next.operationState?.phase !== OperationPhase.Running) await writeStatus(ctx, next);
        if (refresh !== undefined) {
          this.#ownWrites.record(key, await deps.writer.patchApplication(namespace, name,
            { metadata: { annotations: { [Annotation.Refresh]: null, [Annotation.ArgoRefresh]: null } } }));
        }
      } catch (err) {
        ctx.log.warn({ err: { message: redactSecrets(errorMessage(err), ctx.secrets) } }, "could not write status");
        result = { retry: true };
      }
      this.#recordEvents(ctx);
      recordMetrics(ctx, next);
      deps.metrics.observeReconcile(namespace, name, (performance.now() - started) / 1000);
    }
    return result;
  }

  #context(key: string, app: Application, requeue: (ms: number) => void): ReconcileContext {
    const deps = this.#deps;
    return {
      deps, key, app, ref: { namespace: app.metadata.namespace, name: app.metadata.name },
      log: deps.logger.child({ application: key }), memory: this.#memories.of(key), ownWrites: this.#ownWrites,
      // The status as stored: replaced after each of our own writes (the informer's copy is never mutated).
      previous: app.status ?? {}, events: [], secrets: [], requeue,
      now: () => deps.now?.() ?? new Date(),
    };
  }

  #typed(ctx: ReconcileContext, err: unknown): { reason: string; message: string } {
    const typed = toTackError(err, ctx.secrets);
    return { reason: typed.reason, message: typed.message };
  }

  #recordEvents(ctx: ReconcileContext): void {
    for (const [type, reason, message] of ctx.events) this.#deps.events.record(ctx.app, type, reason, redactSecrets(message, ctx.secrets));
  }
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
