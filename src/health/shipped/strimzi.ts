// Strimzi (kafka.strimzi.io). Status API: strimzi.io/docs (API reference, "Condition" and each kind's status
// schema; "Pausing reconciliation of custom resources"): conditions Ready, NotReady (with the failure's
// exception as reason, or Creating while a cluster is first deployed), Warning (advice only) and
// ReconciliationPaused; status.observedGeneration. KafkaConnector also reports the connector's own state, and
// KafkaRebalance reports its state as the type of its one condition.
import {
  annotation, condition, conditionText, field, forKinds, generationStale, generationStaleText, oneOf, text, type Rule, type RuleSet,
} from "./cel.ts";

const common: Rule[] = [
  { when: `${annotation("strimzi.io/pause-reconciliation", ["true"])} || ${condition("ReconciliationPaused", "True")}`,
    status: "Suspended", message: "reconciliation is paused (strimzi.io/pause-reconciliation)" },
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  { when: condition("Ready", "True"), status: "Healthy", messageExpression: conditionText("Ready") },
  { when: condition("NotReady", "True", ["Creating"]), status: "Progressing", messageExpression: conditionText("NotReady") },
  { when: condition("NotReady", "True"), status: "Degraded", messageExpression: conditionText("NotReady") },
  { when: condition("Ready", "False"), status: "Degraded", messageExpression: conditionText("Ready") },
];

const connector: Rule[] = [
  { when: `${oneOf("spec.state", ["paused", "stopped"])} || ${field("spec.pause", "false")} == true`,
    status: "Suspended", messageExpression: `"connector is " + (${field("spec.pause", "false")} == true ? "paused" : ${text(field("spec.state"))})` },
  { when: `${field("status.connectorStatus.connector.state")} == "FAILED"`, status: "Degraded",
    messageExpression: `"status.connectorStatus.connector.state is FAILED" + (${text(field("status.connectorStatus.connector.trace"))} != "" ? ": " + ${text(field("status.connectorStatus.connector.trace"))} : "")` },
  { when: `${field("status.connectorStatus.tasks", "[]")}.exists(t, t.?state.orValue("") == "FAILED")`, status: "Degraded",
    message: "a task of the connector is FAILED (status.connectorStatus.tasks)" },
  ...common,
];

// KafkaRebalance: ProposalReady waits for a person to approve (strimzi.io/rebalance=approve).
const rebalance: Rule[] = [
  { when: condition("NotReady", "True"), status: "Degraded", messageExpression: conditionText("NotReady") },
  { when: condition("Ready", "True"), status: "Healthy", message: "rebalance complete (condition Ready)" },
  { when: `${condition("ProposalReady", "True")} || ${condition("Stopped", "True")}`, status: "Suspended",
    message: "rebalance proposal waits for approval or was stopped" },
  { when: `${condition("New", "True")} || ${condition("PendingProposal", "True")} || ${condition("Rebalancing", "True")}`,
    status: "Progressing", message: "rebalance in progress" },
];

export const strimziRules: RuleSet = {
  ...forKinds("kafka.strimzi.io",
    ["Kafka", "KafkaTopic", "KafkaUser", "KafkaConnect", "KafkaMirrorMaker2", "KafkaBridge", "KafkaNodePool"], common),
  "kafka.strimzi.io_KafkaConnector": connector,
  "kafka.strimzi.io_KafkaRebalance": rebalance,
};
