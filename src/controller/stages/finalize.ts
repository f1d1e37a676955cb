// Stage "finalize": deletion of an Application. Without a cascade finalizer Kubernetes removes it and its objects
// stay. With `resources-finalizer.tack.dev` (or Argo CD's; `/background` for background propagation) every object it
// owns (by tracking id, never another app's, never one marked Delete=false) is deleted and gone before the
// PostDelete hooks run, and only then is the finalizer removed. A failure is a DeletionError condition and an Event,
// and is retried with backoff: the Application stays until its objects are gone.
import type { Application, ApplicationStatus } from "../../api/index.ts";
import { isOwnedBy, resourcesFinalizer } from "../../api/index.ts";
import { KubeApiError } from "../../cluster/index.ts";
import { ConditionType } from "../../errors.ts";
import { assessHealth } from "../../health/index.ts";
import { hookOutcome } from "../../sync/engine.ts";
import { hasOption, hookSpec, objectSyncOptions } from "../../sync/plan.ts";
import type { TargetCluster } from "../clusters.ts";
import { nextConditions } from "../conditions.ts";
import { EventReason } from "../events.ts";
import type { ProcessResult } from "../queue.ts";
import { repoCredentials } from "../credentials.ts";
import { watchTypes } from "./compare.ts";
import type { ReconcileContext } from "./context.ts";
import { loadSource, type Loaded } from "./source.ts";

export async function finalize(ctx: ReconcileContext, toTackMessage: (err: unknown) => { reason: string; message: string }): Promise<ProcessResult> {
  const { app, deps } = ctx;
  const finalizer = resourcesFinalizer(app.metadata.finalizers);
  if (!finalizer) return {};
  const log = ctx.log.child({ finalizer });
  const policy = finalizer.endsWith("/background") ? "Background" : "Foreground";
  try {
    const target = deps.clusters.resolve(app.spec.destination ?? {});
    deps.clusters.assertReachable(target);
    await watchTypes(target, { desired: [], hooks: [] }, app.status?.resources ?? []);
    const owned = target.ownership.owned(ctx.key)
      .map((o) => ({ ...o, live: target.cache.get(o.type, o.key.namespace, o.key.name) }))
      .filter((o) => o.live && isOwnedBy(o.live, ctx.ref) && !hookSpec(o.live));
    const remaining = owned.filter((o) => !hasOption(objectSyncOptions(o.live), "Delete", "false"));
    for (const o of remaining) {
      if (o.live!.metadata.deletionTimestamp) continue;
      await target.writer.delete(o.type, o.key.namespace || undefined, o.key.name, o.live!.metadata.uid!, policy).catch((err: unknown) => {
        if (!(err instanceof KubeApiError && (err.isNotFound || err.isConflict))) throw err;
      });
    }
    await clearDeletionError(ctx);
    if (remaining.length > 0) {
      log.info({ remaining: remaining.length }, "waiting for the application's objects to be deleted");
      return { requeueAfterMs: 1_000 };
    }
    if (await runPostDeleteHooks(ctx, target) === "waiting") return { requeueAfterMs: 1_000 };
    await deps.writer.patchApplication(app.metadata.namespace, app.metadata.name, {
      metadata: { finalizers: (app.metadata.finalizers ?? []).filter((f) => f !== finalizer), resourceVersion: app.metadata.resourceVersion },
    });
    log.info("cascade deletion finished; finalizer removed");
    return {};
  } catch (err) {
    const { reason, message } = toTackMessage(err);
    log.warn({ err: { reason, message } }, "cascade deletion failed; retrying");
    ctx.events.push(["Warning", EventReason.DeletionFailed, `Cascade deletion failed: ${message}`]);
    await setDeletionError(ctx, reason, message).catch((writeErr: unknown) =>
      log.warn({ err: { message: String(writeErr) } }, "could not write the DeletionError condition"));
    return { retry: true };
  }
}

async function setDeletionError(ctx: ReconcileContext, reason: string, message: string): Promise<void> {
  const status = ctx.previous;
  const conditions = nextConditions(status.conditions, [{ type: ConditionType.DeletionError, status: "True", reason, message }],
    ctx.now().toISOString(), ctx.app.metadata.generation);
  await patchConditions(ctx, status, conditions);
}

async function clearDeletionError(ctx: ReconcileContext): Promise<void> {
  const status = ctx.previous;
  if (!status.conditions?.some((c) => c.type === ConditionType.DeletionError)) return;
  await patchConditions(ctx, status, status.conditions.filter((c) => c.type !== ConditionType.DeletionError));
}

async function patchConditions(ctx: ReconcileContext, status: ApplicationStatus, conditions: NonNullable<ApplicationStatus["conditions"]>): Promise<void> {
  const { namespace, name } = ctx.app.metadata;
  const updated = await ctx.deps.writer.patchApplicationStatus(namespace, name, { conditions });
  ctx.ownWrites.record(ctx.key, updated);
  ctx.previous = (updated as unknown as Application).status ?? { ...status, conditions };
}

/** PostDelete hooks, created once and followed to completion; "done" when there are none or all finished. */
async function runPostDeleteHooks(ctx: ReconcileContext, target: TargetCluster): Promise<"done" | "waiting"> {
  const { app, deps, log, memory } = ctx;
  const source = app.spec.source;
  if (!source) return "done";
  let loaded: Loaded;
  try {
    loaded = await loadSource(ctx, target, source, source.targetRevision ?? "HEAD", repoCredentials(deps.repoSecrets, source.repoURL));
  } catch (err) {
    // A repository that is gone must not keep the Application forever: its PostDelete hooks cannot run.
    log.warn({ err: { message: String(err) } }, "PostDelete hooks skipped: the source cannot be rendered");
    return "done";
  }
  const hooks = loaded.hooks.filter((h) => h.spec.types.includes("PostDelete"));
  if (hooks.length === 0) return "done";
  await watchTypes(target, { desired: [], hooks }, []);
  const rules = deps.healthRules();
  let waiting = false;
  for (const hook of hooks) {
    const name = hook.desired.metadata.name;
    const live = name ? target.cache.get(hook.type, hook.key.namespace, name) : undefined;
    if (!live) {
      if (!memory.postDeleteCreated.has(hook.id)) {
        await (name ? target.writer.apply(hook.type, hook.desired) : target.writer.create(hook.type, hook.desired));
        memory.postDeleteCreated.add(hook.id);
      }
      waiting = true;
      continue;
    }
    const outcome = hookOutcome(live, assessHealth(live, rules));
    if (outcome.phase === "Running") waiting = true;
    else if (outcome.phase === "Failed") {
      log.warn({ hook: hook.id, message: outcome.message }, "PostDelete hook failed");
      ctx.events.push(["Warning", EventReason.PostDeleteHookFailed, `PostDelete hook ${hook.id} failed: ${outcome.message ?? ""}`.trim()]);
    }
  }
  if (!waiting) memory.postDeleteCreated.clear();
  return waiting ? "waiting" : "done";
}
