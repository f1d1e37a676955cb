// Gateway API (gateway.networking.k8s.io). Status API: gateway-api.sigs.k8s.io/reference/spec and the GEP on
// status conditions: GatewayClass reports Accepted; Gateway reports Accepted and Programmed (reason Pending while
// the implementation works on it); routes report per parent (status.parents[].conditions) Accepted and
// ResolvedRefs. A route no implementation has looked at has no parents: no verdict.
import { condition, conditionText, field, forKinds, text, type Rule, type RuleSet } from "./cel.ts";

const gatewayClass: Rule[] = [
  { when: condition("Accepted", "True"), status: "Healthy", messageExpression: conditionText("Accepted") },
  { when: `${condition("Accepted", "Unknown")} || ${condition("Accepted", "False", ["Pending", "Waiting"])}`,
    status: "Progressing", messageExpression: conditionText("Accepted") },
  { when: condition("Accepted", "False"), status: "Degraded", messageExpression: conditionText("Accepted") },
];

const gateway: Rule[] = [
  { when: condition("Accepted", "False", ["Pending"]), status: "Progressing", messageExpression: conditionText("Accepted") },
  { when: condition("Accepted", "False"), status: "Degraded", messageExpression: conditionText("Accepted") },
  { when: condition("Programmed", "True"), status: "Healthy", messageExpression: conditionText("Programmed") },
  { when: `${condition("Programmed", "Unknown")} || ${condition("Programmed", "False", ["Pending"])}`,
    status: "Progressing", messageExpression: conditionText("Programmed") },
  { when: condition("Programmed", "False"), status: "Degraded", messageExpression: conditionText("Programmed") },
];

const parents = field("status.parents", "[]");
const parentHas = (type: string, status: string) =>
  `p.?conditions.orValue([]).exists(c, c.?type.orValue("") == "${type}" && c.?status.orValue("") == "${status}")`;
const parentText = (type: string, status: string) =>
  `${parents}.filter(p, ${parentHas(type, status)}).map(p, "parent " + ${text('p.?parentRef.?name.orValue("?")')} + ": ` +
  `${type}=${status}" + p.?conditions.orValue([]).filter(c, c.?type.orValue("") == "${type}")` +
  `.map(c, ${text('c.?reason.orValue("")')} != "" ? " (" + ${text('c.?reason.orValue("")')} + ")" : "").join("")).join("; ")`;

const route: Rule[] = [
  { when: `${parents}.exists(p, ${parentHas("Accepted", "False")})`, status: "Degraded",
    messageExpression: parentText("Accepted", "False") },
  { when: `${parents}.exists(p, ${parentHas("ResolvedRefs", "False")})`, status: "Degraded",
    messageExpression: parentText("ResolvedRefs", "False") },
  { when: `size(${parents}) > 0 && ${parents}.all(p, ${parentHas("Accepted", "True")})`, status: "Healthy",
    messageExpression: `"accepted by " + string(size(${parents})) + " parent(s) (status.parents)"` },
  { when: `size(${parents}) > 0`, status: "Progressing", message: "waiting for every parent to accept the route (status.parents)" },
];

export const gatewayApiRules: RuleSet = {
  "gateway.networking.k8s.io_GatewayClass": gatewayClass,
  "gateway.networking.k8s.io_Gateway": gateway,
  ...forKinds("gateway.networking.k8s.io", ["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"], route),
};
