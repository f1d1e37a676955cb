// Every annotation and label key Tack reads or writes, in one place (the README's reference lists them).

export const Annotation = {
  /** Written on every applied object: `<app-namespace>_<app-name>:<group>/<kind>:<namespace>/<name>`. */
  TrackingId: "tack.dev/tracking-id",
  /** Set on an Application to ask for an immediate refresh; Tack removes it. "hard" also bypasses caches. */
  Refresh: "tack.dev/refresh",
  ArgoRefresh: "argocd.argoproj.io/refresh",
  KubectlLastApplied: "kubectl.kubernetes.io/last-applied-configuration",
} as const;

export const Label = {
  /** Marks a Secret as a repository credential (`repository`) or a cluster (`cluster`). */
  SecretType: "tack.dev/secret-type",
} as const;

export const FIELD_MANAGER = "tack-controller";

/**
 * Finalizers that ask for cascade deletion of an Application's objects: Tack's, and Argo CD's so that migrated
 * manifests keep working. A `/background` suffix asks for background propagation.
 */
export const Finalizer = {
  Resources: "resources-finalizer.tack.dev",
  ArgoResources: "resources-finalizer.argocd.argoproj.io",
} as const;

/** The cascade-deletion finalizer among these, if any (ours or Argo CD's, with or without a propagation suffix). */
export function resourcesFinalizer(finalizers: readonly string[] | undefined): string | undefined {
  const bases: readonly string[] = [Finalizer.Resources, Finalizer.ArgoResources];
  return (finalizers ?? []).find((f) => bases.some((base) => f === base || f.startsWith(`${base}/`)));
}
