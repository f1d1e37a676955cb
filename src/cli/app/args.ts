// A small, strict flag parser for the `tack app` commands: `--flag value`, `--flag=value`, `-n value`,
// booleans as `--prune` or `--prune=false`, `--` ends the flags. An unknown flag or a missing value is a
// usage error (exit 2) that names the flag.
import { UsageError } from "./errors.ts";

export interface FlagSpec {
  /** Takes a value (`--timeout 30`); otherwise a boolean (`--prune`, `--prune=false`). */
  value?: boolean;
  short?: string;
  /** May be given more than once (values collected). */
  repeat?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface Parsed {
  flags: Map<string, string[]>;
  positional: string[];
}

/** Flags every `tack app` command takes. */
export const COMMON_FLAGS: FlagSpecs = {
  help: { short: "h" },
  kubeconfig: { value: true },
  context: { value: true },
  namespace: { value: true, short: "n" },
};

export function parseArgs(command: string, args: string[], specs: FlagSpecs): Parsed {
  const all: FlagSpecs = { ...COMMON_FLAGS, ...specs };
  const byShort = new Map(Object.entries(all).filter(([, s]) => s.short).map(([name, s]) => [s.short!, name]));
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") { positional.push(...args.slice(i + 1)); break; }
    if (!arg.startsWith("-") || arg === "-") { positional.push(arg); continue; }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      const short = arg.slice(1, 2);
      name = byShort.get(short);
      const rest = arg.slice(2);
      inline = rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest;
      if (!name) throw new UsageError(`${command}: unknown flag -${short}`);
    }
    const spec = all[name];
    if (!spec) throw new UsageError(`${command}: unknown flag --${name}`);
    let value: string;
    if (spec.value) {
      if (inline !== undefined) value = inline;
      else {
        const next = args[++i];
        if (next === undefined) throw new UsageError(`${command}: flag --${name} needs a value`);
        value = next;
      }
    } else {
      value = inline ?? "true";
      if (value !== "true" && value !== "false") throw new UsageError(`${command}: flag --${name} is true or false, not '${value}'`);
    }
    const list = flags.get(name) ?? [];
    if (list.length > 0 && !spec.repeat) list.length = 0;   // the last one wins, as with kubectl
    list.push(value);
    flags.set(name, list);
  }
  return { flags, positional };
}

export function flag(parsed: Parsed, name: string): string | undefined {
  const list = parsed.flags.get(name);
  return list?.[list.length - 1];
}

export function bool(parsed: Parsed, name: string, fallback = false): boolean {
  const value = flag(parsed, name);
  return value === undefined ? fallback : value === "true";
}

/** A duration flag: plain seconds (`30`) or with a unit (`90s`, `5m`, `1h`); 0 or absent = no limit. */
export function seconds(command: string, parsed: Parsed, name: string): number | undefined {
  const value = flag(parsed, name);
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new UsageError(`${command}: --${name} '${value}' is not a duration (e.g. 30, 90s, 5m)`);
  const n = Number(match[1]);
  const unit = match[2] ?? "s";
  const factor = unit === "ms" ? 0.001 : unit === "s" ? 1 : unit === "m" ? 60 : 3600;
  return n * factor || undefined;
}

export function outputFormat<T extends string>(command: string, parsed: Parsed, allowed: readonly T[]): T | undefined {
  const value = flag(parsed, "output");
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${command}: -o ${value} is not supported here; use one of: ${allowed.join(", ")}`);
  }
  return value as T;
}
