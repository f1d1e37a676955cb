// Sync windows: when an AppProject lets an Application sync. Pure: the caller passes `now`.
//
// Semantics follow Argo CD's SyncWindows.CanSync:
// - Only windows that match the app count: any `applications` glob matches the app's name, any `namespaces`
//   glob its destination namespace, or any `clusters` glob its destination server or name. A window with
//   none of the three matches nothing. No matching window: every sync is allowed.
// - An active deny window blocks, unless the sync is manual and every active deny window has manualSync.
//   Deny beats allow.
// - Else an active allow window allows.
// - Else, when allow windows exist (all inactive), the sync is blocked unless it is manual and every one of
//   those allow windows has manualSync.
// - Else allowed.
// A window is active in [start, start + duration) for each start its cron schedule produces.
//
// Where Tack differs from Argo CD, deliberately (docs/adr/0004):
// - Time zones: the schedule is evaluated on the wall clock of `timeZone` (IANA name, default UTC) at each
//   instant, so windows follow daylight-saving changes. Argo CD applies the zone's offset of the current
//   moment to every start, which shifts windows by an hour around a DST change. A start time that does not
//   exist (spring forward) opens at the first valid time after the gap; one that occurs twice (fall back)
//   opens once, at the first occurrence (Vixie cron's rule, as croner implements it).
// - A window whose schedule, duration or time zone is invalid fails closed: the sync is refused with a
//   message naming the window. (Argo CD falls back to UTC for a bad time zone.)
import { Cron } from "croner";
import type { SyncWindowSchema } from "../api/index.ts";
import type { z } from "zod";
import { globMatch } from "./glob.ts";

export type SyncWindow = z.infer<typeof SyncWindowSchema>;

/** What a sync window is matched against. */
export interface WindowTarget {
  name: string;
  spec: { destination: { server?: string | undefined; name?: string | undefined; namespace?: string | undefined } };
}

export interface SyncWindowState {
  allowed: boolean;
  /** Why, in one sentence that names the deciding window(s). */
  reason: string;
}

export interface SyncWindowOptions {
  /** The destination cluster's name when the app names it by server (or its server when by name). */
  destinationName?: string;
  destinationServer?: string;
  /** For messages only. */
  projectName?: string;
}

/** Go's time.ParseDuration for non-negative values ("1h", "90m", "1h30m", "1.5h", "300ms"), in ms. */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0") return 0;
  if (!/^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))*$/.test(s)) return undefined;
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(m[1]) * unitMs[m[2]!]!;
  return Number.isFinite(total) ? total : undefined;
}

const cronCache = new Map<string, Cron>();

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function cronFor(schedule: string, timeZone: string): Cron {
  const key = `${timeZone}\u0000${schedule}`;
  let cron = cronCache.get(key);
  if (!cron) {
    // No function argument: croner only evaluates, it starts no timer. 5-part: minute hour dom month dow, as
    // Argo CD's parser; day-of-month and day-of-week combine with OR as in Vixie cron and robfig/cron.
    cron = new Cron(schedule, { timezone: timeZone, mode: "5-part", paused: true });
    if (cronCache.size >= 1_000) cronCache.clear();
    cronCache.set(key, cron);
  }
  return cron;
}

/** Describes a window in messages: deny window '0 22 * * *' for 1h (Europe/Berlin). */
export function describeWindow(w: SyncWindow): string {
  return `${w.kind} window '${w.schedule}' for ${w.duration}${w.timeZone ? ` (${w.timeZone})` : ""}${w.manualSync ? " with manualSync" : ""}`;
}

/**
 * Whether the window is open at `now`; a string when the window is invalid (its schedule, duration or time
 * zone), naming what is wrong.
 */
export function windowActive(w: SyncWindow, now: Date): boolean | string {
  const durationMs = parseGoDuration(w.duration);
  if (durationMs === undefined) return `duration '${w.duration}' is not a duration such as 1h or 30m`;
  const tz = w.timeZone || "UTC";
  if (!isValidTimeZone(tz)) return `time zone '${tz}' is not an IANA time zone such as Europe/Berlin`;
  let cron: Cron;
  try {
    cron = cronFor(w.schedule, tz);
  } catch (err) {
    return `schedule '${w.schedule}' is not a 5-field cron expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (durationMs <= 0) return false;
  // The first start strictly after now - duration; the window is open iff that start is not after now.
  let start: Date | null;
  try {
    start = cron.nextRun(new Date(now.getTime() - durationMs));
  } catch (err) {
    return `schedule '${w.schedule}' cannot be evaluated: ${err instanceof Error ? err.message : String(err)}`;
  }
  return start !== null && start.getTime() <= now.getTime();
}

/** Whether the window applies to the app (applications, namespaces or clusters globs). */
export function windowMatches(w: SyncWindow, app: WindowTarget, opts: SyncWindowOptions = {}): boolean {
  const dst = app.spec.destination;
  if (w.applications?.some((p) => globPlain(p, app.name))) return true;
  const names = [dst.name, opts.destinationName].filter((v): v is string => !!v);
  const servers = [dst.server, opts.destinationServer].filter((v): v is string => !!v);
  if (w.clusters?.some((p) => names.some((n) => globPlain(p, n)) || servers.some((s) => globPlain(p, s)))) return true;
  if (w.namespaces?.some((p) => globPlain(p, dst.namespace ?? ""))) return true;
  return false;
}

function globPlain(pattern: string, value: string): boolean {
  return pattern === "*" || globMatch(pattern, value);
}

/** The Argo CD CanSync decision for `app` at `now`, with the reason in words. */
export function syncWindowState(
  windows: readonly SyncWindow[] | undefined, app: WindowTarget, now: Date, manual: boolean, opts: SyncWindowOptions = {},
): SyncWindowState {
  const project = opts.projectName ? ` of project '${opts.projectName}'` : "";
  const matching = (windows ?? []).filter((w) => windowMatches(w, app, opts));
  if (matching.length === 0) return { allowed: true, reason: "no sync window applies" };

  const activeDeny: SyncWindow[] = [];
  const activeAllow: SyncWindow[] = [];
  const inactiveAllow: SyncWindow[] = [];
  for (const w of matching) {
    const active = windowActive(w, now);
    if (typeof active === "string") {
      return { allowed: false, reason: `sync refused: ${describeWindow(w)}${project} is invalid (${active})` };
    }
    if (w.kind === "deny" && active) activeDeny.push(w);
    else if (w.kind === "allow") (active ? activeAllow : inactiveAllow).push(w);
  }
  const list = (ws: SyncWindow[]) => ws.map(describeWindow).join(", ");

  if (activeDeny.length > 0) {
    if (manual && activeDeny.every((w) => w.manualSync)) {
      return { allowed: true, reason: `manual sync allowed during ${list(activeDeny)}${project}` };
    }
    return {
      allowed: false,
      reason: `sync blocked by ${list(activeDeny)}${project}${manual ? "" : " (automated sync)"}`,
    };
  }
  if (activeAllow.length > 0) return { allowed: true, reason: `inside ${list(activeAllow)}${project}` };
  if (inactiveAllow.length > 0) {
    if (manual && inactiveAllow.every((w) => w.manualSync)) {
      return { allowed: true, reason: `manual sync allowed outside ${list(inactiveAllow)}${project}` };
    }
    return { allowed: false, reason: `sync blocked: outside every allow window (${list(inactiveAllow)})${project}` };
  }
  return { allowed: true, reason: "no active sync window" };
}
