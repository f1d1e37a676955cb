// Building blocks for the shipped rules. The rules themselves are CEL, compiled by the same compiler as users'
// rules (../custom-rules.ts); these helpers only spell out the CEL that every rule would otherwise repeat, so that
// each project's file reads as a short table of "when → status". Every helper tolerates absent fields (optional
// chaining), because a shipped rule must give no verdict, never an error, on an object it does not understand.

import type { HealthStatusCode } from "../types.ts";

/** One rule as users write them in the `tack-health-rules` ConfigMap (docs/adr/0002-health-rule-language.md). */
export interface Rule {
  when: string;
  status: HealthStatusCode;
  message?: string;
  messageExpression?: string;
}

/** Rules per kind, keyed as in the ConfigMap: `group_Kind`. */
export type RuleSet = Readonly<Record<string, readonly Rule[]>>;

/** The same list of rules for several kinds of one group. */
export function forKinds(group: string, kinds: readonly string[], rules: readonly Rule[]): RuleSet {
  return Object.fromEntries(kinds.map((kind) => [`${group}_${kind}`, rules]));
}

/** `object.?a.?b.orValue(fallback)` for the dotted path "a.b". */
export function field(path: string, fallback = '""'): string {
  return `object.?${path.split(".").join(".?")}.orValue(${fallback})`;
}

/** The string at `path` is one of `values`. */
export function oneOf(path: string, values: readonly string[]): string {
  return `${field(path)} in [${values.map((v) => JSON.stringify(v)).join(", ")}]`;
}

/** `value` if it is a string, else "" (a null or a number in a message must not make the rule fail). */
export function text(value: string): string {
  return `(type(${value}) == string ? ${value} : "")`;
}

/** A message naming the field that decided: `status.phase is Failed`, plus an optional detail field. */
export function fieldText(path: string, detail?: string): string {
  const main = `"${path} is " + ${text(field(path))}`;
  if (!detail) return main;
  return `${main} + (${text(field(detail))} != "" ? ": " + ${text(field(detail))} : "")`;
}

const conditions = field("status.conditions", "[]");
const matches = (type: string) => `c.?type.orValue("") == "${type}"`;

/** A condition of `type` has `status`, and (if given) one of `reasons`. */
export function condition(type: string, status: "True" | "False" | "Unknown" | (string & {}), reasons?: readonly string[]): string {
  const reason = reasons ? ` && c.?reason.orValue("") in [${reasons.map((r) => JSON.stringify(r)).join(", ")}]` : "";
  return `${conditions}.exists(c, ${matches(type)} && c.?status.orValue("") == "${status}"${reason})`;
}

/** The object carries a condition of `type` at all. */
export function hasCondition(type: string): string {
  return `${conditions}.exists(c, ${matches(type)})`;
}

/** Message: `Ready=False (Reason): message`, from the condition of `type`. */
export function conditionText(type: string): string {
  const reason = text(`c.?reason.orValue("")`);
  const message = text(`c.?message.orValue("")`);
  return `${conditions}.filter(c, ${matches(type)}).map(c, "${type}=" + ${text(`c.?status.orValue("")`)} + ` +
    `(${reason} != "" ? " (" + ${reason} + ")" : "") + (${message} != "" ? ": " + ${message} : "")).join("; ")`;
}

/**
 * The controller has not yet acted on the latest spec: status.observedGeneration (an int) is behind
 * metadata.generation. Objects without observedGeneration are never stale by this test.
 */
const observed = field("status.observedGeneration", field("metadata.generation", "0"));
export const generationStale = `type(${observed}) == int && ${observed} < ${field("metadata.generation", "0")}`;

export const generationStaleText =
  `"status.observedGeneration " + string(${observed}) + " is behind generation " + ` +
  `string(${field("metadata.generation", "0")}) + ": the controller has not acted on the latest spec yet"`;

/**
 * The kstatus-style conventions (Ready, with Stalled and Reconciling where present) that Flux, Knative,
 * External Secrets, Karpenter and many others document. No Ready condition: no verdict.
 */
export function readyConditionRules(ready = "Ready"): Rule[] {
  return [
    { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
    { when: condition("Stalled", "True"), status: "Degraded", messageExpression: conditionText("Stalled") },
    { when: condition("Reconciling", "True"), status: "Progressing", messageExpression: conditionText("Reconciling") },
    { when: condition(ready, "True"), status: "Healthy", messageExpression: conditionText(ready) },
    { when: condition(ready, "False"), status: "Degraded", messageExpression: conditionText(ready) },
    { when: condition(ready, "Unknown"), status: "Progressing", messageExpression: conditionText(ready) },
  ];
}

/** Rules that decide on one status word (`status.phase`, `status.state`, …), with a message naming the field. */
export function phaseRules(path: string, map: {
  healthy?: readonly string[]; progressing?: readonly string[]; degraded?: readonly string[];
  suspended?: readonly string[]; unknown?: readonly string[];
}, detail?: string): Rule[] {
  const rules: Rule[] = [];
  const add = (status: HealthStatusCode, words?: readonly string[]): void => {
    if (words?.length) rules.push({ when: oneOf(path, words), status, messageExpression: fieldText(path, detail) });
  };
  add("Degraded", map.degraded);
  add("Suspended", map.suspended);
  add("Progressing", map.progressing);
  add("Healthy", map.healthy);
  add("Unknown", map.unknown);
  return rules;
}

/** `spec.<path>` is true (Flux's spec.suspend, Cluster API's spec.paused, …). */
export function specFlag(path: string): string {
  return `${field(`spec.${path}`, "false")} == true`;
}

/** An annotation has the value given (operators that pause by annotation: Crossplane, Strimzi, KEDA, CNPG). */
export function annotation(name: string, values: readonly string[]): string {
  return `object.?metadata.?annotations[?"${name}"].orValue("") in [${values.map((v) => JSON.stringify(v)).join(", ")}]`;
}
