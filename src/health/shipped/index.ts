// Health rules shipped with Tack for popular operators' custom resources, keyed like the built-in table
// ("group/Kind"). A user's CEL or Lua rule for the same kind wins over these; these win over the generic rule.
//
// The rules are CEL, in the same format as users' rules (docs/adr/0002-health-rule-language.md), one file per
// project, each written from that project's documented status API (named at the top of its file). Each kind's
// rules are compiled once, on first use, by the users' compiler, so they run under the same step budget. A rule
// that does not compile gives no verdict (its kinds fall through to the generic rule) and is listed by
// shippedRuleErrors(), which a unit test requires to be empty: a broken shipped rule fails the build, never the
// controller.
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

/** The key under which the group-wide Crossplane rule is compiled (a name no real kind uses). */
const MANAGED_KEY = "managed.crossplane.io_AnyManagedResource";

/** Rule text per ConfigMap-style key, in the users' format; compiled on first use (see ShippedChecks). */
function ruleSources(): Map<string, string> {
  const source = new Map<string, string>();
  for (const set of shippedRuleSets) {
    for (const [key, rules] of Object.entries(set)) {
      if (source.has(key)) throw new Error(`shipped health rule ${key} is defined twice`);
      source.set(key, dump(rules, { lineWidth: -1, noRefs: true }));
    }
  }
  source.set(MANAGED_KEY, dump(managedResourceRules, { lineWidth: -1, noRefs: true }));
  return source;
}

const sources = ruleSources();
/** Table key ("group/Kind") → ConfigMap-style key ("group_Kind"). */
const configKeys = new Map([...sources.keys()].filter((k) => k !== MANAGED_KEY).map((k) => [k.replace("_", "/"), k]));

function managedResourceGroup(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const group = slash < 0 ? "" : key.slice(0, slash);
  return managedResourceGroupSuffixes.some((suffix) => group.endsWith(suffix));
}

/**
 * The exact-kind table, plus Crossplane's managed resources, which live in the providers' many groups
 * (ec2.aws.upbound.io, …) and share one status convention (Synced + Ready): any kind in a group under those
 * suffixes without a rule of its own gets the managed-resource rule.
 *
 * Each kind's rules are compiled the first time an object of that kind is assessed (compiling all of them
 * costs about 0.3 s, which every `tack health` run would pay for kinds it never sees). A rule that does not
 * compile gives no verdict, so its kinds fall through to the generic rule; shippedRuleErrors() reports it.
 */
class ShippedChecks {
  readonly #compiled = new Map<string, HealthCheck | undefined>();
  readonly #errors: HealthRuleError[] = [];

  get(key: string): HealthCheck | undefined {
    const configKey = configKeys.get(key) ?? (managedResourceGroup(key) ? MANAGED_KEY : undefined);
    return configKey === undefined ? undefined : this.compile(configKey);
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  compile(configKey: string): HealthCheck | undefined {
    if (this.#compiled.has(configKey)) return this.#compiled.get(configKey);
    const { rules, errors } = compileHealthRules({ [configKey]: sources.get(configKey) ?? "" });
    const check = errors.length === 0 ? rules.checks.get(configKey.replace("_", "/")) : undefined;
    this.#errors.push(...errors);
    this.#compiled.set(configKey, check);
    return check;
  }

  /** Compiles every rule now and returns the ones that failed (empty in a correct build). */
  compileAll(): HealthRuleError[] {
    for (const configKey of sources.keys()) this.compile(configKey);
    return [...this.#errors];
  }
}

const table = new ShippedChecks();
/** Looked up by "group/Kind" only: the kinds are listed by shippedKinds(), not by iterating this. */
export const shippedChecks: Pick<ReadonlyMap<string, HealthCheck>, "get" | "has"> = table;

/** Compiles every shipped rule and lists those that do not compile; a unit test requires none. */
export function shippedRuleErrors(): HealthRuleError[] {
  return table.compileAll();
}

/**
 * The kinds Tack ships rules for, as "group/Kind", sorted; the group-wide Crossplane rule is listed as
 * "*<suffix>/*". For the README and `tack health --help`.
 */
export function shippedKinds(): string[] {
  const exact = [...configKeys.keys()].sort();
  return [...exact, ...managedResourceGroupSuffixes.map((suffix) => `*${suffix}/*`)];
}
