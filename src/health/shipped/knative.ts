// Knative Serving and Eventing. Status API: knative.dev/docs (API reference; "Knative resource conditions"):
// every Knative object follows the Ready condition convention (True, False, Unknown while reconciling) with
// status.observedGeneration; Service, Route and Configuration also carry ConfigurationsReady/RoutesReady,
// which Ready already summarises.
import { forKinds, readyConditionRules, type RuleSet } from "./cel.ts";

const ready = readyConditionRules();

export const knativeRules: RuleSet = {
  ...forKinds("serving.knative.dev", ["Service", "Route", "Configuration", "Revision", "DomainMapping"], ready),
  ...forKinds("eventing.knative.dev", ["Broker", "Trigger"], ready),
  ...forKinds("messaging.knative.dev", ["Channel", "InMemoryChannel", "Subscription"], ready),
  ...forKinds("sources.knative.dev", ["ApiServerSource", "PingSource", "SinkBinding", "ContainerSource"], ready),
};
