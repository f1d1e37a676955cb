// Prometheus Operator (monitoring.coreos.com). Status API: prometheus-operator.dev/docs/api-reference/api
// (PrometheusStatus, AlertmanagerStatus, ThanosRulerStatus): conditions Available (status True, Degraded or
// False) and Reconciled (True or False); spec.paused stops reconciliation. ServiceMonitor, PodMonitor,
// PrometheusRule and Probe carry no health of their own and are left to the generic rule.
import { condition, conditionText, forKinds, specFlag, type Rule, type RuleSet } from "./cel.ts";

const server: Rule[] = [
  { when: specFlag("paused"), status: "Suspended", message: "spec.paused is true: the operator does not reconcile it" },
  { when: condition("Reconciled", "False"), status: "Degraded", messageExpression: conditionText("Reconciled") },
  // "Degraded" is a documented value of this condition's status: some replicas are unavailable.
  { when: `${condition("Available", "False")} || ${condition("Available", "Degraded")}`, status: "Degraded",
    messageExpression: conditionText("Available") },
  { when: condition("Available", "True"), status: "Healthy", messageExpression: conditionText("Available") },
  { when: condition("Available", "Unknown"), status: "Progressing", messageExpression: conditionText("Available") },
];

export const prometheusOperatorRules: RuleSet =
  forKinds("monitoring.coreos.com", ["Prometheus", "PrometheusAgent", "Alertmanager", "ThanosRuler"], server);
