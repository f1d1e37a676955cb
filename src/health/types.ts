// Health vocabulary shared by the built-in checks, the generic rule and custom rules. Kept apart from
// index.ts so that custom-rules.ts can use it without an import cycle.

import type { KubeObject } from "../api/kube-object.ts";

export const HealthStatusCode = {
  Healthy: "Healthy",
  Progressing: "Progressing",
  Degraded: "Degraded",
  Suspended: "Suspended",
  Missing: "Missing",
  Unknown: "Unknown",
} as const;
export type HealthStatusCode = (typeof HealthStatusCode)[keyof typeof HealthStatusCode];

export interface HealthStatus {
  status: HealthStatusCode;
  message: string;
  /** Which rule decided (set by assessHealth): `tack health -o json` reports it. */
  rule?: RuleSource;
}

/** Where a verdict came from, in precedence order: a user's CEL rule, a user's Lua rule, a rule shipped with Tack, the built-in check of a Kubernetes kind, the generic rule. */
export type RuleSource = "cel" | "lua" | "shipped" | "built-in" | "generic";

/** undefined = no opinion (the kind has no rule, or the object carries nothing to judge). */
export type HealthCheck = (obj: KubeObject) => HealthStatus | undefined;

/**
 * A user's compiled rules, keyed like the built-in table ("group/Kind", or "Kind" for the core group): CEL rules
 * (custom-rules.ts) and Argo CD Lua rules (lua-rules.ts). CEL wins over Lua for the same kind.
 */
export interface CustomHealthRules {
  readonly checks: ReadonlyMap<string, HealthCheck>;
  readonly lua?: ReadonlyMap<string, HealthCheck>;
}

export function healthy(message: string): HealthStatus {
  return { status: HealthStatusCode.Healthy, message };
}
export function progressing(message: string): HealthStatus {
  return { status: HealthStatusCode.Progressing, message };
}
export function degraded(message: string): HealthStatus {
  return { status: HealthStatusCode.Degraded, message };
}
export function suspended(message: string): HealthStatus {
  return { status: HealthStatusCode.Suspended, message };
}
export function unknown(message: string): HealthStatus {
  return { status: HealthStatusCode.Unknown, message };
}

/** Better first. Application health is the worst of its resources, so Unknown (we cannot tell) outranks Degraded. */
const ORDER: Record<HealthStatusCode, number> = {
  Healthy: 0, Suspended: 1, Progressing: 2, Missing: 3, Degraded: 4, Unknown: 5,
};

/** Negative when a is healthier than b, positive when worse, 0 when equal. */
export function compareHealth(a: HealthStatusCode, b: HealthStatusCode): number {
  return ORDER[a] - ORDER[b];
}

/** The worst of the statuses; an empty set is Healthy (an application with no resources has nothing wrong). */
export function worstHealth(statuses: Iterable<HealthStatusCode>): HealthStatusCode {
  let worst: HealthStatusCode = HealthStatusCode.Healthy;
  for (const s of statuses) if (compareHealth(s, worst) > 0) worst = s;
  return worst;
}
