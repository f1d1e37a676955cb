// Commands that change an Application: sync, refresh, rollback, wait, delete. They write only what a user
// could write with kubectl (the `operation` field, the refresh annotation, finalizers, a delete); the
// controller does the work, and these commands follow its progress on the Application's status.
import type { Application, Operation } from "../../api/index.ts";
import { Annotation, Finalizer, OperationPhase, resourcesFinalizer } from "../../api/index.ts";
import { KubeApiError } from "../../cluster/index.ts";
import { RESULT_COLUMNS, resultRow } from "../../sync/results.ts";
import { bool, flag, seconds, type Parsed } from "./args.ts";
import { controllerNamespace, sleep, type CliIO, type Session } from "./context.ts";
import { CliError, UsageError } from "./errors.ts";
import { operationOutcome, operationPhase, shortRevision, table, timestampWithAge } from "./format.ts";
import { isAutomated, oneName } from "./view.ts";

/** Added by `tack app delete` (cascade): the controller deletes the app's resources, then removes it. */
export const RESOURCES_FINALIZER = Finalizer.Resources;
/** Ours or Argo CD's, with or without a propagation suffix (".../background"): the controller honours them all. */
function isResourcesFinalizer(f: string): boolean {
  return resourcesFinalizer([f]) !== undefined;
}
const TERMINAL = new Set<string>([OperationPhase.Succeeded, OperationPhase.Failed, OperationPhase.Error]);

function isConflict(err: unknown): boolean {
  return err instanceof CliError && err.cause instanceof KubeApiError && err.cause.isConflict;
}

function clock(): string { return new Date().toTimeString().slice(0, 8); }

function deadline(timeoutSeconds: number | undefined): number {
  return timeoutSeconds ? Date.now() + timeoutSeconds * 1000 : Number.POSITIVE_INFINITY;
}

function operationInProgress(app: Application): string | undefined {
  if (app.operation?.sync) return `a sync requested by ${app.operation.initiatedBy?.username ?? "someone"} is waiting for the controller`;
  const state = app.status?.operationState;
  if (state?.phase === OperationPhase.Running) return `a sync is running since ${timestampWithAge(state.startedAt) || "?"}`;
  return undefined;
}

export async function syncCommand(parsed: Parsed, session: Session, io: CliIO): Promise<number> {
  const name = oneName("tack app sync", parsed);
  const timeout = seconds("tack app sync", parsed, "timeout");
  const app = await session.apps.get(session.namespace, name);
  const revision = flag(parsed, "revision");
  return startSync(session, io, app, {
    ...(revision ? { revision } : {}),
    ...(bool(parsed, "prune") ? { prune: true } : {}),
    ...(bool(parsed, "dry-run") ? { dryRun: true } : {}),
  }, { async: bool(parsed, "async"), timeout, what: "sync" });
}

async function startSync(session: Session, io: CliIO, app: Application, sync: NonNullable<Operation["sync"]>,
  opts: { async: boolean; timeout: number | undefined; what: string }): Promise<number> {
  const { namespace, name } = app.metadata;
  const busy = operationInProgress(app);
  if (busy) {
    throw new CliError(`cannot start a ${opts.what} of ${namespace}/${name}: ${busy}. Wait for it with: tack app wait ${name} -n ${namespace} --operation`, 1);
  }
  let current = app;
  const operation: Operation = { sync, initiatedBy: { username: session.username } };
  for (let attempt = 0; ; attempt++) {
    try {
      // resourceVersion makes the write conditional: an operation someone else set meanwhile is not overwritten.
      await session.apps.mergePatch(namespace, name, { metadata: { resourceVersion: current.metadata.resourceVersion }, operation });
      break;
    } catch (err) {
      // The controller writes status often (each write bumps resourceVersion): read again, check again, retry.
      if (attempt >= 5 || !isConflict(err)) throw err;
      current = await session.apps.get(namespace, name);
      const nowBusy = operationInProgress(current);
      if (nowBusy) throw new CliError(`cannot start a ${opts.what} of ${namespace}/${name}: ${nowBusy}. Wait for it with: tack app wait ${name} -n ${namespace} --operation`, 1);
    }
  }
  const before = current.status?.operationState?.startedAt;
  const details = [sync.revision ? `revision ${sync.revision}` : "", sync.prune ? "prune" : "", sync.dryRun ? "dry run" : ""].filter(Boolean);
  io.stderr(`${opts.what === "rollback" ? "Rollback" : "Sync"} of ${namespace}/${name} requested${details.length ? ` (${details.join(", ")})` : ""}.\n`);
  if (opts.async) return 0;
  return followOperation(session, io, namespace, name, before, opts.timeout);
}

/** Follows the operation that starts after `before` until it finishes; prints each change of phase. */
async function followOperation(session: Session, io: CliIO, namespace: string, name: string, before: string | undefined,
  timeout: number | undefined): Promise<number> {
  const until = deadline(timeout);
  let last = "";
  const say = (line: string) => { if (line !== last) { io.stderr(`${clock()}  ${line}\n`); last = line; } };
  for (;;) {
    const app = await session.apps.get(namespace, name);
    const state = app.status?.operationState;
    const ours = state && state.startedAt !== before ? state : undefined;
    if (!ours) {
      const problem = app.status?.conditions?.find((c) => (c.type === "InvalidSpecError" || c.type === "ComparisonError") && c.status === "True");
      say(problem ? `waiting for the controller: ${problem.type}: ${problem.message ?? problem.reason ?? ""}` : "waiting for the controller to start the operation");
    } else {
      const outcome = operationOutcome(ours);
      say(`${operationPhase(ours)}${outcome ? `: ${outcome}` : ""}`);
      if (TERMINAL.has(ours.phase) && !app.operation?.sync) {
        const results = ours.syncResult?.resources ?? [];
        if (results.length > 0) {
          io.stdout(table([...RESULT_COLUMNS], results.map(resultRow)));
        }
        // The full commit: what was deployed, checkable against `git log`, even when the branch moved on since.
        const what = ours.operation?.sync?.dryRun ? "Dry run" : "Operation";
        io.stdout(`${what} ${ours.phase}${ours.syncResult?.revision ? ` at ${ours.syncResult.revision}` : ""}: ${outcome}\n`);
        if (ours.phase === OperationPhase.Succeeded) return 0;
        throw new CliError(`sync of ${namespace}/${name} ${ours.phase.toLowerCase()}: ${ours.message ?? "see tack app get " + name}`, 1);
      }
    }
    if (Date.now() >= until) {
      throw new CliError(`timed out after ${timeout}s waiting for the operation on ${namespace}/${name} (last: ${last}); ` +
        `the controller may not be running: kubectl -n ${controllerNamespace(io.env)} get pods`, 1);
    }
    await sleep(io.pollIntervalMs ?? 1000);
  }
}

export async function rollbackCommand(parsed: Parsed, session: Session, io: CliIO): Promise<number> {
  const [name, idText, ...extra] = parsed.positional;
  if (!name || idText === undefined) throw new UsageError("tack app rollback: usage: tack app rollback NAME ID (tack app history NAME lists the ids)");
  if (extra.length > 0) throw new UsageError(`tack app rollback: unexpected arguments '${extra.join(" ")}'`);
  if (!/^\d+$/.test(idText)) throw new UsageError(`tack app rollback: ID '${idText}' is not a number (tack app history ${name} lists the ids)`);
  const app = await session.apps.get(session.namespace, name);
  const { namespace } = app.metadata;
  if (isAutomated(app)) {
    throw new CliError(`cannot roll back ${namespace}/${name}: automated sync is on and would sync it back to '${app.spec.source?.targetRevision || "HEAD"}' at once.\n` +
      `Turn it off first: kubectl -n ${namespace} patch applications.tack.dev ${name} --type merge -p '{"spec":{"syncPolicy":{"automated":{"enabled":false}}}}'`, 1);
  }
  const entry = app.status?.history?.find((h) => h.id === Number(idText));
  if (!entry) {
    const ids = (app.status?.history ?? []).map((h) => h.id).join(", ");
    throw new UsageError(`tack app rollback: ${namespace}/${name} has no history entry ${idText} (${ids ? `ids: ${ids}` : "it has no history"}; tack app history ${name})`);
  }
  return startSync(session, io, app, { revision: entry.revision, ...(bool(parsed, "prune") ? { prune: true } : {}) },
    { async: bool(parsed, "async"), timeout: seconds("tack app rollback", parsed, "timeout"), what: "rollback" });
}

export async function refreshCommand(parsed: Parsed, session: Session, io: CliIO): Promise<number> {
  const name = oneName("tack app refresh", parsed);
  const hard = bool(parsed, "hard");
  await session.apps.mergePatch(session.namespace, name, { metadata: { annotations: { [Annotation.Refresh]: hard ? "hard" : "normal" } } });
  io.stderr(`${hard ? "Hard refresh" : "Refresh"} of ${session.namespace}/${name} requested.\n`);
  if (bool(parsed, "async")) return 0;
  const timeout = seconds("tack app refresh", parsed, "timeout") ?? 120;
  const until = deadline(timeout);
  for (;;) {
    const app = await session.apps.get(session.namespace, name);
    if (app.metadata.annotations?.[Annotation.Refresh] === undefined) {
      const s = app.status;
      io.stdout(`${session.namespace}/${name}: ${s?.sync?.status ?? "Unknown"}${s?.sync?.revision ? ` to ${shortRevision(s.sync.revision)}` : ""}, ${s?.health?.status ?? "Unknown"}\n`);
      return 0;
    }
    if (Date.now() >= until) {
      throw new CliError(`the controller has not taken the refresh of ${session.namespace}/${name} within ${timeout}s; is it running? (kubectl -n ${controllerNamespace(io.env)} get pods)`, 1);
    }
    await sleep(io.pollIntervalMs ?? 1000);
  }
}

export async function waitCommand(parsed: Parsed, session: Session, io: CliIO): Promise<number> {
  const name = oneName("tack app wait", parsed);
  let wantSync = bool(parsed, "sync");
  let wantHealth = bool(parsed, "health");
  let wantOperation = bool(parsed, "operation");
  if (!wantSync && !wantHealth && !wantOperation) wantSync = wantHealth = wantOperation = true;
  const timeout = seconds("tack app wait", parsed, "timeout");
  const until = deadline(timeout);
  const goals = [wantSync ? "Synced" : "", wantHealth ? "Healthy" : "", wantOperation ? "no operation running" : ""].filter(Boolean).join(", ");
  let last = "";
  for (let first = true; ; first = false) {
    const app = await session.apps.get(session.namespace, name);
    if (first) io.stderr(`Waiting for ${session.namespace}/${name}: ${goals}${timeout ? ` (timeout ${timeout}s)` : ""}\n`);
    const s = app.status ?? {};
    const sync = s.sync?.status ?? "Unknown";
    const health = s.health?.status ?? "Unknown";
    const busy = operationInProgress(app);
    // A status older than the spec says nothing about the spec: wait for the controller to observe it.
    const current = s.observedGeneration === undefined || app.metadata.generation === undefined || s.observedGeneration >= app.metadata.generation;
    const line = `sync=${sync} health=${health}${s.health?.message && health !== "Healthy" ? ` (${s.health.message})` : ""}` +
      `${busy ? ` operation: ${busy}` : s.operationState ? ` last operation=${s.operationState.phase}` : ""}${current ? "" : " (status not yet current)"}`;
    if (line !== last) { io.stderr(`${clock()}  ${line}\n`); last = line; }
    const done = current && (!wantSync || sync === "Synced") && (!wantHealth || health === "Healthy") && (!wantOperation || !busy);
    if (done) { io.stdout(`${session.namespace}/${name}: ${sync}, ${health}\n`); return 0; }
    if (Date.now() >= until) throw new CliError(`timed out after ${timeout}s waiting for ${session.namespace}/${name} to be ${goals} (now: ${line})`, 1);
    await sleep(Math.min(io.pollIntervalMs ?? 1000, Math.max(0, until - Date.now())));
  }
}

export async function deleteCommand(parsed: Parsed, session: Session, io: CliIO): Promise<number> {
  const name = oneName("tack app delete", parsed);
  const cascade = bool(parsed, "cascade", true);
  const { namespace } = session;
  let app = await session.apps.get(namespace, name);
  if (!bool(parsed, "yes") && io.confirm) {
    const what = cascade ? `${namespace}/${name} and every resource it manages` : `${namespace}/${name} (its resources stay)`;
    if (!(await io.confirm(`Delete ${what}? [y/N] `))) { io.stderr("Nothing deleted.\n"); return 1; }
  }
  for (let attempt = 0; ; attempt++) {
    const finalizers = app.metadata.finalizers ?? [];
    const has = finalizers.some(isResourcesFinalizer);
    if (cascade === has) break;
    const next = cascade ? [...finalizers, RESOURCES_FINALIZER] : finalizers.filter((f) => !isResourcesFinalizer(f));
    try {
      await session.apps.mergePatch(namespace, name, { metadata: { resourceVersion: app.metadata.resourceVersion, finalizers: next } });
      break;
    } catch (err) {
      // Someone wrote the app meanwhile: read it again (finalizers are a list; a blind write could drop theirs).
      if (attempt >= 5 || !isConflict(err)) throw err;
      app = await session.apps.get(namespace, name);
    }
  }
  await session.apps.delete(namespace, name, "Background");
  io.stdout(cascade
    ? `application.tack.dev/${name} deleted (namespace ${namespace}); finalizer ${RESOURCES_FINALIZER}: the controller deletes its resources, then the Application goes\n`
    : `application.tack.dev/${name} deleted (namespace ${namespace}); its resources were left in place\n`);
  if (!bool(parsed, "wait")) return 0;
  const timeout = seconds("tack app delete", parsed, "timeout");
  const until = deadline(timeout);
  for (;;) {
    try {
      await session.apps.get(namespace, name);
    } catch (err) {
      if (err instanceof CliError && err.message.startsWith(`application '${name}' not found`)) return 0;
      throw err;
    }
    if (Date.now() >= until) throw new CliError(`timed out after ${timeout}s waiting for ${namespace}/${name} to go (finalizers still pending)`, 1);
    await sleep(io.pollIntervalMs ?? 1000);
  }
}
