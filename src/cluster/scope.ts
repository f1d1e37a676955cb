// Which part of a cluster Tack may manage. Argo CD's cluster Secrets carry the same two settings: `namespaces`
// (a comma-separated list; empty means every namespace) and `clusterResources` (whether cluster-scoped kinds
// may be managed when a namespace list is set). A confined Tack watches only those namespaces and refuses,
// before any write, every object outside them.

export interface ClusterScope {
  /** The namespaces Tack may read and write; empty means the whole cluster. */
  readonly namespaces: readonly string[];
  /** With a namespace list, whether cluster-scoped objects (Namespaces, CRDs, ClusterRoles…) may be managed. */
  readonly clusterResources: boolean;
}

/** A namespace name: a lower-case DNS label. */
export const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const WHOLE_CLUSTER: ClusterScope = Object.freeze({ namespaces: Object.freeze([]), clusterResources: true });

export function isConfined(scope: ClusterScope): boolean { return scope.namespaces.length > 0; }

export interface ScopedObject { kind: string; namespace: string; name: string; namespaced: boolean }

/** Why the object lies outside the scope, or undefined when Tack may manage it. */
export function outsideScope(scope: ClusterScope, object: ScopedObject): string | undefined {
  if (!isConfined(scope)) return undefined;
  if (!object.namespaced) {
    return scope.clusterResources ? undefined : `${object.kind}/${object.name} is cluster-scoped, and cluster-scoped objects are not managed here`;
  }
  if (!scope.namespaces.includes(object.namespace)) {
    return `${object.kind}/${object.namespace}/${object.name} is in namespace '${object.namespace}', which is not managed here`;
  }
  return undefined;
}

export function describeScope(scope: ClusterScope): string {
  return isConfined(scope)
    ? `namespaces ${scope.namespaces.join(", ")}${scope.clusterResources ? " and cluster-scoped objects" : ""}`
    : "the whole cluster";
}
