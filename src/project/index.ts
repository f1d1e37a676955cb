// project: AppProject policy as pure predicates. Given a project's spec, an Application and the objects it
// would write, it says what the policy refuses and why (sourceRepos, destinations, cluster/namespace
// resource white- and blacklists, sync windows), with Argo CD's semantics; docs/adr/0004 records where and
// why Tack differs.
//
// Must not import: cluster/, controller/, git's I/O (only the pure git/url.ts), anything that reads the
// clock or process.env. `now` is always passed in.
export {
  checkProject, sourcePermitted, destinationPermitted, groupKindPermitted, normalizeRepoPattern,
  DEFAULT_PROJECT_SPEC, IN_CLUSTER, PolicyRule,
  type PolicyViolation, type PolicyApp, type PolicyObject, type CheckOptions,
} from "./check.ts";
export {
  syncWindowState, windowActive, windowMatches, parseGoDuration, describeWindow,
  type SyncWindow, type SyncWindowState, type SyncWindowOptions, type WindowTarget,
} from "./sync-windows.ts";
export { globMatch } from "./glob.ts";
