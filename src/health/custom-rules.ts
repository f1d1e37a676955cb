// Operator-declared health rules, written in CEL (Common Expression Language) and kept in the ConfigMap
// `tack-health-rules` (see docs/adr/0002-health-rule-language.md for the format and why CEL).
//
// Pure: compiling and evaluating touch no I/O, clock or environment. A rule can never hang or crash the
// controller: CEL has no loops or recursion, parse-time limits cap the expression's size, functions whose cost
// we cannot bound (backtracking regexes, string splitting) are refused at compile time, and every read of the
// object during evaluation is charged to a per-object step budget. A rule that errs or overspends yields Unknown.

import { Environment } from "@marcbachmann/cel-js";
import { load } from "js-yaml";
import type { KubeObject } from "../api/kube-object.ts";
import { HealthStatusCode, unknown, type CustomHealthRules, type HealthCheck, type HealthStatus } from "./types.ts";

export const HEALTH_RULES_CONFIGMAP = "tack-health-rules";
/**
 * Steps one object's rules may spend. A step is one field read (long strings cost more); each iteration of a
 * comprehension costs the size of its body, so the budget bounds the interpreter's work, not just the reads.
 */
export const RULE_STEP_BUDGET = 50_000;

const MAX_RULE_TEXT = 64 * 1024;
const MAX_RULES_PER_KIND = 32;
const MAX_EXPRESSION_LENGTH = 2_048;
const MAX_MESSAGE_LENGTH = 1_024;
/** A comprehension inside another's body multiplies the work; one level of nesting covers real rules. */
const MAX_MACRO_NESTING = 2;

export interface HealthRuleError {
  key: string;
  message: string;
}

// One environment for all rules: `object` is the live object, as in Kubernetes admission policies.
const env = new Environment({
  unlistedVariablesAreDyn: false,
  homogeneousAggregateLiterals: false,
  enableOptionalTypes: true,
  limits: { maxAstNodes: 400, maxDepth: 32, maxListElements: 32, maxMapEntries: 32, maxCallArguments: 8 },
})
  .registerVariable("object", "map")
  .registerFunction("tackBudget(dyn, int): dyn", (value: unknown, weight: bigint) =>
    active ? active.iterable(value, Number(weight)) : value);

/** The meter of the evaluation in progress; evaluation is synchronous, so one slot suffices. */
let active: Meter | undefined;

const MACROS = new Set(["all", "exists", "exists_one", "map", "filter"]);
const ALLOWED_FUNCTIONS = new Set([
  ...MACROS, "has", "size", "int", "uint", "double", "string", "bool", "dyn", "type", "timestamp", "duration",
  "startsWith", "endsWith", "contains", "lowerAscii", "upperAscii", "trim", "indexOf", "lastIndexOf",
  "substring", "join", "orValue", "hasValue", "value",
  "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getHours",
  "getMinutes", "getSeconds", "getMilliseconds",
]);
const REFUSED: Record<string, string> = {
  matches: "matches() is not available: its regular expressions can backtrack for an unbounded time; " +
    "use startsWith/endsWith/contains",
  split: "split() is not available: it builds lists outside the evaluation budget",
  json: "json() is not available: it builds values outside the evaluation budget",
};

type Evaluable = (context: Record<string, unknown>) => unknown;

interface CompiledRule {
  when: Evaluable;
  status: HealthStatusCode;
  message?: string;
  messageExpression?: Evaluable;
}

/** "group_Kind" (core: "Kind" or "_Kind") → the table key "group/Kind" (core: "Kind"). */
function tableKey(configKey: string): string | undefined {
  const underscore = configKey.indexOf("_");
  const group = underscore < 0 ? "" : configKey.slice(0, underscore);
  const kind = underscore < 0 ? configKey : configKey.slice(underscore + 1);
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind) || !/^[a-z0-9.-]*$/.test(group)) return undefined;
  return group ? `${group}/${kind}` : kind;
}

interface AstLike {
  op: string;
  args: unknown;
}

function isNode(value: unknown): value is AstLike {
  return typeof value === "object" && value !== null && typeof (value as AstLike).op === "string";
}

interface MacroReceiver {
  start: number;
  end: number;
  weight: number;
}

function countNodes(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((sum: number, child) => sum + countNodes(child), 0);
  if (!isNode(node)) return 0;
  return 1 + countNodes(node.args);
}

/**
 * Refuses functions outside the allowlist and comprehensions nested deeper than MAX_MACRO_NESTING, and
 * collects where each comprehension's range sits in the source so that its iterations can be metered.
 */
function checkAst(node: unknown, nesting: number, receivers: MacroReceiver[]): void {
  if (Array.isArray(node)) {
    for (const child of node) checkAst(child, nesting, receivers);
    return;
  }
  if (!isNode(node)) return;
  if (node.op === "call" || node.op === "rcall") {
    const args = node.args as unknown[];
    const name = String(args[0]);
    const refused = REFUSED[name];
    if (refused) throw new Error(refused);
    if (!ALLOWED_FUNCTIONS.has(name)) throw new Error(`function ${name}() is not available in health rules`);
    const receiver = node.op === "rcall" ? args[1] : undefined;
    const callArgs = node.op === "rcall" ? args[2] : args[1];
    checkAst(receiver, nesting, receivers);
    const isMacro = node.op === "rcall" && MACROS.has(name);
    const inner = isMacro ? nesting + 1 : nesting;
    if (inner > MAX_MACRO_NESTING) {
      throw new Error(`comprehensions (all, exists, map, filter …) may be nested at most ${MAX_MACRO_NESTING} deep`);
    }
    if (isMacro && isNode(receiver)) {
      const range = receiver as unknown as { start: number; end: number };
      receivers.push({ start: range.start, end: range.end, weight: Math.max(1, countNodes(callArgs)) });
    }
    checkAst(callArgs, inner, receivers);
    return;
  }
  checkAst(node.args, nesting, receivers);
}

/**
 * Wraps each comprehension's range in tackBudget(range, weight). The interpreter offers no hook per
 * iteration, so the source is rewritten instead: insertions go right to left so earlier offsets stay valid.
 * Receivers never end at the same offset (a macro call ends after its receiver), and openings that share an
 * offset are identical text, so the order among equal offsets does not matter.
 */
function meterComprehensions(source: string, receivers: MacroReceiver[]): string {
  const edits: Array<{ at: number; text: string }> = [];
  for (const r of receivers) {
    edits.push({ at: r.start, text: "tackBudget(" }, { at: r.end, text: `, ${r.weight})` });
  }
  edits.sort((a, b) => b.at - a.at);
  let out = source;
  for (const e of edits) out = out.slice(0, e.at) + e.text + out.slice(e.at);
  return out;
}

function compileExpression(source: string, expected: "bool" | "string"): Evaluable {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new Error(`expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  const parsed = env.parse(source);
  const receivers: MacroReceiver[] = [];
  checkAst(parsed.ast, 0, receivers);
  const checked = parsed.check();
  if (!checked.valid) throw new Error(firstLine(checked.error?.message ?? "type check failed"));
  if (checked.type !== expected && checked.type !== "dyn") {
    throw new Error(`expression gives ${checked.type}, expected ${expected}`);
  }
  if (receivers.length === 0) return parsed;
  const metered = env.parse(meterComprehensions(source, receivers));
  const recheck = metered.check();
  if (!recheck.valid) throw new Error(`internal: metered rule does not type-check: ${firstLine(recheck.error?.message ?? "")}`);
  return metered;
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > MAX_MESSAGE_LENGTH ? `${line.slice(0, MAX_MESSAGE_LENGTH)}…` : line;
}

function errorText(err: unknown): string {
  return firstLine(err instanceof Error ? err.message : String(err));
}

const STATUSES = new Set<string>(Object.values(HealthStatusCode));
const RULE_FIELDS = new Set(["when", "status", "message", "messageExpression"]);

function compileRuleList(text: string): CompiledRule[] {
  if (text.length > MAX_RULE_TEXT) throw new Error(`rule text is larger than ${MAX_RULE_TEXT} bytes`);
  const doc = load(text, { maxAliases: 0, maxDepth: 8 });
  if (!Array.isArray(doc)) throw new Error("expected a YAML list of rules ({when, status, message | messageExpression})");
  if (doc.length === 0) throw new Error("the list of rules is empty");
  if (doc.length > MAX_RULES_PER_KIND) throw new Error(`more than ${MAX_RULES_PER_KIND} rules`);
  return doc.map((item, index) => {
    const where = `rule ${index + 1}`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw new Error(`${where}: expected a mapping`);
    const raw = item as Record<string, unknown>;
    const extra = Object.keys(raw).filter((k) => !RULE_FIELDS.has(k));
    if (extra.length > 0) throw new Error(`${where}: unknown field ${extra.join(", ")}`);
    if (typeof raw.when !== "string") throw new Error(`${where}: 'when' must be a CEL expression (a string)`);
    if (typeof raw.status !== "string" || !STATUSES.has(raw.status)) {
      throw new Error(`${where}: 'status' must be one of ${[...STATUSES].join(", ")}`);
    }
    if (raw.message !== undefined && typeof raw.message !== "string") throw new Error(`${where}: 'message' must be a string`);
    if (typeof raw.messageExpression !== "string" && raw.messageExpression !== undefined) {
      throw new Error(`${where}: 'messageExpression' must be a CEL expression (a string)`);
    }
    const rule: CompiledRule = { when: compileIn(where, "when", raw.when, "bool"), status: raw.status as HealthStatusCode };
    if (typeof raw.message === "string") rule.message = raw.message;
    if (typeof raw.messageExpression === "string") {
      rule.messageExpression = compileIn(where, "messageExpression", raw.messageExpression, "string");
    }
    return rule;
  });
}

function compileIn(where: string, field: string, source: string, expected: "bool" | "string"): Evaluable {
  try {
    return compileExpression(source, expected);
  } catch (err) {
    throw new Error(`${where}, ${field}: ${errorText(err)}`);
  }
}

class BudgetExceeded extends Error {}

/**
 * Hands CEL a read-only view of the object that charges each read to a budget. Integral JSON numbers become
 * CEL ints (bigint), as Kubernetes' own CEL does for integer fields, so `object.spec.replicas == 3` reads naturally.
 */
class Meter {
  spent = 0;
  exhausted = false;
  readonly limit: number;
  readonly #views = new WeakMap<object, object>();
  readonly #handler: ProxyHandler<object>;

  constructor(limit: number) {
    this.limit = limit;
    this.#handler = {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop);
        if (typeof prop === "symbol") return value;
        // Array length is the interpreter's loop bound, not data: leave it a plain number.
        if (prop === "length" && Array.isArray(target)) return value;
        this.charge(typeof value === "string" ? 1 + (value.length >> 10) : 1);
        return this.view(value);
      },
      ownKeys: (target) => {
        const keys = Reflect.ownKeys(target);
        this.charge(keys.length);
        return keys;
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    };
  }

  charge(steps: number): void {
    this.spent += steps;
    if (this.spent > this.limit) {
      this.exhausted = true;
      throw new BudgetExceeded(`evaluation budget of ${this.limit} steps exceeded`);
    }
  }

  /** A comprehension's range: every element it visits costs `weight` steps (the size of the body it runs). */
  iterable(value: unknown, weight: number): unknown {
    if (value instanceof Map || value instanceof Set) {
      this.charge(value.size * weight);
      return value;
    }
    if (typeof value !== "object" || value === null) return value;
    return new Proxy(value, {
      get: (target, prop) => {
        if (typeof prop === "string" && prop !== "length" && /^\d+$/.test(prop)) this.charge(weight);
        return Reflect.get(target, prop);
      },
      ownKeys: (target) => {
        const keys = Reflect.ownKeys(target);
        this.charge(keys.length * weight);
        return keys;
      },
    });
  }

  view(value: unknown): unknown {
    if (typeof value === "number") return Number.isInteger(value) && Number.isSafeInteger(value) ? BigInt(value) : value;
    if (typeof value !== "object" || value === null) return value;
    let proxy = this.#views.get(value);
    if (!proxy) {
      proxy = new Proxy(value, this.#handler);
      this.#views.set(value, proxy);
    }
    return proxy;
  }
}

function evaluateRules(configKey: string, rules: CompiledRule[], obj: KubeObject): HealthStatus | undefined {
  const meter = new Meter(RULE_STEP_BUDGET);
  const previous = active;
  active = meter;
  try {
    return runRules(configKey, rules, meter, { object: meter.view(obj) });
  } finally {
    active = previous;
  }
}

function runRules(
  configKey: string, rules: CompiledRule[], meter: Meter, context: Record<string, unknown>,
): HealthStatus | undefined {
  const fail = (index: number, err: unknown): HealthStatus =>
    unknown(meter.exhausted
      ? `health rule ${configKey} #${index + 1} exceeded its evaluation budget of ${RULE_STEP_BUDGET} steps`
      : `health rule ${configKey} #${index + 1} failed: ${errorText(err)}`);

  for (const [index, rule] of rules.entries()) {
    let matched: unknown;
    try {
      matched = rule.when(context);
    } catch (err) {
      return fail(index, err);
    }
    // CEL absorbs some errors (false && error), so a spent budget is checked explicitly, not only by throw.
    if (meter.exhausted) return fail(index, undefined);
    if (typeof matched !== "boolean") {
      return unknown(`health rule ${configKey} #${index + 1}: 'when' gave ${typeof matched}, expected a bool`);
    }
    if (!matched) continue;
    let message = rule.message ?? "";
    if (rule.messageExpression) {
      try {
        const value = rule.messageExpression(context);
        if (meter.exhausted) return fail(index, undefined);
        message = typeof value === "string" ? value : String(value);
      } catch (err) {
        return fail(index, err);
      }
    }
    return { status: rule.status, message: firstLine(message) };
  }
  return undefined;
}

/**
 * Compiles the data of the `tack-health-rules` ConfigMap. Keys name a kind as `group_Kind` (`Kind` or
 * `_Kind` for the core group); values are YAML lists of rules. A key that does not compile is reported in
 * `errors` and also yields Unknown for its kind, so that a broken rule is seen rather than silently ignored.
 */
export function compileHealthRules(
  source: Readonly<Record<string, string>>,
): { rules: CustomHealthRules; errors: HealthRuleError[] } {
  const checks = new Map<string, HealthCheck>();
  const errors: HealthRuleError[] = [];
  for (const [configKey, text] of Object.entries(source)) {
    // Argo CD's keys (Lua health rules: lua-rules.ts; useOpenLibs and the rest: not Tack's business) are not CEL.
    if (configKey.startsWith("resource.customizations.")) continue;
    const key = tableKey(configKey);
    if (!key) {
      errors.push({ key: configKey, message: "key must be group_Kind (or Kind for the core group)" });
      continue;
    }
    // A Secret's rule could print its data into status, Events and CLI output.
    if (key === "Secret") {
      errors.push({ key: configKey, message: "rules for Secrets are not allowed: messages could reveal their data" });
      continue;
    }
    try {
      const compiled = compileRuleList(text);
      checks.set(key, (obj) => evaluateRules(configKey, compiled, obj));
    } catch (err) {
      const message = errorText(err);
      errors.push({ key: configKey, message });
      checks.set(key, () => unknown(`health rule ${configKey} is invalid: ${message}`));
    }
  }
  return { rules: { checks }, errors };
}
