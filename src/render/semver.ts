// Semantic versions and constraints as Helm reads them (Masterminds/semver v3): a chart's `targetRevision` may
// be an exact version or a range such as `^1.2`, `~1.2.3`, `>=1.0 <2.0`, `1.2.x`, `1.2 - 1.4` or `*`, with
// `||` between alternatives and `,` or spaces between conditions that must all hold. Pre-releases match only
// a constraint that itself names a pre-release, as in Masterminds.

export interface SemVer { major: number; minor: number; patch: number; prerelease: string[]; raw: string }

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseVersion(text: string): SemVer | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), prerelease: m[4] ? m[4].split(".") : [], raw: text };
}

export function compareVersions(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) { if (Number(x) !== Number(y)) return Number(x) - Number(y); continue; }
    if (xn !== yn) return xn ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

type Check = (v: SemVer) => boolean;
interface Condition { check: Check; prerelease: boolean }

const PARTIAL = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

interface Partial { major?: number; minor?: number; patch?: number; prerelease: string[] }

function parsePartial(text: string): Partial | undefined {
  const m = PARTIAL.exec(text);
  if (!m) return undefined;
  const num = (s: string | undefined) => (s === undefined || /^[xX*]$/.test(s) ? undefined : Number(s));
  const major = num(m[1]);
  const minor = major === undefined ? undefined : num(m[2]);
  const patch = minor === undefined ? undefined : num(m[3]);
  return { major, minor, patch, prerelease: m[4] ? m[4].split(".") : [] };
}

function floor(p: Partial): SemVer {
  return { major: p.major ?? 0, minor: p.minor ?? 0, patch: p.patch ?? 0, prerelease: p.prerelease, raw: "" };
}

const cmp = (a: SemVer, b: SemVer) => compareVersions(a, b);
const ver = (major: number, minor: number, patch: number): SemVer => ({ major, minor, patch, prerelease: [], raw: "" });

function condition(op: string, p: Partial): Check {
  const lo = floor(p);
  // The first version past the range a partial version names (1.2 → 1.3.0, 1 → 2.0.0).
  const next = p.major === undefined ? undefined : p.minor === undefined ? ver(p.major + 1, 0, 0)
    : p.patch === undefined ? ver(p.major, p.minor + 1, 0) : undefined;
  switch (op) {
    case "": case "=":
      if (p.major === undefined) return () => true;
      return next ? (v) => cmp(v, lo) >= 0 && cmp(v, next) < 0 : (v) => cmp(v, lo) === 0;
    case "!=":
      if (p.major === undefined) return () => false;
      return next ? (v) => cmp(v, lo) < 0 || cmp(v, next) >= 0 : (v) => cmp(v, lo) !== 0;
    case ">": return next ? (v) => cmp(v, next) >= 0 : (v) => cmp(v, lo) > 0;
    case ">=": case "=>": return (v) => cmp(v, lo) >= 0;
    case "<": return (v) => cmp(v, lo) < 0;
    case "<=": case "=<": return next ? (v) => cmp(v, next) < 0 : (v) => cmp(v, lo) <= 0;
    case "~": case "~>": {
      if (p.major === undefined) return () => true;
      const hi = p.minor === undefined ? ver(p.major + 1, 0, 0) : ver(p.major, p.minor + 1, 0);
      return (v) => cmp(v, lo) >= 0 && cmp(v, hi) < 0;
    }
    case "^": {
      if (p.major === undefined) return () => true;
      const hi = p.major > 0 || p.minor === undefined ? ver(p.major + 1, 0, 0)
        : p.minor > 0 || p.patch === undefined ? ver(0, p.minor + 1, 0) : ver(0, 0, (p.patch ?? 0) + 1);
      return (v) => cmp(v, lo) >= 0 && cmp(v, hi) < 0;
    }
    default: throw new Error(`unknown operator '${op}'`);
  }
}

/** Compiles a constraint; throws an Error with a readable message when it is not one. */
export function parseConstraint(text: string): (v: SemVer) => boolean {
  const alternatives = text.split("||").map((alt) => {
    const normalized = alt.trim().replace(/\s+-\s+/g, " - ").replace(/(>=|<=|=>|=<|!=|~>|[<>=~^])\s+/g, "$1");
    const tokens = normalized.split(/[\s,]+/).filter(Boolean);
    const conditions: Condition[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      if (tokens[i + 1] === "-" && tokens[i + 2] !== undefined) {   // hyphen range a - b
        const a = parsePartial(token);
        const b = parsePartial(tokens[i + 2]!);
        if (!a || !b) throw new Error(`invalid range '${token} - ${tokens[i + 2]}'`);
        conditions.push({ check: condition(">=", a), prerelease: a.prerelease.length > 0 });
        conditions.push({ check: condition("<=", b), prerelease: b.prerelease.length > 0 });
        i += 2;
        continue;
      }
      const m = /^(>=|<=|=>|=<|!=|~>|[<>=~^])?(.*)$/.exec(token)!;
      const p = parsePartial(m[2] ?? "");
      if (!p) throw new Error(`invalid version constraint '${token}'`);
      conditions.push({ check: condition(m[1] ?? "", p), prerelease: p.prerelease.length > 0 });
    }
    if (conditions.length === 0) conditions.push({ check: () => true, prerelease: false });
    return conditions;
  });
  return (v) => alternatives.some((conds) =>
    (v.prerelease.length === 0 || conds.some((c) => c.prerelease)) && conds.every((c) => c.check(v)));
}

/** The highest of `versions` that satisfies the constraint (an exact version must match exactly). */
export function maxSatisfying(versions: string[], constraint: string): string | undefined {
  const exact = parseVersion(constraint);
  if (exact && !/[xX*]/.test(constraint)) return versions.find((v) => { const p = parseVersion(v); return p !== undefined && compareVersions(p, exact) === 0; });
  const check = parseConstraint(constraint.trim() === "" ? "*" : constraint);
  let best: SemVer | undefined;
  for (const text of versions) {
    const v = parseVersion(text);
    if (v && check(v) && (!best || compareVersions(v, best) > 0)) best = v;
  }
  return best?.raw;
}
