// From rendered objects to the desired state Tack will compare and apply: each object gets its resource
// type from discovery, a namespace when it is namespaced and has none, and the tracking annotation.
import type { KubeObject, ResourceKey } from "../api/index.ts";
import { Annotation, displayName, groupOf, keyOf, keyString, trackingId, type AppRef } from "../api/index.ts";
import type { Discovery, ResourceType } from "../cluster/index.ts";
import { ComparisonError, ErrorReason, InvalidSpecError } from "../errors.ts";
import { hookSpec } from "../sync/plan.ts";
import type { HookItem } from "../sync/engine.ts";

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
export interface PreparedState {
  desired: DesiredObject[];
  /** Hooks run by the sync engine in their phase; never compared, never pruned as drift. */
  hooks: HookItem[];
  /** Objects left out because the cluster does not serve their kind yet (SkipDryRunOnMissingResource). */
  leftOut: number;
}

export async function prepareDesired(objects: KubeObject[], app: AppRef, destinationNamespace: string | undefined,
  discovery: Discovery, options: { skipDryRunOnMissingResource?: boolean } = {}): Promise<PreparedState> {
  const crdTypes = typesFromCrds(objects);
  const result: DesiredObject[] = [];
  const hooks: HookItem[] = [];
  const seen = new Map<string, string>();
  let leftOut = 0;
  for (const obj of objects) {
    const hook = hookSpec(obj);
    if (hook) {
      // "Skip" and Helm test hooks are never applied; an object with no usable hook type is left out too.
      if (hook.types.length === 0 || hook.types.includes("Skip")) continue;
      const prepared = await prepareOne(obj, app, destinationNamespace, discovery, crdTypes);
      hooks.push({ id: keyString(prepared.key), key: prepared.key, type: prepared.type, desired: prepared.desired, spec: hook });
      continue;
    }
    if (!obj.metadata.name) {
      throw new ComparisonError(ErrorReason.ManifestInvalid, `${obj.kind} with generateName '${obj.metadata.generateName}' is not a hook: only hooks may use generateName`, { terminal: true });
    }
    const prepared = await prepareOne(obj, app, destinationNamespace, discovery, crdTypes, options.skipDryRunOnMissingResource);
    if (!prepared.type.resource) { leftOut++; continue; }   // SkipDryRunOnMissingResource: its CRD is not there yet
    const id = keyString(prepared.key);
    if (seen.has(id)) {
      throw new ComparisonError(ErrorReason.ManifestInvalid, `${displayName(prepared.key)} is declared more than once`, { terminal: true });
    }
    seen.set(id, id);
    result.push(prepared);
  }
  return { desired: result, hooks, leftOut };
}

async function prepareOne(obj: KubeObject, app: AppRef, destinationNamespace: string | undefined, discovery: Discovery,
  crdTypes: Map<string, ResourceType>, skipMissing = false): Promise<DesiredObject> {
  const name = obj.metadata.name ?? obj.metadata.generateName ?? "";
  const type = (await discovery.lookup(obj.apiVersion, obj.kind)) ?? crdTypes.get(`${obj.apiVersion}/${obj.kind}`);
  if (!type) {
    if (skipMissing) {
      return { key: { group: groupOf(obj.apiVersion), kind: obj.kind, namespace: obj.metadata.namespace ?? "", name },
        type: { group: groupOf(obj.apiVersion), version: "", kind: obj.kind, resource: "", namespaced: true, verbs: [] }, desired: obj };
    }
    throw new ComparisonError(ErrorReason.UnknownResourceType,
      `${obj.kind}/${name}: the cluster does not serve kind ${obj.kind} in ${obj.apiVersion}; is its CRD installed? ` +
      "(sync option SkipDryRunOnMissingResource=true skips it until it is)");
  }
  const metadata = { ...obj.metadata };
  if (type.namespaced) {
    metadata.namespace ||= destinationNamespace;
    if (!metadata.namespace) {
      throw new InvalidSpecError(`${obj.kind}/${name} is namespaced but has no namespace, and spec.destination.namespace is empty`);
    }
  } else {
    delete metadata.namespace;
  }
  const prepared: KubeObject = { ...obj, metadata };
  const key = { ...keyOf(prepared), name };
  prepared.metadata.annotations = { ...metadata.annotations, [Annotation.TrackingId]: trackingId(app, key) };
  return { key, type, desired: prepared };
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

