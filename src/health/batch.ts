// Jobs, CronJobs and Argo Workflows: health is about the outcome of runs, not about replicas.

import type { KubeObject } from "../api/kube-object.ts";
import { arr, conditions, num, spec, status, str } from "./fields.ts";
import { degraded, healthy, progressing, suspended, unknown, type HealthStatus } from "./types.ts";

export function jobHealth(obj: KubeObject): HealthStatus {
  const conds = conditions(obj).filter((c) => c.status === "True");
  // FailureTarget/SuccessCriteriaMet (Kubernetes ≥ 1.31) come before Failed/Complete while pods are torn down;
  // the outcome is already decided, so they count the same.
  const failed = conds.find((c) => c.type === "Failed" || c.type === "FailureTarget");
  if (failed) return degraded(failed.message || failed.reason || "Job failed");
  const complete = conds.find((c) => c.type === "Complete" || c.type === "SuccessCriteriaMet");
  if (complete) return healthy(complete.message || "Job completed");
  // The controller's Suspended condition (what Argo CD reads) or, before the controller has seen it, the spec.
  const suspendedCondition = conds.find((c) => c.type === "Suspended");
  if (suspendedCondition) return suspended(suspendedCondition.message || "Job is suspended");
  if (spec(obj).suspend === true) return suspended("Job is suspended");
  const st = status(obj) ?? {};
  const active = num(st.active) ?? 0;
  const succeeded = num(st.succeeded) ?? 0;
  const completions = num(spec(obj).completions) ?? 1;
  return progressing(`Job is running: ${active} active, ${succeeded} of ${completions} completions succeeded`);
}

export function cronJobHealth(obj: KubeObject): HealthStatus {
  if (spec(obj).suspend === true) return suspended("CronJob is suspended");
  const st = status(obj) ?? {};
  if (arr(st.active).length > 0) return progressing("CronJob has active jobs");
  const lastSchedule = Date.parse(str(st.lastScheduleTime) ?? "");
  if (Number.isNaN(lastSchedule)) return healthy("CronJob has not scheduled a job yet");
  const lastSuccess = Date.parse(str(st.lastSuccessfulTime) ?? "");
  // The last scheduled job is not active and finished after the last success (or there was none): it failed.
  if (!Number.isNaN(lastSuccess) && lastSuccess >= lastSchedule) return healthy("CronJob's last job completed successfully");
  return degraded("CronJob's last job did not complete successfully");
}

/**
 * Argo Workflows' Workflow (built into gitops-engine): only status.phase and status.message count. No phase yet
 * means the workflow controller has not picked it up.
 */
export function argoWorkflowHealth(obj: KubeObject): HealthStatus {
  const st = status(obj) ?? {};
  const phase = str(st.phase) ?? "";
  const message = str(st.message) ?? "";
  const said = `Workflow phase ${phase || "(none yet)"}${message ? `: ${message}` : ""}`;
  switch (phase) {
    case "": case "Pending": case "Running":
      return progressing(said);
    case "Succeeded":
      return healthy(said);
    case "Failed": case "Error":
      return degraded(said);
    default:
      return unknown(said);
  }
}
