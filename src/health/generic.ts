// The fallback for every kind without a rule of its own (custom resources above all), read from the
// conventions most controllers follow: kstatus' Reconciling/Stalled, a Ready-style condition, a phase word.
// It only speaks when the object's status says something; otherwise it has no opinion.

import type { KubeObject } from "../api/kube-object.ts";
import { conditions, describe, num, status, str, type Condition } from "./fields.ts";
import { compareHealth, degraded, healthy, HealthStatusCode, progressing, type HealthStatus } from "./types.ts";

/** Condition types whose True means "working as intended". Checked together: the worst one decides. */
const READY_TYPES = ["Ready", "Available", "Healthy", "Synced", "Succeeded", "Established"];

/** A False readiness condition whose reason says "not yet" rather than "broken" ("ReconcileError" is broken). */
const NOT_YET = /progress|pending|reconciling|creating|provisioning|initiali[sz]ing|waiting|deploying|updating|scaling|starting/i;
const BROKEN = /error|fail|invalid|denied|forbidden|notfound|exceeded/i;

const PHASES: Record<string, HealthStatusCode> = {
  running: HealthStatusCode.Healthy, active: HealthStatusCode.Healthy, succeeded: HealthStatusCode.Healthy,
  bound: HealthStatusCode.Healthy, available: HealthStatusCode.Healthy, ready: HealthStatusCode.Healthy,
  healthy: HealthStatusCode.Healthy, complete: HealthStatusCode.Healthy, completed: HealthStatusCode.Healthy,
  deployed: HealthStatusCode.Healthy,
  pending: HealthStatusCode.Progressing, provisioning: HealthStatusCode.Progressing,
  creating: HealthStatusCode.Progressing, progressing: HealthStatusCode.Progressing,
  initializing: HealthStatusCode.Progressing, updating: HealthStatusCode.Progressing,
  deploying: HealthStatusCode.Progressing, terminating: HealthStatusCode.Progressing,
  failed: HealthStatusCode.Degraded, error: HealthStatusCode.Degraded, degraded: HealthStatusCode.Degraded,
  crashloopbackoff: HealthStatusCode.Degraded,
};

function fromReadyCondition(c: Condition): HealthStatus {
  const detail = describe(c);
  const said = `condition ${c.type}=${c.status}${detail ? ` (${detail})` : ""}`;
  if (c.status === "True") return healthy(`Healthy by ${said}`);
  if (c.status === "False" && (BROKEN.test(c.reason) || !NOT_YET.test(c.reason))) return degraded(`Degraded by ${said}`);
  return progressing(`Progressing by ${said}`);
}

export function genericHealth(obj: KubeObject): HealthStatus | undefined {
  const st = status(obj);
  if (!st || Object.keys(st).length === 0) return undefined;

  const generation = num(obj.metadata.generation);
  const observed = num(st.observedGeneration);
  // Only when the controller reports observedGeneration at all: many never do, and would look stuck forever.
  if (generation !== undefined && observed !== undefined && generation > observed) {
    return progressing(`Waiting for the controller to observe generation ${generation} (observed ${observed})`);
  }

  const list = conditions(obj);
  const stalled = list.find((c) => c.type === "Stalled" && c.status === "True");
  if (stalled) return degraded(`Stalled${describe(stalled) ? `: ${describe(stalled)}` : ""}`);
  const reconciling = list.find((c) => c.type === "Reconciling" && c.status === "True");
  if (reconciling) return progressing(`Reconciling${describe(reconciling) ? `: ${describe(reconciling)}` : ""}`);

  let worst: HealthStatus | undefined;
  for (const type of READY_TYPES) {
    const c = list.find((x) => x.type === type);
    if (!c) continue;
    const verdict = fromReadyCondition(c);
    if (!worst || compareHealth(verdict.status, worst.status) > 0) worst = verdict;
  }
  if (worst) return worst;

  const phase = str(st.phase);
  const byPhase = phase ? PHASES[phase.toLowerCase()] : undefined;
  if (phase && byPhase) {
    const message = str(st.message);
    return { status: byPhase, message: `Phase ${phase}${message ? `: ${message}` : ""}` };
  }
  return undefined;
}
