// Flux (the *.toolkit.fluxcd.io groups). Status API: fluxcd.io/flux/components (each API's "Status" section):
// every Flux object reports kstatus-compatible conditions Ready, Reconciling and Stalled, and
// status.observedGeneration; spec.suspend stops its reconciliation.
import { forKinds, readyConditionRules, specFlag, type Rule, type RuleSet } from "./cel.ts";

const flux: Rule[] = [
  // A suspended object's conditions are frozen at the last run; they say nothing about the present.
  { when: specFlag("suspend"), status: "Suspended", message: "spec.suspend is true: reconciliation is suspended" },
  ...readyConditionRules(),
];

export const fluxRules: RuleSet = {
  ...forKinds("kustomize.toolkit.fluxcd.io", ["Kustomization"], flux),
  ...forKinds("helm.toolkit.fluxcd.io", ["HelmRelease"], flux),
  ...forKinds("source.toolkit.fluxcd.io", ["GitRepository", "HelmRepository", "OCIRepository", "Bucket", "HelmChart"], flux),
  ...forKinds("image.toolkit.fluxcd.io", ["ImageRepository", "ImagePolicy", "ImageUpdateAutomation"], flux),
  ...forKinds("notification.toolkit.fluxcd.io", ["Receiver"], flux),
};
