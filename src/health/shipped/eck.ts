// Elastic Cloud on Kubernetes (*.k8s.elastic.co). Status API: elastic.co/guide/en/cloud-on-k8s (API reference):
// every ECK kind reports status.health (green, yellow, red, unknown) and status.observedGeneration;
// Elasticsearch also reports status.phase (Ready, ApplyingChanges, MigratingData, Stalled, Invalid).
import { field, fieldText, generationStale, generationStaleText, oneOf, phaseRules, type Rule, type RuleSet } from "./cel.ts";

// Yellow: every primary is served, some replicas are not yet (for example during a rolling restart), so the
// stack works and is catching up: Progressing. Red: data or the service is unavailable.
const health = phaseRules("status.health", {
  healthy: ["green"], progressing: ["yellow", "unknown"], degraded: ["red"],
});

const elasticsearch: Rule[] = [
  { when: `${field("status.phase")} == "Invalid"`, status: "Degraded", messageExpression: fieldText("status.phase") },
  { when: `${field("status.health")} == "red"`, status: "Degraded", messageExpression: fieldText("status.health") },
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  { when: oneOf("status.phase", ["ApplyingChanges", "MigratingData", "Stalled"]), status: "Progressing",
    messageExpression: fieldText("status.phase") },
  ...health,
];

const stack: Rule[] = [
  { when: `${field("status.health")} == "red"`, status: "Degraded", messageExpression: fieldText("status.health") },
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  ...health,
];

export const eckRules: RuleSet = {
  "elasticsearch.k8s.elastic.co_Elasticsearch": elasticsearch,
  "kibana.k8s.elastic.co_Kibana": stack,
  "apm.k8s.elastic.co_ApmServer": stack,
  "beat.k8s.elastic.co_Beat": stack,
  "agent.k8s.elastic.co_Agent": stack,
  "enterprisesearch.k8s.elastic.co_EnterpriseSearch": stack,
  "logstash.k8s.elastic.co_Logstash": stack,
  "maps.k8s.elastic.co_ElasticMapsServer": stack,
};
