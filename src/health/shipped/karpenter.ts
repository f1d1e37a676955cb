// Karpenter (karpenter.sh and the providers' node classes). Status API: karpenter.sh/docs/concepts (NodePools,
// NodeClaims, NodeClasses): each reports a Ready condition that summarises the others (NodePool:
// ValidationSucceeded, NodeClassReady; NodeClaim: Launched, Registered, Initialized) and
// status.observedGeneration where applicable.
import { forKinds, readyConditionRules, type RuleSet } from "./cel.ts";

const ready = readyConditionRules();

export const karpenterRules: RuleSet = {
  ...forKinds("karpenter.sh", ["NodePool", "NodeClaim"], ready),
  ...forKinds("karpenter.k8s.aws", ["EC2NodeClass"], ready),
  ...forKinds("karpenter.azure.com", ["AKSNodeClass"], ready),
};
