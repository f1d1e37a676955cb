// Helm hooks seen as sync hooks, as Argo CD maps them (gitops-engine pkg/sync/hook/helm): the rendered objects
// get Argo CD's annotations so that the sync engine, which reads those, runs them at the right time.
//
//   helm.sh/hook: pre-install | pre-upgrade    → argocd.argoproj.io/hook: PreSync
//   helm.sh/hook: post-install | post-upgrade  → argocd.argoproj.io/hook: PostSync
//   helm.sh/hook: crd-install                  → not a hook (an ordinary resource), as in Argo CD
//   helm.sh/hook: test*, *-delete, *-rollback  → no sync phase: the object is left out of the render
//   helm.sh/hook-weight: N                     → argocd.argoproj.io/sync-wave: N (when no sync-wave is set)
//   helm.sh/hook-delete-policy: before-hook-creation | hook-succeeded | hook-failed
//                                              → argocd.argoproj.io/hook-delete-policy: BeforeHookCreation | …
//   helm.sh/resource-policy: keep              → argocd.argoproj.io/sync-options: Prune=false,Delete=false
//                                                (never pruned, kept when the Application is deleted: Helm's
//                                                "keep on uninstall"; Argo CD itself ignores this policy)
// An object that already carries argocd.argoproj.io/hook keeps it (Argo CD's annotation wins). Helm's own
// annotations are left in place.
import type { KubeObject } from "../api/index.ts";

export const HelmAnnotation = {
  Hook: "helm.sh/hook",
  HookWeight: "helm.sh/hook-weight",
  HookDeletePolicy: "helm.sh/hook-delete-policy",
  ResourcePolicy: "helm.sh/resource-policy",
} as const;

export const ArgoAnnotation = {
  Hook: "argocd.argoproj.io/hook",
  SyncWave: "argocd.argoproj.io/sync-wave",
  HookDeletePolicy: "argocd.argoproj.io/hook-delete-policy",
  SyncOptions: "argocd.argoproj.io/sync-options",
} as const;

const PHASES: Record<string, string> = {
  "pre-install": "PreSync", "pre-upgrade": "PreSync", "post-install": "PostSync", "post-upgrade": "PostSync",
};
const DELETE_POLICIES: Record<string, string> = {
  "before-hook-creation": "BeforeHookCreation", "hook-succeeded": "HookSucceeded", "hook-failed": "HookFailed",
};

const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

/** Maps Helm's hook annotations in place and drops the hooks no sync phase runs (tests, delete, rollback). */
export function mapHelmHooks(objects: KubeObject[]): KubeObject[] {
  const out: KubeObject[] = [];
  for (const obj of objects) {
    const annotations = obj.metadata.annotations ?? {};
    const hook = annotations[HelmAnnotation.Hook];
    const set = (key: string, value: string) => { obj.metadata.annotations = { ...obj.metadata.annotations, [key]: value }; };
    const weight = annotations[HelmAnnotation.HookWeight];
    if (weight !== undefined && annotations[ArgoAnnotation.SyncWave] === undefined && weight.trim() !== "") set(ArgoAnnotation.SyncWave, weight.trim());
    if (annotations[HelmAnnotation.ResourcePolicy]?.trim() === "keep") {
      const options = list(annotations[ArgoAnnotation.SyncOptions] ?? "");
      for (const o of ["Prune=false", "Delete=false"]) if (!options.includes(o)) options.push(o);
      set(ArgoAnnotation.SyncOptions, options.join(","));
    }
    if (hook !== undefined && hook.trim() !== "" && hook.trim() !== "crd-install" && annotations[ArgoAnnotation.Hook] === undefined) {
      const phases = [...new Set(list(hook).map((h) => PHASES[h]).filter((p): p is string => p !== undefined))];
      if (phases.length === 0) continue;   // test, pre-delete, post-rollback…: nothing in a sync runs them
      set(ArgoAnnotation.Hook, phases.join(","));
      const policy = annotations[HelmAnnotation.HookDeletePolicy];
      if (policy !== undefined && annotations[ArgoAnnotation.HookDeletePolicy] === undefined) {
        const mapped = [...new Set(list(policy).map((p) => DELETE_POLICIES[p]).filter((p): p is string => p !== undefined))];
        if (mapped.length > 0) set(ArgoAnnotation.HookDeletePolicy, mapped.join(","));
      }
    }
    out.push(obj);
  }
  return out;
}
