// RabbitMQ Cluster Operator and Messaging Topology Operator (rabbitmq.com). Status API:
// rabbitmq.com/kubernetes/operator (Using the operator, "Status of a RabbitmqCluster"): conditions
// AllReplicasReady, ClusterAvailable, NoWarnings and ReconcileSuccess; topology objects (Queue, Exchange, User,
// …) report a Ready condition.
import { condition, conditionText, forKinds, readyConditionRules, type Rule, type RuleSet } from "./cel.ts";

const cluster: Rule[] = [
  { when: condition("ReconcileSuccess", "False"), status: "Degraded", messageExpression: conditionText("ReconcileSuccess") },
  { when: `${condition("AllReplicasReady", "True")} && ${condition("ClusterAvailable", "True")}`, status: "Healthy",
    message: "all replicas are ready and the cluster is available (AllReplicasReady, ClusterAvailable)" },
  { when: condition("AllReplicasReady", "False"), status: "Progressing", messageExpression: conditionText("AllReplicasReady") },
  { when: condition("ClusterAvailable", "False"), status: "Progressing", messageExpression: conditionText("ClusterAvailable") },
];

export const rabbitMqRules: RuleSet = {
  "rabbitmq.com_RabbitmqCluster": cluster,
  ...forKinds("rabbitmq.com",
    ["Queue", "Exchange", "Binding", "User", "Vhost", "Permission", "Policy", "Shovel", "Federation"], readyConditionRules()),
};
