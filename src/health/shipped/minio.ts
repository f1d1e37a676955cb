// MinIO Operator (minio.min.io). Status API: min.io/docs/minio/kubernetes (Tenant CRD reference): status.currentState
// ("Initialized" once the tenant is up; other values describe the step in progress) and status.healthStatus
// (green, yellow: drives offline but the tenant keeps its write quorum, red: no quorum).
import { field, fieldText, type Rule, type RuleSet } from "./cel.ts";

const tenant: Rule[] = [
  { when: `${field("status.healthStatus")} in ["red", "yellow"]`, status: "Degraded",
    messageExpression: fieldText("status.healthStatus", "status.healthMessage") },
  { when: `${field("status.currentState")} == "Initialized"`, status: "Healthy", messageExpression: fieldText("status.currentState") },
  { when: `${field("status.currentState")} != ""`, status: "Progressing", messageExpression: fieldText("status.currentState") },
];

export const minioRules: RuleSet = { "minio.min.io_Tenant": tenant };
