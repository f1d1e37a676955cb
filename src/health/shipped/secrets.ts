// External Secrets Operator (external-secrets.io) and Sealed Secrets (bitnami.com). Status API:
// external-secrets.io/latest/api (ExternalSecret, ClusterExternalSecret, SecretStore, ClusterSecretStore and
// PushSecret each report a Ready condition; ExternalSecret reasons SecretSynced / SecretSyncedError, stores
// Valid / InvalidStore / InvalidProviderConfig) and the sealed-secrets README (SealedSecret reports a Synced
// condition, False with the decryption error, and status.observedGeneration).
import { condition, conditionText, forKinds, generationStale, generationStaleText, readyConditionRules, type Rule, type RuleSet } from "./cel.ts";

const sealedSecret: Rule[] = [
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  { when: condition("Synced", "True"), status: "Healthy", messageExpression: conditionText("Synced") },
  { when: condition("Synced", "False"), status: "Degraded", messageExpression: conditionText("Synced") },
];

export const secretsRules: RuleSet = {
  ...forKinds("external-secrets.io",
    ["ExternalSecret", "ClusterExternalSecret", "SecretStore", "ClusterSecretStore", "PushSecret"], readyConditionRules()),
  "bitnami.com_SealedSecret": sealedSecret,
};
