// Defensive readers for objects that arrive as plain JSON: a field may be absent, null or of the wrong type
// (a manifest from git has no status; a broken controller may write anything), and no check may throw.

import type { KubeObject } from "../api/kube-object.ts";

export type Json = Record<string, unknown>;

export function rec(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Follows a path of keys; undefined as soon as a step is not an object. */
export function at(value: unknown, ...path: string[]): unknown {
  let cur: unknown = value;
  for (const key of path) {
    const r = rec(cur);
    if (!r) return undefined;
    cur = r[key];
  }
  return cur;
}

export function spec(obj: KubeObject): Json {
  return rec(obj.spec) ?? {};
}

export function status(obj: KubeObject): Json | undefined {
  return rec(obj.status);
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export function conditionsOf(list: unknown): Condition[] {
  const out: Condition[] = [];
  for (const item of arr(list)) {
    const c = rec(item);
    const type = str(c?.type);
    if (!c || !type) continue;
    out.push({ type, status: str(c.status) ?? "", reason: str(c.reason) ?? "", message: str(c.message) ?? "" });
  }
  return out;
}

export function conditions(obj: KubeObject): Condition[] {
  return conditionsOf(status(obj)?.conditions);
}

export function findCondition(list: Condition[], type: string): Condition | undefined {
  return list.find((c) => c.type === type);
}

/** "reason: message", without dangling separators when either is empty. */
export function describe(c: Pick<Condition, "reason" | "message">): string {
  if (c.reason && c.message) return `${c.reason}: ${c.message}`;
  return c.message || c.reason;
}

/** metadata.generation vs status.observedGeneration; both default to 0 like the typed Go structs. */
export function generationObserved(obj: KubeObject): boolean {
  const generation = num(obj.metadata.generation) ?? 0;
  const observed = num(status(obj)?.observedGeneration) ?? 0;
  return generation <= observed;
}
