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
