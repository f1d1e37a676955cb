// Output helpers: aligned tables as kubectl prints them, ages, short revisions, YAML/JSON, ANSI colour.
import { dump } from "js-yaml";

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
