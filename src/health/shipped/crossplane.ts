// Crossplane. Status API: docs.crossplane.io (Managed Resources, Packages, Composite Resource Definitions):
// managed resources report Synced (reasons ReconcileSuccess, ReconcileError, ReconcilePaused) and Ready
// (reasons Available, Unavailable, Creating, Deleting); the annotation crossplane.io/paused: "true" stops
// reconciliation. Packages (Provider, Configuration, Function) report Installed and Healthy; an inactive
// revision under revisionActivationPolicy Manual waits for a person. XRDs report Established and Offered.
import { annotation, condition, conditionText, forKinds, type Rule, type RuleSet } from "./cel.ts";

/**
 * For managed resources, whose groups are the providers' own (ec2.aws.upbound.io, …): index.ts applies it to
 * every group under upbound.io or crossplane.io that has no rule of its own.
 */
export const managedResourceRules: Rule[] = [
  { when: `${annotation("crossplane.io/paused", ["true"])} || ${condition("Synced", "False", ["ReconcilePaused"])}`,
    status: "Suspended", message: "reconciliation is paused (crossplane.io/paused)" },
  { when: condition("Synced", "False"), status: "Degraded", messageExpression: conditionText("Synced") },
  { when: condition("Ready", "False", ["Unavailable"]), status: "Degraded", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "True"), status: "Healthy", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "False") + " || " + condition("Ready", "Unknown"), status: "Progressing",
    messageExpression: conditionText("Ready") },
];

const packages: Rule[] = [
  { when: condition("Healthy", "False"), status: "Degraded", messageExpression: conditionText("Healthy") },
  { when: condition("Installed", "False", ["InactivePackageRevision"]), status: "Suspended",
    messageExpression: conditionText("Installed") },
  { when: condition("Installed", "False", ["UnpackingPackage"]), status: "Progressing",
    messageExpression: conditionText("Installed") },
  { when: condition("Installed", "False"), status: "Degraded", messageExpression: conditionText("Installed") },
  { when: `${condition("Installed", "True")} && ${condition("Healthy", "True")}`, status: "Healthy",
    messageExpression: conditionText("Healthy") },
  { when: `${condition("Installed", "True")} || ${condition("Healthy", "Unknown")}`, status: "Progressing",
    messageExpression: conditionText("Healthy") },
];

const xrd: Rule[] = [
  { when: condition("Established", "False"), status: "Degraded", messageExpression: conditionText("Established") },
  { when: condition("Offered", "False"), status: "Degraded", messageExpression: conditionText("Offered") },
  { when: condition("Established", "True"), status: "Healthy", messageExpression: conditionText("Established") },
];

export const crossplaneRules: RuleSet = {
  ...forKinds("pkg.crossplane.io", ["Provider", "Configuration", "Function"], packages),
  ...forKinds("apiextensions.crossplane.io", ["CompositeResourceDefinition"], xrd),
};

/** Group suffixes whose kinds, when they have no rule of their own, are Crossplane managed resources. */
export const managedResourceGroupSuffixes: readonly string[] = [".upbound.io", ".crossplane.io"];
