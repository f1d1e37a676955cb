// Ownership: every object Tack applies carries `tack.dev/tracking-id`, naming the Application and the object
// itself. The object's identity is part of the id so that a manifest copied from another object (or
// another app) cannot make Tack believe it owns something it never applied.
import type { KubeObject, ResourceKey } from "./kube-object.ts";
import { keyOf } from "./kube-object.ts";
import { Annotation } from "./annotations.ts";

export interface AppRef { namespace: string; name: string }

export function trackingId(app: AppRef, key: ResourceKey): string {
  return `${app.namespace}_${app.name}:${key.group}/${key.kind}:${key.namespace}/${key.name}`;
}

/** The app named by an object's tracking id, when the id is well-formed and matches the object itself. */
export function owningApp(obj: KubeObject): AppRef | undefined {
  const id = obj.metadata.annotations?.[Annotation.TrackingId];
  if (!id) return undefined;
  const match = /^([^_:]+)_([^:]+):([^/]*)\/([^:]+):([^/]*)\/(.+)$/.exec(id);
  if (!match) return undefined;
  const [, appNamespace, appName, group, kind, namespace, name] = match as unknown as string[];
  const key = keyOf(obj);
  if (group !== key.group || kind !== key.kind || namespace !== key.namespace || name !== key.name) return undefined;
  return { namespace: appNamespace!, name: appName! };
}

export function isOwnedBy(obj: KubeObject, app: AppRef): boolean {
  const owner = owningApp(obj);
  return owner !== undefined && owner.namespace === app.namespace && owner.name === app.name;
}

/** True when the object is tracked by an Application other than `app` (a shared object, never taken over silently). */
export function isTrackedByAnother(obj: KubeObject, app: AppRef): boolean {
  const owner = owningApp(obj);
  return owner !== undefined && (owner.namespace !== app.namespace || owner.name !== app.name);
}

/** "Application team/web" for the app that tracks the object, in every message that names an owner. */
export function describeOwner(obj: KubeObject): string {
  const owner = owningApp(obj);
  return owner ? `Application ${owner.namespace}/${owner.name}` : "no Application";
}
