// From rendered objects to the desired state Tack will compare and apply: each object gets its resource
// type from discovery, a namespace when it is namespaced and has none, and the tracking annotation.
import type { KubeObject, ResourceKey } from "../api/index.ts";
import { Annotation, displayName, groupOf, keyOf, keyString, trackingId, type AppRef } from "../api/index.ts";
import type { Discovery, ResourceType } from "../cluster/index.ts";
import { ComparisonError, ErrorReason, InvalidSpecError } from "../errors.ts";

export interface DesiredObject {
  key: ResourceKey;
  type: ResourceType;
  desired: KubeObject;
}

/**
 * Resolves the rendered objects against the API server's types. Kinds defined by a CRD in the same render
 * are accepted before the CRD exists (it is applied first). Unknown kinds and duplicates are errors that
 * name the object.
 */
export async function prepareDesired(objects: KubeObject[], app: AppRef, destinationNamespace: string | undefined,
  discovery: Discovery): Promise<DesiredObject[]> {
  const crdTypes = typesFromCrds(objects);
  const result: DesiredObject[] = [];
  const seen = new Map<string, string>();
  for (const obj of objects) {
    if (!obj.metadata.name || isHook(obj)) {
      // Hooks (and generateName objects, which only hooks may use) are run by the sync engine in their phase;
      // they are never part of the compared state, and are never pruned as drift.
      continue;
    }
    const type = (await discovery.lookup(obj.apiVersion, obj.kind)) ?? crdTypes.get(`${obj.apiVersion}/${obj.kind}`);
    if (!type) {
      throw new ComparisonError(ErrorReason.UnknownResourceType,
        `${obj.kind}/${obj.metadata.name}: the cluster does not serve kind ${obj.kind} in ${obj.apiVersion}; is its CRD installed?`);
    }
    const metadata = { ...obj.metadata };
    if (type.namespaced) {
      metadata.namespace ||= destinationNamespace;
      if (!metadata.namespace) {
        throw new InvalidSpecError(`${obj.kind}/${obj.metadata.name} is namespaced but has no namespace, and spec.destination.namespace is empty`);
      }
    } else {
      delete metadata.namespace;
    }
    const prepared: KubeObject = { ...obj, metadata };
    const key = keyOf(prepared);
    const id = keyString(key);
    if (seen.has(id)) {
      throw new ComparisonError(ErrorReason.ManifestInvalid, `${displayName(key)} is declared more than once`, { terminal: true });
    }
    seen.set(id, id);
    prepared.metadata.annotations = { ...metadata.annotations, [Annotation.TrackingId]: trackingId(app, key) };
    result.push({ key, type, desired: prepared });
  }
  return result;
}

/** Resource types declared by CRDs in the render, for objects of those kinds applied in the same sync. */
function typesFromCrds(objects: KubeObject[]): Map<string, ResourceType> {
  const types = new Map<string, ResourceType>();
  for (const obj of objects) {
    if (obj.kind !== "CustomResourceDefinition" || groupOf(obj.apiVersion) !== "apiextensions.k8s.io") continue;
    const spec = obj.spec as { group?: string; scope?: string; names?: { kind?: string; plural?: string }; versions?: Array<{ name?: string; served?: boolean }> } | undefined;
    if (!spec?.group || !spec.names?.kind || !spec.names.plural) continue;
    for (const version of spec.versions ?? []) {
      if (!version.name || version.served === false) continue;
      types.set(`${spec.group}/${version.name}/${spec.names.kind}`, {
        group: spec.group, version: version.name, kind: spec.names.kind, resource: spec.names.plural,
        namespaced: spec.scope !== "Cluster", verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
      });
    }
  }
  return types;
}

const HOOK_ANNOTATIONS = ["tack.dev/hook", "argocd.argoproj.io/hook", "helm.sh/hook"];

export function isHook(obj: KubeObject): boolean {
  const annotations = obj.metadata.annotations ?? {};
  return HOOK_ANNOTATIONS.some((key) => annotations[key] !== undefined && annotations[key] !== "");
}
