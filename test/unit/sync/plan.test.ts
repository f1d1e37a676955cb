import { test } from "node:test";
import assert from "node:assert/strict";
import { kindGroups, kindRank, syncWave, UNLISTED_KIND_RANK } from "../../../src/sync/plan.ts";
import type { KubeObject } from "../../../src/api/index.ts";

const o = (apiVersion: string, kind: string, name: string, namespace?: string): { desired: KubeObject } =>
  ({ desired: { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } } });
const shown = (groups: Array<Array<{ desired: KubeObject }>>) => groups.map((g) => g.map((i) => `${i.desired.kind}/${i.desired.metadata.name}`));

test("sync wave: Tack's, then Argo CD's annotation, else helm.sh/hook-weight (hook or not), else 0", () => {
  const cases: Array<[string, Record<string, string> | undefined, number]> = [
    ["no annotations", undefined, 0],
    ["Argo CD's sync-wave", { "argocd.argoproj.io/sync-wave": "3" }, 3],
    ["Tack's wins over Argo CD's", { "tack.dev/sync-wave": "-2", "argocd.argoproj.io/sync-wave": "3" }, -2],
    ["hook-weight on an ordinary object (argocd-example-apps' helm-hooks Service)", { "helm.sh/hook-weight": "2" }, 2],
    ["hook-weight on a Helm hook", { "helm.sh/hook": "pre-install", "helm.sh/hook-weight": "-5" }, -5],
    ["sync-wave wins over hook-weight", { "argocd.argoproj.io/sync-wave": "1", "helm.sh/hook-weight": "7" }, 1],
    ["an explicit sync-wave 0 wins over hook-weight", { "argocd.argoproj.io/sync-wave": "0", "helm.sh/hook-weight": "7" }, 0],
    ["a sync-wave that is not an integer falls through to hook-weight", { "argocd.argoproj.io/sync-wave": "soon", "helm.sh/hook-weight": "4" }, 4],
    ["as strconv.Atoi: a sign is fine", { "argocd.argoproj.io/sync-wave": "+5" }, 5],
    ["as strconv.Atoi: no decimals", { "argocd.argoproj.io/sync-wave": "1.5" }, 0],
    ["as strconv.Atoi: no spaces", { "helm.sh/hook-weight": " 2" }, 0],
    ["as strconv.Atoi: no trailing text", { "argocd.argoproj.io/sync-wave": "2x" }, 0],
    ["an empty value", { "argocd.argoproj.io/sync-wave": "" }, 0],
  ];
  for (const [name, annotations, wave] of cases) {
    const obj: KubeObject = { apiVersion: "v1", kind: "Service", metadata: { name: "web", ...(annotations ? { annotations } : {}) } };
    assert.equal(syncWave(obj), wave, name);
  }
});

test("kind groups follow Argo CD's kind order, one group per kind, custom resources last", () => {
  const cases: Array<[string, Array<{ desired: KubeObject }>, string[][]]> = [
    ["a Namespace, a CRD, its custom resources and a ConfigMap in one wave", [
      o("x.io/v1", "Widget", "w2", "apps"), o("v1", "ConfigMap", "cfg", "apps"), o("x.io/v1", "Widget", "w1", "apps"),
      o("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.x.io"), o("v1", "Namespace", "apps"),
    ], [["Namespace/apps"], ["ConfigMap/cfg"], ["CustomResourceDefinition/widgets.x.io"], ["Widget/w1", "Widget/w2"]]],
    ["the built-ins in Argo CD's order", [
      o("networking.k8s.io/v1", "Ingress", "i"), o("batch/v1", "CronJob", "c"), o("batch/v1", "Job", "j"), o("apps/v1", "StatefulSet", "s"),
      o("autoscaling/v2", "HorizontalPodAutoscaler", "h"), o("apps/v1", "Deployment", "d"), o("v1", "Pod", "p"), o("apps/v1", "DaemonSet", "ds"),
      o("v1", "Service", "svc"), o("rbac.authorization.k8s.io/v1", "RoleBinding", "rb"), o("rbac.authorization.k8s.io/v1", "Role", "r"),
      o("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "crb"), o("rbac.authorization.k8s.io/v1", "ClusterRole", "cr"),
      o("v1", "PersistentVolumeClaim", "pvc"), o("storage.k8s.io/v1", "StorageClass", "sc"), o("v1", "ConfigMap", "cm"), o("v1", "Secret", "sec"),
      o("v1", "ServiceAccount", "sa"), o("policy/v1", "PodDisruptionBudget", "pdb"), o("v1", "LimitRange", "lr"), o("v1", "ResourceQuota", "rq"),
      o("networking.k8s.io/v1", "NetworkPolicy", "np"), o("apiregistration.k8s.io/v1", "APIService", "api"), o("networking.k8s.io/v1", "IngressClass", "ic"),
    ], [["NetworkPolicy/np"], ["ResourceQuota/rq"], ["LimitRange/lr"], ["PodDisruptionBudget/pdb"], ["ServiceAccount/sa"], ["Secret/sec"],
      ["ConfigMap/cm"], ["StorageClass/sc"], ["PersistentVolumeClaim/pvc"], ["ClusterRole/cr"], ["ClusterRoleBinding/crb"], ["Role/r"],
      ["RoleBinding/rb"], ["Service/svc"], ["DaemonSet/ds"], ["Pod/p"], ["Deployment/d"], ["HorizontalPodAutoscaler/h"], ["StatefulSet/s"],
      ["Job/j"], ["CronJob/c"], ["IngressClass/ic"], ["Ingress/i"], ["APIService/api"]]],
    ["objects of one kind stay together, by namespace then name", [
      o("v1", "ConfigMap", "b", "two"), o("v1", "ConfigMap", "a", "two"), o("v1", "ConfigMap", "z", "one"),
    ], [["ConfigMap/z", "ConfigMap/a", "ConfigMap/b"]]],
    ["unlisted kinds after the listed ones, ordered by kind so that each kind is one group", [
      o("y.io/v1", "Gadget", "a"), o("x.io/v1", "Widget", "b"), o("y.io/v1", "Gadget", "c"), o("v1", "Endpoints", "e"),
      o("scheduling.k8s.io/v1", "PriorityClass", "high"), o("apps/v1", "Deployment", "d"),
    ], [["Deployment/d"], ["Endpoints/e"], ["Gadget/a", "Gadget/c"], ["PriorityClass/high"], ["Widget/b"]]],
    ["one kind name in two groups makes two groups", [o("b.io/v1", "Thing", "x"), o("a.io/v1", "Thing", "y")], [["Thing/y"], ["Thing/x"]]],
    ["nothing to write", [], []],
  ];
  for (const [name, items, expected] of cases) assert.deepEqual(shown(kindGroups(items)), expected, name);
});

test("a custom kind named like a built-in is not ranked as one", () => {
  const cases: Array<[string, string, number]> = [
    ["v1", "Namespace", 0],
    ["v1", "Secret", 7],
    ["apiextensions.k8s.io/v1", "CustomResourceDefinition", 12],
    ["example.com/v1", "Secret", UNLISTED_KIND_RANK],
    ["serving.knative.dev/v1", "Service", UNLISTED_KIND_RANK],
    ["example.com/v1", "CustomResourceDefinition", UNLISTED_KIND_RANK],
  ];
  for (const [apiVersion, kind, rank] of cases) assert.equal(kindRank({ apiVersion, kind }), rank, `${apiVersion} ${kind}`);
});
