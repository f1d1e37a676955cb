// Percona operators. Status API: docs.percona.com (Custom Resource options and "Check the cluster status" of
// the operators for MySQL/PXC, MongoDB, MySQL and PostgreSQL): status.state is one of initializing, ready,
// paused, stopping, error; spec.pause stops the cluster on purpose.
import { forKinds, phaseRules, specFlag, type Rule, type RuleSet } from "./cel.ts";

const cluster: Rule[] = [
  ...phaseRules("status.state", {
    healthy: ["ready"], progressing: ["initializing", "stopping"], degraded: ["error"], suspended: ["paused"],
  }),
  // Paused before the operator has reported the state: the spec says it all.
  { when: specFlag("pause"), status: "Suspended", message: "spec.pause is true" },
];

export const perconaRules: RuleSet = {
  ...forKinds("pxc.percona.com", ["PerconaXtraDBCluster"], cluster),
  ...forKinds("psmdb.percona.com", ["PerconaServerMongoDB"], cluster),
  ...forKinds("ps.percona.com", ["PerconaServerMySQL"], cluster),
  ...forKinds("pgv2.percona.com", ["PerconaPGCluster"], cluster),
};
