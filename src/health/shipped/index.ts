// Health rules shipped with Tack for popular operators' custom resources, keyed like the built-in table
// ("group/Kind"). A user's CEL or Lua rule for the same kind wins over these; these win over the generic rule.
//
// The rules are CEL, in the same format as users' rules (docs/adr/0002-health-rule-language.md), one file per
// project, each written from that project's documented status API (named at the top of its file). They are
// compiled once, at module load, by the users' compiler, so they run under the same step budget. A rule that
// does not compile is left out (its kinds fall through to the generic rule) and listed in shippedRuleErrors,
// which a unit test requires to be empty: a broken shipped rule fails the build, never the controller.
//
// Pure like the rest of health/: no I/O, no clock, no environment.

import { dump } from "js-yaml";
import { compileHealthRules, type HealthRuleError } from "../custom-rules.ts";
import type { HealthCheck } from "../types.ts";
import { argoRules } from "./argo.ts";
import type { RuleSet } from "./cel.ts";
import { certManagerRules } from "./cert-manager.ts";
import { cloudNativePgRules } from "./cloudnative-pg.ts";
import { clusterApiRules } from "./cluster-api.ts";
import { crossplaneRules, managedResourceGroupSuffixes, managedResourceRules } from "./crossplane.ts";
import { deliveryRules } from "./delivery.ts";
import { eckRules } from "./eck.ts";
import { fluxRules } from "./flux.ts";
import { gatewayApiRules } from "./gateway-api.ts";
import { istioRules } from "./istio.ts";
import { karmadaRules } from "./karmada.ts";
import { karpenterRules } from "./karpenter.ts";
import { kedaRules } from "./keda.ts";
import { keptnRules } from "./keptn.ts";
import { knativeRules } from "./knative.ts";
import { kubeVirtRules } from "./kubevirt.ts";
import { minioRules } from "./minio.ts";
import { openKruiseRules } from "./openkruise.ts";
import { perconaRules } from "./percona.ts";
import { prometheusOperatorRules } from "./prometheus-operator.ts";
import { rabbitMqRules } from "./rabbitmq.ts";
import { secretsRules } from "./secrets.ts";
import { sparkRules } from "./spark.ts";
import { strimziRules } from "./strimzi.ts";
import { tektonRules } from "./tekton.ts";
import { veleroRules } from "./velero.ts";

/** Every shipped rule set, keyed as in the ConfigMap (`group_Kind`). Exported for the tests. */
export const shippedRuleSets: readonly RuleSet[] = [
  certManagerRules, argoRules, fluxRules, crossplaneRules, secretsRules, kedaRules, strimziRules,
  prometheusOperatorRules, cloudNativePgRules, knativeRules, openKruiseRules, gatewayApiRules, clusterApiRules,
  kubeVirtRules, eckRules, sparkRules, tektonRules, veleroRules, karpenterRules, istioRules, perconaRules,
  rabbitMqRules, minioRules, keptnRules, karmadaRules, deliveryRules,
];

/** The key under which the rule for a group suffix is compiled (never a real group: it has no dot-free form). */
const MANAGED_KEY = "managed.crossplane.io_AnyManagedResource";

function compileShipped(): { checks: Map<string, HealthCheck>; managed?: HealthCheck; errors: HealthRuleError[] } {
  const source: Record<string, string> = {};
  for (const set of shippedRuleSets) {
    for (const [key, rules] of Object.entries(set)) {
      if (Object.hasOwn(source, key)) throw new Error(`shipped health rule ${key} is defined twice`);
      source[key] = dump(rules, { lineWidth: -1, noRefs: true });
    }
  }
  source[MANAGED_KEY] = dump(managedResourceRules, { lineWidth: -1, noRefs: true });
  const { rules, errors } = compileHealthRules(source);
  const broken = new Set(errors.map((e) => e.key));
  const checks = new Map<string, HealthCheck>();
  for (const configKey of Object.keys(source)) {
    if (broken.has(configKey) || configKey === MANAGED_KEY) continue;
    const tableKey = configKey.replace("_", "/");
    const check = rules.checks.get(tableKey);
    if (check) checks.set(tableKey, check);
  }
  const managed = broken.has(MANAGED_KEY) ? undefined : rules.checks.get(MANAGED_KEY.replace("_", "/"));
  return { checks, ...(managed ? { managed } : {}), errors };
}

const compiled = compileShipped();

/** Shipped rules that did not compile (empty in a correct build; a unit test checks it). */
export const shippedRuleErrors: readonly HealthRuleError[] = compiled.errors;

function managedResourceGroup(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const group = slash < 0 ? "" : key.slice(0, slash);
  return managedResourceGroupSuffixes.some((suffix) => group.endsWith(suffix));
}

/**
 * The exact-kind table, plus Crossplane's managed resources, which live in the providers' many groups
 * (ec2.aws.upbound.io, …) and share one status convention (Synced + Ready): any kind in a group under those
 * suffixes without a rule of its own gets the managed-resource rule.
 */
class ShippedChecks extends Map<string, HealthCheck> {
  override get(key: string): HealthCheck | undefined {
    return super.get(key) ?? (managedResourceGroup(key) ? compiled.managed : undefined);
  }
  override has(key: string): boolean {
    return this.get(key) !== undefined;
  }
}

export const shippedChecks: ReadonlyMap<string, HealthCheck> = new ShippedChecks(compiled.checks);

/**
 * The kinds Tack ships rules for, as "group/Kind", sorted; the group-wide Crossplane rule is listed as
 * "*<suffix>/*". For the README and `tack health --help`.
 */
export function shippedKinds(): string[] {
  const exact = [...compiled.checks.keys()].sort();
  return [...exact, ...managedResourceGroupSuffixes.map((suffix) => `*${suffix}/*`)];
}
