// Output helpers: aligned tables as kubectl prints them, ages, short revisions, YAML/JSON, ANSI colour.
import { dump } from "js-yaml";
import type { OperationState } from "../../api/index.ts";

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** kubectl's age format: 45s, 12m, 3h, 5d, 2y (two units while small: 3m20s, 5h10m). */
export function age(since: string | undefined, now: Date = new Date()): string {
  if (!since) return "<unknown>";
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1000));
  if (!Number.isFinite(seconds)) return "<unknown>";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60 ? `${seconds % 60}s` : ""}`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ""}`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  return days < 730 ? `${days}d` : `${Math.floor(days / 365)}y`;
}

/**
 * A status timestamp (RFC 3339, as the API server and the controller write them) in the reader's time zone, to
 * the second, with its offset: 2026-12-02 18:45:41 +01:00. Unparseable input is shown as it is.
 */
export function timestamp(value: string | undefined): string {
  if (!value) return "";
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) return value;
  const two = (n: number) => String(n).padStart(2, "0");
  const offset = -t.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  const zone = `${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())} ${zone}`;
}

/** A timestamp and how long ago it was: 2026-12-02 18:45:41 +00:00 (3m20s ago). */
export function timestampWithAge(value: string | undefined, now: Date = new Date()): string {
  return value ? `${timestamp(value)} (${age(value, now)} ago)` : "";
}

/**
 * What an operation did, in words. The controller's message for a dry run reads like a real sync
 * ("successfully synced (3 applied, …)"); a dry run changed nothing, so it is told as what a sync would do
 * (callers name the phase with "dry run" beside it: operationPhase).
 */
export function operationOutcome(op: OperationState): string {
  if (op.operation?.sync?.dryRun !== true) return op.message ?? "";
  if (op.phase !== "Succeeded") return `${op.message ? `${op.message}; ` : ""}nothing was changed`;
  const results = op.syncResult?.resources ?? [];
  const wouldApply = results.filter((r) => r.status === "Synced" && !r.hookType).length;
  const wouldPrune = results.filter((r) => r.status === "Pruned").length;
  return `nothing was changed; a sync would apply ${wouldApply} and prune ${wouldPrune} object(s)`;
}

/** The operation's phase, marked when it was a dry run: "Succeeded (dry run)". */
export function operationPhase(op: OperationState): string {
  return `${op.phase}${op.operation?.sync?.dryRun === true ? " (dry run)" : ""}`;
}

export function shortRevision(revision: string | undefined): string {
  if (!revision) return "";
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}

export function toYaml(value: unknown): string {
  return dump(value, { noRefs: true, lineWidth: -1, sortKeys: false });
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export interface Colours {
  red: (s: string) => string;
  green: (s: string) => string;
  cyan: (s: string) => string;
  bold: (s: string) => string;
  dim: (s: string) => string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

export function colours(enabled: boolean): Colours {
  return enabled
    ? { red: wrap(31, 39), green: wrap(32, 39), cyan: wrap(36, 39), bold: wrap(1, 22), dim: wrap(2, 22) }
    : { red: plain, green: plain, cyan: plain, bold: plain, dim: plain };
}

/** --color / --color=always|never|auto, NO_COLOR, else a terminal. */
export function colourEnabled(value: string | undefined, isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  if (value === "true" || value === "always") return true;
  if (value === "false" || value === "never") return false;
  if (env.NO_COLOR) return false;
  return isTTY;
}
