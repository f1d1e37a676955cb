// Stage "compare": the live state of every object the app declares or owns, from the destination's watch-fed
// cache, compared with the desired state. Objects the app's tracking says it owns and Git no longer declares are
// marked for pruning; nothing else ever is (docs/architecture.md, safety rule 3).
import type { AppRef, ResourceStatus } from "../../api/index.ts";
import { keyString } from "../../api/index.ts";
import { outsideScope } from "../../cluster/index.ts";
import type { ResourceIgnoreDifferences } from "../../diff/ignore.ts";
import { ComparisonError, ErrorReason, errorMessage } from "../../errors.ts";
import { hasOption, hookSpec, objectCompareOptions } from "../../sync/plan.ts";
import type { TargetCluster } from "../clusters.ts";
import { compareDesired, type ResourceComparison } from "../compare.ts";
import type { DesiredObject } from "../desired.ts";
import type { ReconcileContext } from "./context.ts";
import type { Loaded } from "./source.ts";

/** Watches the types the app uses now and the ones its inventory says it used before (for pruning). */
export async function watchTypes(target: TargetCluster, loaded: Pick<Loaded, "desired" | "hooks">, inventory: ResourceStatus[]): Promise<void> {
  const types = new Map([...loaded.desired, ...loaded.hooks].map((d) => [`${d.type.group}/${d.type.kind}`, d.type]));
  for (const entry of inventory) {
    const id = `${entry.group ?? ""}/${entry.kind}`;
    if (types.has(id)) continue;
    const type = target.discovery.byGroupKind(entry.group ?? "", entry.kind);
    // Recorded before the cluster was confined: not watched (nor pruned) now that it lies outside the scope.
    if (type && outsideScope(target.scope, { ...type, namespace: entry.namespace ?? "", name: entry.name, namespaced: type.namespaced }) === undefined) {
      types.set(id, type);
    }
  }
  try {
    // A type whose CRD is applied by this very sync is not served yet: it is watched after the sync.
    await Promise.all([...types.values()].filter((t) => target.discovery.peek(t.group ? `${t.group}/${t.version}` : t.version, t.kind))
      .map((t) => target.cache.ensureWatched(t)));
  } catch (err) {
    throw new ComparisonError(ErrorReason.ClusterError, `watching live state: ${errorMessage(err)}`, { cause: err });
  }
}

/** Desired vs live for each declared object, plus each owned object Git no longer declares (requiresPruning). */
export async function compareApp(ctx: ReconcileContext, target: TargetCluster, desired: DesiredObject[], syncOptions: string[],
  ignoreRules: ResourceIgnoreDifferences[]): Promise<ResourceComparison[]> {
  const ref: AppRef = ctx.ref;
  const compared = await compareDesired(desired, {
    cache: target.cache, writer: target.writer, comparisons: target.comparisons, dryRunConcurrency: 8, syncOptions,
    ignore: { rules: ignoreRules, jq: ctx.deps.jq },
  });
  const wanted = new Set(desired.map((d) => keyString(d.key)));
  for (const owned of target.ownership.owned(ctx.key)) {
    if (wanted.has(keyString(owned.key))) continue;
    const live = target.cache.get(owned.type, owned.key.namespace, owned.key.name);
    // Already being deleted (a prune in progress, waiting on finalizers): nothing left to do for it.
    if (!live || live.metadata.deletionTimestamp) continue;
    // Hooks are run by syncs and removed by their delete policy, never pruned as drift.
    if (hookSpec(live)) continue;
    // IgnoreExtraneous: an object left in the cluster on purpose does not make the app OutOfSync.
    const extraneousIgnored = hasOption(objectCompareOptions(live), "IgnoreExtraneous");
    compared.push({ key: owned.key, type: owned.type, desired: undefined, live, inSync: extraneousIgnored, requiresPruning: true,
      message: `tracked by ${ref.namespace}/${ref.name} but no longer in Git` });
  }
  return compared;
}
