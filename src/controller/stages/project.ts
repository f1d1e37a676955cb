// Stage "project": the AppProject the app belongs to, and the two policies checked before any write, on every path
// that can start one: the project's rules and the destination's managed scope. A violation refuses the whole app.
import type { Application, AppProject, AppProjectSpec } from "../../api/index.ts";
import { describeScope, isConfined, KubeApiError, outsideScope } from "../../cluster/index.ts";
import { ErrorReason, InvalidSpecError } from "../../errors.ts";
import { checkProject, DEFAULT_PROJECT_SPEC } from "../../project/index.ts";
import { hasOption } from "../../sync/plan.ts";
import { firstFew } from "../../util/text.ts";
import type { TargetCluster } from "../clusters.ts";
import type { ResourceComparison } from "../compare.ts";
import type { ReconcileContext } from "./context.ts";
import type { Loaded } from "./source.ts";

/**
 * The app's AppProject spec. A missing `default` project is created (allowing everything, as Argo CD's);
 * any other missing project is an InvalidSpecError.
 */
export async function resolveProject(ctx: ReconcileContext, projectName: string | undefined): Promise<AppProjectSpec> {
  const { app, deps } = ctx;
  const name = projectName || "default";
  const found = deps.projects.get(app.metadata.namespace, name) as unknown as AppProject | undefined;
  if (found) return found.spec ?? {};
  if (name !== "default") {
    throw new InvalidSpecError(`AppProject '${name}' not found in namespace '${app.metadata.namespace}'`, ErrorReason.ProjectNotFound);
  }
  await deps.writer.createProject(app.metadata.namespace, "default", DEFAULT_PROJECT_SPEC).catch((err: unknown) => {
    if (!(err instanceof KubeApiError && err.isConflict)) throw err;   // created meanwhile by another reconcile
  });
  return DEFAULT_PROJECT_SPEC;
}

/** Project policy over everything this app would write or delete. */
export function enforceProject(project: AppProjectSpec, app: Application, loaded: Loaded, comparisons: ResourceComparison[], now: Date): void {
  const objects = [...loaded.desired, ...loaded.hooks, ...comparisons.filter((c) => c.requiresPruning)]
    .map((o) => ({ group: o.key.group, kind: o.key.kind, namespace: o.key.namespace, name: o.key.name, namespaced: o.type.namespaced }));
  const violations = checkProject(project, { name: app.metadata.name, namespace: app.metadata.namespace, spec: app.spec }, objects,
    { now, manual: false, skipSyncWindows: true });
  if (violations.length > 0) {
    throw new InvalidSpecError(`refused by project '${app.spec.project || "default"}': ${firstFew(violations.map((v) => v.message))}`,
      ErrorReason.ProjectPolicyViolation);
  }
}

/**
 * The destination cluster's scope (--managed-namespaces, or a cluster Secret's `namespaces`) over everything the
 * app would write: an object outside it refuses the whole app before any write, as a project violation does.
 */
export function enforceScope(target: TargetCluster, loaded: Loaded, syncOptions: string[]): void {
  if (!isConfined(target.scope)) return;
  const problems = [...loaded.desired, ...loaded.hooks]
    .map((o) => outsideScope(target.scope, { kind: o.key.kind, namespace: o.key.namespace, name: o.key.name, namespaced: o.type.namespaced }))
    .filter((p): p is string => p !== undefined);
  if (hasOption(syncOptions, "CreateNamespace") && !target.scope.clusterResources) {
    problems.push("sync option CreateNamespace=true writes a cluster-scoped Namespace, and cluster-scoped objects are not managed here");
  }
  if (problems.length === 0) return;
  throw new InvalidSpecError(`outside what Tack manages on cluster '${target.name}' (${describeScope(target.scope)}): ${firstFew(problems)}`,
    ErrorReason.OutsideManagedScope);
}
