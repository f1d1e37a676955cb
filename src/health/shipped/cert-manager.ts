// cert-manager (cert-manager.io, acme.cert-manager.io). Status API: the Certificate, CertificateRequest and
// Issuer condition types documented in cert-manager's API reference (cert-manager.io/docs/reference/api-docs):
// Certificate has Ready and Issuing; CertificateRequest has Ready (reasons Pending, Failed, Issued), Approved,
// Denied and InvalidRequest; Issuer/ClusterIssuer have Ready. ACME Orders and Challenges report status.state
// (valid, ready, pending, processing, invalid, expired, errored).
import { condition, conditionText, forKinds, phaseRules, type Rule, type RuleSet } from "./cel.ts";

const certificate: Rule[] = [
  // A renewal or first issuance in flight is progress even while Ready is False: the issuer has not answered yet.
  { when: condition("Issuing", "True"), status: "Progressing", messageExpression: conditionText("Issuing") },
  { when: condition("Ready", "True"), status: "Healthy", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "False"), status: "Degraded", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "Unknown"), status: "Progressing", messageExpression: conditionText("Ready") },
];

const certificateRequest: Rule[] = [
  // Denied and InvalidRequest are terminal: cert-manager never retries such a request.
  { when: condition("Denied", "True"), status: "Degraded", messageExpression: conditionText("Denied") },
  { when: condition("InvalidRequest", "True"), status: "Degraded", messageExpression: conditionText("InvalidRequest") },
  { when: condition("Ready", "True"), status: "Healthy", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "False", ["Failed"]), status: "Degraded", messageExpression: conditionText("Ready") },
  // Ready=False with reason Pending: waiting for approval or for the issuer to sign.
  { when: condition("Ready", "False"), status: "Progressing", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "Unknown"), status: "Progressing", messageExpression: conditionText("Ready") },
];

const issuer: Rule[] = [
  { when: condition("Ready", "True"), status: "Healthy", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "False"), status: "Degraded", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "Unknown"), status: "Progressing", messageExpression: conditionText("Ready") },
];

// ACME states: "valid" is final success; "invalid", "expired" and "errored" are final failures.
const acme = phaseRules("status.state", {
  healthy: ["valid"],
  progressing: ["pending", "ready", "processing"],
  degraded: ["invalid", "expired", "errored"],
}, "status.reason");

export const certManagerRules: RuleSet = {
  "cert-manager.io_Certificate": certificate,
  "cert-manager.io_CertificateRequest": certificateRequest,
  ...forKinds("cert-manager.io", ["Issuer", "ClusterIssuer"], issuer),
  ...forKinds("acme.cert-manager.io", ["Order", "Challenge"], acme),
};
