// The fallback for every kind without a rule of its own (custom resources above all). It reads the conventions
// operators actually follow, in this order (the first that speaks decides; docs/health.md has the why of each):
//
//   1. suspension      spec.suspend / spec.paused true, Crossplane's crossplane.io/paused annotation → Suspended
//   2. failure         kstatus Stalled=True; a negative condition (Failed, Error, Degraded, NotReady …) True; a
//                      Progressing=False condition that gave up (deadline exceeded); a state word meaning broken
//                      (status.phase / state / status / health) → Degraded
//   3. not caught up   status.observedGeneration < metadata.generation → Progressing
//   4. at work         kstatus Reconciling=True, or another "busy" condition True (Issuing, Creating …) → Progressing
//   5. readiness       Ready, Available, Healthy, Succeeded, Synced (Crossplane), Accepted / Programmed /
//                      ResolvedRefs (Gateway API, also under status.parents[] and status.listeners[]) …: the worst
//                      of those present; then *Ready / *Available conditions (ControlPlaneReady …) the same way
//   6. Progressing=True with nothing else said → Progressing; then conditions of other types: one False for a
//      failure reason → Degraded, all True → Healthy
//   7. state words     status.phase / state / status / health / health.status and any status.*Status, *State,
//                      *Phase string: the worst mapped word decides (UpdateFailed → Degraded, as its outcome)
//   8. replica counts  spec.replicas against status.readyReplicas / availableReplicas / updatedReplicas
//   9. no status yet   a custom resource read from an API server with no status at all → Progressing
//
// Degraded only ever comes from something that says broken: a condition whose type, or whose reason, names a
// failure, or a state word that means failed. "Unknown", "Stopped", "Warning" and the like never become Degraded.
// Every message names the field that decided.

import { groupOf, type KubeObject } from "../api/kube-object.ts";
import { arr, at, conditionsOf, describe, num, rec, spec, status, str, type Condition, type Json } from "./fields.ts";
import {
  compareHealth, degraded, healthy, HealthStatusCode, progressing, suspended, type HealthStatus,
} from "./types.ts";

/** Condition types whose True means "working as intended", checked together: the worst one decides. */
const READY_TYPES = new Set([
  "Ready", "Available", "Healthy", "Succeeded", "Synced", "Established", "Accepted", "Programmed", "ResolvedRefs",
  "Complete", "Completed", "Running", "Bound", "Valid",
]);

/** Condition types whose True means "broken" (unless the reason says it is only not ready yet, see NOT_YET). */
const NEGATIVE_TYPES = new Set([
  "NotReady", "Failed", "Failure", "Error", "Errored", "Degraded", "Unhealthy", "InvalidSpec", "Invalid",
  "ReconcileError", "ReconciliationFailed",
]);

/** Condition types whose True means the controller is at work on the object. */
const BUSY_TYPES = new Set([
  "Reconciling", "Issuing", "Creating", "Updating", "Deploying", "Provisioning", "Installing", "Upgrading",
  "Initializing", "Scaling", "Pending", "Terminating", "Deleting", "RollingUpdate", "InProgress",
]);

/** A reason or message that says "not yet" rather than "broken". */
const NOT_YET = /progress|pending|reconcil|creating|provision|initiali[sz]|waiting|deploying|updating|upgrading|scaling|starting|installing|issuing|not ?yet|not ?ready|dependenc/i;
/** A reason that names a failure. Wins over NOT_YET ("ReconcileError", "ProgressDeadlineExceeded"). */
const BROKEN = /error|fail|invalid|denied|forbidden|notfound|not ?found|exceeded|unauthori[sz]ed|refused|rejected|conflict|backoff|crash|timeout|timed ?out|unavailable|missing|notallowed|not ?allowed|unsupported|nomatching/i;

/** State words, lower-cased with separators removed. Only words that clearly mean one thing are here. */
const WORDS: Record<string, HealthStatusCode> = {};
function words(status: HealthStatusCode, list: string): void {
  for (const w of list.split(" ")) WORDS[w] = status;
}
words(HealthStatusCode.Healthy, "running active succeeded success successful bound available ready healthy complete " +
  "completed deployed established green ok online up done finished synced insync reconciled provisioned valid " +
  "current operational passed healthok idle");
words(HealthStatusCode.Progressing, "pending provisioning creating progressing initializing initialising " +
  "init updating deploying terminating deleting starting scaling reconciling installing upgrading waiting " +
  "inprogress processing applying applyingchanges migrating migratingdata restarting rollingupdate building " +
  "queued notready");
words(HealthStatusCode.Degraded, "failed failure error errored degraded crashloopbackoff red unhealthy invalid " +
  "broken rejected timedout lost stalled critical healtherr");
words(HealthStatusCode.Suspended, "suspended paused stopped hibernated hibernating");

/** The string fields operators use for a one-word state, in the order they are reported. */
const WORD_FIELDS: string[][] = [["phase"], ["state"], ["status"], ["health"], ["health", "status"]];
/** Other status fields named like one (Zalando's PostgresClusterStatus, clusterState, currentPhase …). */
const WORD_FIELD_NAME = /(Status|State|Phase)$/;

/**
 * Compound words operators build from a verb and an outcome (UpdateFailed, SyncError, UpdateInProgress,
 * RolloutSucceeded): the outcome decides. Only outcomes that mean one thing are read.
 */
const WORD_ENDINGS: Array<[RegExp, HealthStatusCode]> = [
  [/(failed|failure|error|errored)$/, HealthStatusCode.Degraded],
  [/(inprogress|pending)$/, HealthStatusCode.Progressing],
  [/(succeeded|completed)$/, HealthStatusCode.Healthy],
];

function wordStatus(word: string): HealthStatusCode | undefined {
  const key = word.toLowerCase().replace(/[^a-z]/g, "");
  return WORDS[key] ?? WORD_ENDINGS.find(([ending]) => ending.test(key))?.[1];
}

/** Kubernetes' own API groups: their kinds without a built-in check (ConfigMap, Role …) never have a status. */
const BUILT_IN_GROUPS = new Set([
  "", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "apps",
  "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
  "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "extensions", "flowcontrol.apiserver.k8s.io",
  "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "policy", "rbac.authorization.k8s.io",
  "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io", "metrics.k8s.io",
]);

/**
 * Custom resources that are configuration for another program and have no status (Prometheus Operator's monitors
 * and rules, Istio's and Traefik's routing objects): their missing status says nothing about their controller.
 */
const STATUSLESS_GROUPS = new Set([
  "monitoring.coreos.com", "networking.istio.io", "security.istio.io", "telemetry.istio.io",
  "traefik.io", "traefik.containo.us",
]);
const STATUSFUL_IN_STATUSLESS_GROUPS = new Set(["Prometheus", "Alertmanager", "ThanosRuler", "PrometheusAgent"]);

interface Said {
  cond: Condition;
  where: string;
}

function conditionText(s: Said): string {
  const detail = describe(s.cond);
  return `${s.where} ${s.cond.type}=${s.cond.status}${detail ? ` (${detail})` : ""}`;
}

/** Top-level conditions, then those of status.parents[] (Gateway API routes) and status.listeners[] (Gateways). */
function allConditions(st: Json): Said[] {
  const out: Said[] = conditionsOf(st.conditions).map((cond) => ({ cond, where: "condition" }));
  for (const [field, key] of [["parents", "parentRef"], ["listeners", "name"]] as const) {
    arr(st[field]).forEach((entry, i) => {
      const e = rec(entry);
      const ref = rec(e?.[key]);
      const label = str(ref?.name) ?? str(e?.[key]) ?? String(i);
      for (const cond of conditionsOf(e?.conditions)) out.push({ cond, where: `status.${field}[${label}] condition` });
    });
  }
  return out;
}

function worst(verdicts: HealthStatus[]): HealthStatus | undefined {
  let result: HealthStatus | undefined;
  for (const v of verdicts) if (!result || compareHealth(v.status, result.status) > 0) result = v;
  return result;
}

function isBroken(c: Condition): boolean {
  return BROKEN.test(c.reason) || (!c.reason && BROKEN.test(c.message));
}

function suspension(obj: KubeObject): HealthStatus | undefined {
  const sp = spec(obj);
  if (sp.suspend === true) return suspended("spec.suspend is true");
  if (sp.paused === true) return suspended("spec.paused is true");
  if (obj.metadata.annotations?.["crossplane.io/paused"] === "true") {
    return suspended("annotation crossplane.io/paused is true");
  }
  return undefined;
}

function failure(list: Said[]): HealthStatus | undefined {
  const stalled = list.find((s) => s.cond.type === "Stalled" && s.cond.status === "True");
  if (stalled) return degraded(conditionText(stalled));
  const negative = list.find((s) => s.cond.status === "True" && isNegativeType(s.cond.type) &&
    (isBroken(s.cond) || !NOT_YET.test(s.cond.reason)));
  if (negative) return degraded(conditionText(negative));
  const gaveUp = list.find((s) => s.cond.type === "Progressing" && s.cond.status === "False" && isBroken(s.cond));
  if (gaveUp) return degraded(conditionText(gaveUp));
  return undefined;
}

/** Failed, Error, Degraded … and any type that ends in Failed, Failure or Error (InstallFailed, SubmissionError). */
function isNegativeType(type: string): boolean {
  return NEGATIVE_TYPES.has(type) || /(Failed|Failure|Error)$/.test(type);
}

function busy(list: Said[]): HealthStatus | undefined {
  const found = list.find((s) => s.cond.status === "True" &&
    (BUSY_TYPES.has(s.cond.type) || (isNegativeType(s.cond.type) && NOT_YET.test(s.cond.reason))));
  return found ? progressing(conditionText(found)) : undefined;
}

/**
 * True: Healthy. False: Degraded when the reason names a failure, Progressing when the reason or message says
 * "not yet" (Creating, Issuing certificate …), else Degraded (a readiness condition that is False for a reason
 * nobody explains is what operators' own rules call Degraded). Unknown: Progressing.
 */
function readinessVerdict(s: Said): HealthStatus {
  const text = conditionText(s);
  if (s.cond.status === "True") return healthy(text);
  if (s.cond.status !== "False") return progressing(text);
  if (isBroken(s.cond)) return degraded(text);
  return NOT_YET.test(s.cond.reason) || NOT_YET.test(s.cond.message) ? progressing(text) : degraded(text);
}

function readiness(list: Said[]): HealthStatus | undefined {
  const primary = list.filter((s) => READY_TYPES.has(s.cond.type));
  if (primary.length > 0) return worst(primary.map(readinessVerdict));
  // Cluster API, KubeVirt and others split readiness: ControlPlaneReady, InfrastructureReady, AgentConnected …
  const secondary = list.filter((s) => /(Ready|Available|Healthy)$/.test(s.cond.type));
  if (secondary.length > 0) return worst(secondary.map(readinessVerdict));
  return undefined;
}

/**
 * Conditions of types nobody agreed on (Cluster API's ResourcesApplied, Initialized …): one that is False for a
 * reason that names a failure is Degraded; when every condition is True, the controller reports nothing missing.
 */
function otherConditions(list: Said[]): HealthStatus | undefined {
  const failing = list.find((s) => s.cond.status === "False" && BROKEN.test(s.cond.reason));
  if (failing) return degraded(conditionText(failing));
  if (list.length > 0 && list.every((s) => s.cond.status === "True")) {
    return healthy(`all ${list.length} conditions are True (${list.map((s) => s.cond.type).join(", ")})`);
  }
  return undefined;
}

function stateWords(st: Json): Array<{ verdict: HealthStatus; status: HealthStatusCode }> {
  const out: Array<{ verdict: HealthStatus; status: HealthStatusCode }> = [];
  const message = str(st.message) ?? str(st.reason) ?? "";
  const named = Object.keys(st).filter((k) => WORD_FIELD_NAME.test(k)).map((k) => [k]);
  for (const path of [...WORD_FIELDS, ...named]) {
    const word = str(at(st, ...path));
    if (!word) continue;
    const mapped = wordStatus(word);
    if (!mapped) continue;
    const text = `status.${path.join(".")} is ${word}${message ? `: ${message}` : ""}`;
    out.push({ verdict: { status: mapped, message: text }, status: mapped });
  }
  return out;
}

function replicaCounts(obj: KubeObject, st: Json): HealthStatus | undefined {
  const desired = num(spec(obj).replicas);
  if (desired === undefined) return undefined;
  for (const field of ["updatedReplicas", "readyReplicas", "availableReplicas"]) {
    const have = num(st[field]);
    if (have !== undefined && have < desired) {
      return progressing(`status.${field} is ${have} of spec.replicas ${desired}`);
    }
  }
  const ready = num(st.readyReplicas) ?? num(st.availableReplicas);
  if (ready === undefined) return undefined;
  return healthy(`status.${num(st.readyReplicas) !== undefined ? "readyReplicas" : "availableReplicas"} is ${ready} of spec.replicas ${desired}`);
}

/**
 * True for a custom resource read from an API server (it has a uid, resourceVersion, creationTimestamp or
 * generation) that has no status at all, where its kind is expected to have one. A manifest from git has none
 * of those fields, so `tack health` on rendered manifests stays silent rather than calling everything Progressing.
 */
function unseenByController(obj: KubeObject): boolean {
  const group = groupOf(obj.apiVersion);
  if (BUILT_IN_GROUPS.has(group)) return false;
  if (STATUSLESS_GROUPS.has(group) && !STATUSFUL_IN_STATUSLESS_GROUPS.has(obj.kind)) return false;
  const m = obj.metadata as Json;
  return ["uid", "resourceVersion", "creationTimestamp", "generation"].some((k) => m[k] !== undefined && m[k] !== null);
}

export function genericHealth(obj: KubeObject): HealthStatus | undefined {
  const paused = suspension(obj);
  if (paused) return paused;

  const st = status(obj);
  if (!st || Object.keys(st).length === 0) {
    if (!unseenByController(obj)) return undefined;
    return progressing("No status yet: its controller has not seen it (the object has no status field)");
  }

  const list = allConditions(st);
  const words = stateWords(st);
  const brokenWord = words.find((w) => w.status === HealthStatusCode.Degraded);
  const failed = failure(list) ?? brokenWord?.verdict;
  if (failed) return failed;

  const generation = num(obj.metadata.generation);
  const observed = num(st.observedGeneration);
  // Only when the controller reports observedGeneration at all: many never do, and would look stuck forever.
  if (generation !== undefined && observed !== undefined && generation > observed) {
    return progressing(`status.observedGeneration ${observed} is behind metadata.generation ${generation}: waiting for the controller`);
  }

  const decided = busy(list) ?? readiness(list);
  if (decided) return decided;
  const moving = list.find((s) => s.cond.type === "Progressing" && s.cond.status === "True");
  if (moving) return progressing(conditionText(moving));
  const byOtherConditions = otherConditions(list);
  if (byOtherConditions) return byOtherConditions;

  const byWord = worst(words.map((w) => w.verdict));
  if (byWord) return byWord;
  return replicaCounts(obj, st);
}
