// Captures the health fixtures in test/fixtures/health/ from real objects: starts the local control plane with its
// controllers (kube-controller-manager, kube-scheduler, kwok fake nodes), creates objects in each state, polls until
// the controllers have put them there, strips the volatile metadata and writes test/fixtures/health/<name>.yaml.
//
//   PATH=$PWD/node_modules/.bin:$PATH node scripts/capture-health-fixtures.ts [--out=DIR] [NAME...]
//
// With names (e.g. `deployment-healthy`), only those fixtures are captured. The fixtures a cluster here cannot
// produce stay hand-written: test/fixtures/health/README.md lists which and why.

import { mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { dump } from "js-yaml";
import type { KubeObject } from "../src/api/index.ts";
import { simulatedPod, startControlPlane, type ControlPlane } from "../test/support/control-plane.ts";
import { TestKube } from "../test/support/kube.ts";

const DEFAULT_OUT = new URL("../test/fixtures/health/", import.meta.url);
const outArg = process.argv.slice(2).find((a) => a.startsWith("--out="));
// --out=DIR writes elsewhere (to compare with the fixtures in place before replacing them).
const OUT = outArg ? new URL(`file://${resolve(outArg.slice("--out=".length))}/`) : DEFAULT_OUT;
const HEADER = "# Captured from a real API server by scripts/capture-health-fixtures.ts (kube-controller-manager + kwok)\n";
const NS = "shop";
const IMAGE = "registry.example.com/shop/api:1.5.0";

type Obj = Record<string, any>; // API objects as the server returns them: read loosely, checked by the predicates

interface Capture {
  /** The fixture's name without .yaml: <kind>[-<version>]-<state>. */
  name: string;
  /** Creates what the capture needs; returns the reader of the object to capture. */
  setup(kube: TestKube): Promise<() => Promise<Obj | undefined>>;
  /** True once the object is in the state the fixture is for. */
  ready(obj: Obj): boolean;
  timeoutMs?: number;
  /** Runs after all the others: it disturbs the cluster (an unavailable aggregated API breaks discovery). */
  last?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Object builders

const labels = (app: string): Record<string, string> => ({ app });

function podTemplate(app: string, sim: Parameters<typeof simulatedPod>[0] = {}, extra: Obj = {}): Obj {
  return {
    metadata: { labels: labels(app), ...(Object.keys(simulatedPod(sim)).length > 0 && { annotations: simulatedPod(sim) }) },
    spec: { containers: [{ name: "api", image: IMAGE }], ...extra },
  };
}

function deployment(name: string, spec: Obj, sim: Parameters<typeof simulatedPod>[0] = {}): Obj {
  return {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: NS },
    spec: { replicas: 3, selector: { matchLabels: labels(name) }, template: podTemplate(name, sim), ...spec },
  };
}

function statefulSet(name: string, spec: Obj, sim: Parameters<typeof simulatedPod>[0] = {}): Obj {
  return {
    apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name, namespace: NS },
    spec: { replicas: 3, serviceName: name, selector: { matchLabels: labels(name) }, template: podTemplate(name, sim), ...spec },
  };
}

function daemonSet(name: string, sim: Parameters<typeof simulatedPod>[0] = {}): Obj {
  return {
    apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name, namespace: NS },
    spec: { selector: { matchLabels: labels(name) }, template: podTemplate(name, sim) },
  };
}

function replicaSet(name: string, sim: Parameters<typeof simulatedPod>[0] = {}): Obj {
  return {
    apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name, namespace: NS },
    spec: { replicas: 3, selector: { matchLabels: labels(name) }, template: podTemplate(name, sim) },
  };
}

function pod(name: string, spec: Obj, sim: Parameters<typeof simulatedPod>[0] = {}): Obj {
  const t = podTemplate(name, sim, spec);
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: NS, ...t["metadata"] }, spec: t["spec"] };
}

function job(name: string, spec: Obj, sim: Parameters<typeof simulatedPod>[0] = {}): Obj {
  return {
    apiVersion: "batch/v1", kind: "Job", metadata: { name, namespace: NS },
    spec: { backoffLimit: 0, template: podTemplate(name, sim, { restartPolicy: "Never" }), ...spec },
  };
}

function cronJob(name: string, spec: Obj, sim: Parameters<typeof simulatedPod>[0] = {}): Obj {
  return {
    apiVersion: "batch/v1", kind: "CronJob", metadata: { name, namespace: NS },
    spec: {
      schedule: "* * * * *",
      jobTemplate: { spec: { backoffLimit: 0, template: podTemplate(name, sim, { restartPolicy: "Never" }) } },
      ...spec,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Readers and predicates

/** namespace null: a cluster-scoped object. */
const getter = (kube: TestKube, apiVersion: string, kind: string, name: string, namespace: string | null = NS) =>
  async (): Promise<Obj | undefined> => (await kube.get(apiVersion, kind, namespace ?? undefined, name)) as Obj | undefined;

async function applyAll(kube: TestKube, ...objs: Obj[]): Promise<void> {
  for (const o of objs) await kube.apply(o as KubeObject);
}

const cond = (obj: Obj, type: string): Obj | undefined =>
  ((obj["status"]?.conditions ?? []) as Obj[]).find((c) => c["type"] === type);

const observed = (obj: Obj): boolean => obj["status"]?.observedGeneration === obj["metadata"]?.generation;

function podReady(obj: Obj): boolean {
  return obj["status"]?.phase === "Running" && cond(obj, "Ready")?.["status"] === "True";
}

// ---------------------------------------------------------------------------------------------------------------
// The captures

const captures: Capture[] = [
  // Deployment
  {
    name: "deployment-healthy",
    async setup(kube) { await applyAll(kube, deployment("api", {})); return getter(kube, "apps/v1", "Deployment", "api"); },
    ready: (o) => observed(o) && o["status"]?.availableReplicas === 3 && o["status"]?.updatedReplicas === 3 && o["status"]?.replicas === 3
      && cond(o, "Progressing")?.["reason"] === "NewReplicaSetAvailable",
  },
  {
    name: "deployment-progressing",
    async setup(kube) {
      // Named as test/unit/cli/health-command.test.ts expects. One replica available (ready for minReadySeconds),
      // then scaled to 3: the two new pods are ready at once but available only 8 s later, the window captured.
      const d = deployment("guestbook-ui", { replicas: 1, minReadySeconds: 8 });
      await applyAll(kube, { ...d, metadata: { name: "guestbook-ui", namespace: "default" } });
      const get = getter(kube, "apps/v1", "Deployment", "guestbook-ui", "default");
      await until(get, (o) => observed(o) && o["status"]?.availableReplicas === 1, "guestbook-ui available at 1 replica");
      await kube.mergePatch("apps/v1", "Deployment", "default", "guestbook-ui", { spec: { replicas: 3 } });
      return get;
    },
    ready: (o) => observed(o) && o["status"]?.updatedReplicas === 3 && (o["status"]?.availableReplicas ?? 0) >= 1 && (o["status"]?.availableReplicas ?? 0) < 3,
  },
  {
    name: "deployment-degraded",
    async setup(kube) {
      await applyAll(kube, deployment("worker", { progressDeadlineSeconds: 3 }, { outcome: "unready" }));
      return getter(kube, "apps/v1", "Deployment", "worker");
    },
    ready: (o) => observed(o) && cond(o, "Progressing")?.["reason"] === "ProgressDeadlineExceeded",
    timeoutMs: 60_000,
  },
  {
    name: "deployment-suspended",
    async setup(kube) {
      await applyAll(kube, deployment("batch-api", { paused: true }));
      return getter(kube, "apps/v1", "Deployment", "batch-api");
    },
    ready: (o) => observed(o) && cond(o, "Progressing")?.["reason"] === "DeploymentPaused",
  },
  // StatefulSet
  {
    name: "statefulset-healthy",
    async setup(kube) { await applyAll(kube, statefulSet("db", {})); return getter(kube, "apps/v1", "StatefulSet", "db"); },
    ready: (o) => observed(o) && o["status"]?.readyReplicas === 3 && o["status"]?.availableReplicas === 3 && o["status"]?.updatedReplicas === 3,
  },
  {
    name: "statefulset-progressing",
    async setup(kube) {
      // Scaled up from 1 to 3: pods are created one at a time (OrderedReady), each waiting 2 s per transition.
      await applyAll(kube, statefulSet("cache", { replicas: 1 }, { delay: "2s" }));
      const get = getter(kube, "apps/v1", "StatefulSet", "cache");
      await until(get, (o) => observed(o) && o["status"]?.readyReplicas === 1, "statefulset cache ready at 1 replica");
      await kube.mergePatch("apps/v1", "StatefulSet", NS, "cache", { spec: { replicas: 3 } });
      return get;
    },
    ready: (o) => observed(o) && o["spec"]?.replicas === 3 && (o["status"]?.replicas ?? 0) >= 2 && (o["status"]?.readyReplicas ?? 0) < 3,
    timeoutMs: 60_000,
  },
  // DaemonSet
  {
    name: "daemonset-healthy",
    async setup(kube) { await applyAll(kube, daemonSet("node-agent")); return getter(kube, "apps/v1", "DaemonSet", "node-agent"); },
    ready: (o) => observed(o) && o["status"]?.desiredNumberScheduled === 2 && o["status"]?.numberAvailable === 2 && o["status"]?.updatedNumberScheduled === 2,
  },
  {
    name: "daemonset-progressing",
    async setup(kube) {
      await applyAll(kube, daemonSet("log-shipper", { delay: "30s" }));
      return getter(kube, "apps/v1", "DaemonSet", "log-shipper");
    },
    ready: (o) => observed(o) && o["status"]?.desiredNumberScheduled === 2 && o["status"]?.updatedNumberScheduled === 2 && (o["status"]?.numberAvailable ?? 0) === 0,
  },
  {
    name: "daemonset-rollout-progressing",
    async setup(kube) {
      // A template change rolls out node by node (maxUnavailable 1); the new pods wait 10 s per transition.
      await applyAll(kube, daemonSet("metrics-agent"));
      const get = getter(kube, "apps/v1", "DaemonSet", "metrics-agent");
      await until(get, (o) => observed(o) && o["status"]?.numberAvailable === 2, "daemonset metrics-agent available");
      const updated = daemonSet("metrics-agent", { delay: "10s" });
      updated["spec"].template.spec.containers[0].image = "registry.example.com/shop/api:1.6.0";
      await applyAll(kube, updated);
      return get;
    },
    ready: (o) => observed(o) && o["status"]?.desiredNumberScheduled === 2 && o["status"]?.updatedNumberScheduled === 1,
  },
  // ReplicaSet
  {
    name: "replicaset-healthy",
    async setup(kube) { await applyAll(kube, replicaSet("api-rs")); return getter(kube, "apps/v1", "ReplicaSet", "api-rs"); },
    ready: (o) => observed(o) && o["status"]?.availableReplicas === 3 && o["status"]?.readyReplicas === 3,
  },
  {
    name: "replicaset-progressing",
    async setup(kube) { await applyAll(kube, replicaSet("web-rs", { delay: "30s" })); return getter(kube, "apps/v1", "ReplicaSet", "web-rs"); },
    ready: (o) => observed(o) && o["status"]?.replicas === 3 && (o["status"]?.availableReplicas ?? 0) === 0,
  },
  {
    name: "replicaset-degraded",
    async setup(kube) {
      // A quota that allows no pods in its own namespace: the ReplicaSet controller reports FailedCreate.
      await kube.createNamespace("quota");
      await applyAll(kube,
        { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "no-pods", namespace: "quota" }, spec: { hard: { pods: "0" } } });
      await until(getter(kube, "v1", "ResourceQuota", "no-pods", "quota"), (o) => o["status"]?.hard?.pods === "0", "quota status");
      await applyAll(kube, { ...replicaSet("api-rs"), metadata: { name: "api-rs", namespace: "quota" } });
      return getter(kube, "apps/v1", "ReplicaSet", "api-rs", "quota");
    },
    ready: (o) => observed(o) && cond(o, "ReplicaFailure")?.["reason"] === "FailedCreate",
  },
  // Pod
  {
    name: "pod-healthy",
    async setup(kube) { await applyAll(kube, pod("api-pod", {})); return getter(kube, "v1", "Pod", "api-pod"); },
    ready: podReady,
  },
  {
    name: "pod-pending-progressing",
    async setup(kube) {
      const p = pod("big-pod", {});
      p["spec"].containers[0].resources = { requests: { cpu: "64" } };
      await applyAll(kube, p);
      return getter(kube, "v1", "Pod", "big-pod");
    },
    ready: (o) => o["status"]?.phase === "Pending" && cond(o, "PodScheduled")?.["reason"] === "Unschedulable",
  },
  {
    name: "pod-failed-degraded",
    async setup(kube) {
      await applyAll(kube, pod("migrate", { restartPolicy: "Never" }, { outcome: "fail" }));
      return getter(kube, "v1", "Pod", "migrate");
    },
    ready: (o) => o["status"]?.phase === "Failed",
  },
  {
    name: "pod-succeeded-healthy",
    async setup(kube) {
      // Only a Job's pods complete (kwok's pod-complete stage): capture the pod of a Job.
      await applyAll(kube, job("report", {}));
      return async () => {
        const pods = (await kube.client.request<{ items: Obj[] }>({
          method: "GET", path: `/api/v1/namespaces/${NS}/pods`, query: { labelSelector: "job-name=report" },
        })).items;
        return pods[0] && { apiVersion: "v1", kind: "Pod", ...pods[0] }; // list items carry no apiVersion and kind
      };
    },
    // Also wait for the Job controller to remove its tracking finalizer, so the capture is the pod at rest.
    ready: (o) => o["status"]?.phase === "Succeeded" && !(o["metadata"]?.finalizers ?? []).length,
  },
  {
    name: "pod-crashloop-degraded",
    async setup(kube) {
      await applyAll(kube, pod("crasher", { restartPolicy: "Always" }, { outcome: "fail" }));
      return getter(kube, "v1", "Pod", "crasher");
    },
    ready: (o) => ((o["status"]?.containerStatuses ?? []) as Obj[]).some((c) => c["state"]?.waiting?.reason === "CrashLoopBackOff"),
  },
  // Job
  {
    name: "job-healthy",
    async setup(kube) { await applyAll(kube, job("migrate-db", {})); return getter(kube, "batch/v1", "Job", "migrate-db"); },
    ready: (o) => cond(o, "Complete")?.["status"] === "True",
  },
  {
    name: "job-degraded",
    async setup(kube) { await applyAll(kube, job("seed", {}, { outcome: "fail" })); return getter(kube, "batch/v1", "Job", "seed"); },
    ready: (o) => cond(o, "Failed")?.["status"] === "True",
  },
  {
    name: "job-progressing",
    async setup(kube) {
      await applyAll(kube, job("backfill", { completions: 5, parallelism: 2 }, { outcome: "unready" }));
      return getter(kube, "batch/v1", "Job", "backfill");
    },
    ready: (o) => o["status"]?.active === 2 && o["status"]?.ready === 0,
  },
  {
    name: "job-suspended",
    async setup(kube) { await applyAll(kube, job("nightly", { suspend: true })); return getter(kube, "batch/v1", "Job", "nightly"); },
    ready: (o) => cond(o, "Suspended")?.["status"] === "True",
  },
  // CronJob (schedule every minute: the healthy, degraded and progressing captures wait for the first run)
  {
    name: "cronjob-suspended",
    async setup(kube) { await applyAll(kube, cronJob("cleanup", { suspend: true })); return getter(kube, "batch/v1", "CronJob", "cleanup"); },
    ready: (o) => o["spec"]?.suspend === true,
  },
  {
    name: "cronjob-never-scheduled-healthy",
    async setup(kube) {
      await applyAll(kube, cronJob("yearly", { schedule: "0 0 1 1 *" }));
      return getter(kube, "batch/v1", "CronJob", "yearly");
    },
    ready: () => true,
  },
  {
    name: "cronjob-healthy",
    async setup(kube) { await applyAll(kube, cronJob("backup", {})); return getter(kube, "batch/v1", "CronJob", "backup"); },
    ready: (o) => !!o["status"]?.lastSuccessfulTime && !(o["status"]?.active ?? []).length,
    timeoutMs: 100_000,
  },
  {
    name: "cronjob-progressing",
    async setup(kube) { await applyAll(kube, cronJob("sync", {}, { outcome: "unready" })); return getter(kube, "batch/v1", "CronJob", "sync"); },
    ready: (o) => (o["status"]?.active ?? []).length > 0,
    timeoutMs: 100_000,
  },
  {
    name: "cronjob-degraded",
    async setup(kube) {
      const get = getter(kube, "batch/v1", "CronJob", "report-mail");
      await applyAll(kube, cronJob("report-mail", {}, { outcome: "fail" }));
      // Ready when the job it last scheduled has failed (the CronJob's own status then has no active job).
      const jobFailed = async (): Promise<boolean> => {
        const jobs = await kube.client.request<{ items: Obj[] }>({ method: "GET", path: `/apis/batch/v1/namespaces/${NS}/jobs` });
        return jobs.items.some((j) => j["metadata"]?.ownerReferences?.[0]?.name === "report-mail" && cond(j, "Failed")?.["status"] === "True");
      };
      return async () => ((await jobFailed()) ? get() : undefined);
    },
    ready: (o) => !!o["status"]?.lastScheduleTime && !(o["status"]?.active ?? []).length,
    timeoutMs: 100_000,
  },
  // PersistentVolumeClaim: no provisioner and no volume, so it stays Pending
  {
    name: "pvc-pending-healthy",
    async setup(kube) {
      await applyAll(kube, {
        apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: NS },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      });
      return getter(kube, "v1", "PersistentVolumeClaim", "data");
    },
    ready: (o) => o["status"]?.phase === "Pending",
  },
  {
    name: "pvc-healthy",
    async setup(kube) {
      await kube.createNamespace("cache");
      // A static PersistentVolume the PV controller binds the claim to (no provisioner involved).
      await applyAll(kube,
        {
          apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "pv-data" },
          spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], storageClassName: "manual", hostPath: { path: "/tmp/pv-data" } },
        },
        {
          // Named as test/unit/cli/health-command.test.ts expects.
          apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data-redis-0", namespace: "cache" },
          spec: { accessModes: ["ReadWriteOnce"], storageClassName: "manual", resources: { requests: { storage: "1Gi" } } },
        });
      return getter(kube, "v1", "PersistentVolumeClaim", "data-redis-0", "cache");
    },
    ready: (o) => o["status"]?.phase === "Bound",
  },
  // Service
  {
    name: "service-healthy",
    async setup(kube) {
      await applyAll(kube, { apiVersion: "v1", kind: "Service", metadata: { name: "api", namespace: NS }, spec: { selector: labels("api"), ports: [{ port: 80, targetPort: 8080 }] } });
      return getter(kube, "v1", "Service", "api");
    },
    ready: (o) => !!o["spec"]?.clusterIP,
  },
  {
    name: "service-loadbalancer-progressing",
    async setup(kube) {
      await applyAll(kube, { apiVersion: "v1", kind: "Service", metadata: { name: "frontend", namespace: NS }, spec: { type: "LoadBalancer", selector: labels("web"), ports: [{ port: 443, targetPort: 8443 }] } });
      return getter(kube, "v1", "Service", "frontend");
    },
    ready: (o) => !!o["spec"]?.clusterIP,
  },
  // Namespace
  {
    name: "namespace-healthy",
    async setup(kube) { return getter(kube, "v1", "Namespace", NS, null); },
    ready: (o) => o["status"]?.phase === "Active",
  },
  {
    name: "namespace-terminating-progressing",
    async setup(kube) {
      // A ConfigMap with a finalizer nobody removes keeps its namespace Terminating.
      await kube.createNamespace("legacy");
      await applyAll(kube, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "held", namespace: "legacy", finalizers: ["example.com/hold"] } });
      await kube.delete("v1", "Namespace", undefined, "legacy");
      return getter(kube, "v1", "Namespace", "legacy", null);
    },
    ready: (o) => o["status"]?.phase === "Terminating" && cond(o, "NamespaceFinalizersRemaining")?.["status"] === "True",
  },
  // HorizontalPodAutoscaler: no metrics API here, so the controller reports it cannot compute the replica count
  {
    name: "hpa-v2-no-metrics-healthy",
    async setup(kube) { await ensureHpa(kube); return getter(kube, "autoscaling/v2", "HorizontalPodAutoscaler", "api"); },
    ready: (o) => cond(o, "ScalingActive")?.["status"] === "False",
  },
  {
    name: "hpa-v1-degraded",
    async setup(kube) {
      // autoscaling/v1 (conditions in an annotation), targeting a Deployment that does not exist.
      await applyAll(kube, {
        apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: { name: "orders", namespace: NS },
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "orders" }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
      });
      return getter(kube, "autoscaling/v1", "HorizontalPodAutoscaler", "orders");
    },
    ready: (o) => String(o["metadata"]?.annotations?.["autoscaling.alpha.kubernetes.io/conditions"] ?? "").includes("FailedGetScale"),
  },
  // CustomResourceDefinition
  {
    name: "crd-healthy", // named as test/unit/cli/health-command.test.ts expects
    async setup(kube) {
      await applyAll(kube, {
        apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "certificates.cert-manager.io" },
        spec: {
          group: "cert-manager.io", scope: "Namespaced",
          names: { plural: "certificates", singular: "certificate", kind: "Certificate", shortNames: ["cert"] },
          versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
        },
      });
      return getter(kube, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "certificates.cert-manager.io", null);
    },
    ready: (o) => cond(o, "Established")?.["status"] === "True" && cond(o, "NamesAccepted")?.["status"] === "True",
  },
  {
    name: "crd-names-degraded",
    async setup(kube) {
      // A second CRD claiming the short name "cert" that certificates.cert-manager.io already has.
      await until(getter(kube, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "certificates.cert-manager.io", null),
        (o) => cond(o, "Established")?.["status"] === "True", "first CRD established", 30_000);
      await applyAll(kube, {
        apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "certs.cert-manager.io" },
        spec: {
          group: "cert-manager.io", scope: "Namespaced",
          names: { plural: "certs", singular: "cert", kind: "Cert", shortNames: ["cert"] },
          versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
        },
      });
      return getter(kube, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "certs.cert-manager.io", null);
    },
    ready: (o) => cond(o, "NamesAccepted")?.["status"] === "False",
  },
  {
    name: "statefulset-ondelete-healthy",
    async setup(kube) {
      await applyAll(kube, statefulSet("queue", { updateStrategy: { type: "OnDelete" } }));
      return getter(kube, "apps/v1", "StatefulSet", "queue");
    },
    ready: (o) => observed(o) && o["status"]?.readyReplicas === 3 && o["status"]?.availableReplicas === 3,
  },
  {
    name: "statefulset-partition-progressing",
    async setup(kube) {
      // Partition 1 of 3: a template change rolls out to pods 2 and 1 only, each waiting 3 s per transition.
      await applyAll(kube, statefulSet("search", { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } }));
      const get = getter(kube, "apps/v1", "StatefulSet", "search");
      await until(get, (o) => observed(o) && o["status"]?.readyReplicas === 3, "statefulset search ready");
      const updated = statefulSet("search", { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } }, { delay: "3s" });
      updated["spec"].template.spec.containers[0].image = "registry.example.com/shop/search:1.6.0";
      await applyAll(kube, updated);
      return get;
    },
    // Pod 2 updated (and not ready yet), pod 1 not yet.
    ready: (o) => observed(o) && o["status"]?.updateRevision !== o["status"]?.currentRevision && o["status"]?.updatedReplicas === 1,
    timeoutMs: 60_000,
  },
  {
    name: "ingress-progressing",
    async setup(kube) {
      // No ingress controller here: nobody ever writes status.loadBalancer.ingress.
      // TestKube's plural rule (kind + "s") does not fit Ingress: the request by hand.
      const path = `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/shop`;
      await kube.client.request({
        method: "PATCH", path, query: { fieldManager: "tack-test", force: true }, contentType: "application/apply-patch+yaml",
        body: {
          apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "shop", namespace: NS },
          spec: { rules: [{ host: "shop.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "api", port: { number: 80 } } } }] } }] },
        },
      });
      return async () => kube.client.request<Obj>({ method: "GET", path });
    },
    ready: () => true,
  },
  {
    name: "pvc-degraded",
    async setup(kube) {
      // A claim recorded as bound (bind-completed) to a volume that does not exist: the PV controller marks it Lost.
      await applyAll(kube, {
        apiVersion: "v1", kind: "PersistentVolumeClaim",
        metadata: { name: "data-lost", namespace: NS, annotations: { "pv.kubernetes.io/bind-completed": "yes" } },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: "manual", volumeName: "pv-gone", resources: { requests: { storage: "1Gi" } } },
      });
      return getter(kube, "v1", "PersistentVolumeClaim", "data-lost");
    },
    ready: (o) => o["status"]?.phase === "Lost",
  },
  {
    name: "configmap-none",
    async setup(kube) {
      // Named as test/unit/cli/health-command.test.ts expects (and its --rules test reads GREETING).
      await applyAll(kube, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "guestbook-config", namespace: "default" }, data: { GREETING: "hello" } });
      return getter(kube, "v1", "ConfigMap", "guestbook-config", "default");
    },
    ready: () => true,
  },
  {
    name: "apiservice-progressing",
    last: true,
    async setup(kube) {
      // metrics.k8s.io served by a Service with no endpoints (nothing matches its selector).
      await applyAll(kube,
        { apiVersion: "v1", kind: "Service", metadata: { name: "metrics-server", namespace: "kube-system" }, spec: { selector: { app: "metrics-server" }, ports: [{ port: 443, targetPort: 10250 }] } },
        {
          apiVersion: "apiregistration.k8s.io/v1", kind: "APIService", metadata: { name: "v1beta1.metrics.k8s.io" },
          spec: { group: "metrics.k8s.io", version: "v1beta1", service: { name: "metrics-server", namespace: "kube-system" }, insecureSkipTLSVerify: true, groupPriorityMinimum: 100, versionPriority: 100 },
        });
      return getter(kube, "apiregistration.k8s.io/v1", "APIService", "v1beta1.metrics.k8s.io", null);
    },
    ready: (o) => cond(o, "Available")?.["status"] === "False",
  },
  // APIService: the apiserver's local v1 groups
  {
    name: "apiservice-healthy",
    async setup(kube) {
      return getter(kube, "apiregistration.k8s.io/v1", "APIService", "v1.apps", null);
    },
    ready: (o) => cond(o, "Available")?.["status"] === "True",
  },
];

let hpaApplied: Promise<void> | undefined;
function ensureHpa(kube: TestKube): Promise<void> {
  hpaApplied ??= applyAll(kube,
    deployment("api-scaled", { replicas: 1 }),
    {
      apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "api", namespace: NS },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api-scaled" }, minReplicas: 1, maxReplicas: 5,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
      },
    });
  return hpaApplied;
}

// ---------------------------------------------------------------------------------------------------------------
// Polling, cleaning, writing

async function until(get: () => Promise<Obj | undefined>, pred: (o: Obj) => boolean, what: string, timeoutMs = 30_000): Promise<Obj> {
  const deadline = Date.now() + timeoutMs;
  let last: Obj | undefined;
  while (Date.now() < deadline) {
    last = await get().catch(() => undefined);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms; last status: ${JSON.stringify(last?.["status"] ?? null).slice(0, 800)}`);
}

/** Drops what differs on every run and says nothing about health: uid, resourceVersion, managedFields, ... */
function clean(obj: Obj): Obj {
  const o = structuredClone(obj);
  const m = o["metadata"] ?? {};
  for (const k of ["uid", "resourceVersion", "managedFields", "creationTimestamp", "selfLink"]) delete m[k];
  for (const ref of (m["ownerReferences"] ?? []) as Obj[]) delete ref["uid"];
  if (m["labels"]?.["controller-uid"]) delete m["labels"]["controller-uid"];
  if (m["labels"]?.["batch.kubernetes.io/controller-uid"]) delete m["labels"]["batch.kubernetes.io/controller-uid"];
  const selector = o["spec"]?.selector?.matchLabels;
  if (selector) { delete selector["controller-uid"]; delete selector["batch.kubernetes.io/controller-uid"]; }
  const tl = o["spec"]?.template?.metadata?.labels;
  if (tl) { delete tl["controller-uid"]; delete tl["batch.kubernetes.io/controller-uid"]; }
  if (Array.isArray(o["status"]?.active)) for (const a of o["status"].active as Obj[]) { delete a["uid"]; delete a["resourceVersion"]; }
  const { apiVersion, kind, metadata, ...rest } = o;
  return { apiVersion, kind, metadata, ...rest };
}

async function run(kube: TestKube, c: Capture): Promise<void> {
  const get = await c.setup(kube);
  const obj = await until(get, c.ready, c.name, c.timeoutMs ?? 30_000);
  const text = HEADER + dump(clean(obj), { lineWidth: -1, noRefs: true, sortKeys: false });
  await writeFile(new URL(`${c.name}.yaml`, OUT), text);
  console.log(`captured ${c.name}.yaml`);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  await mkdir(OUT, { recursive: true });
  const selected = only.length > 0 ? captures.filter((c) => only.includes(c.name)) : captures;
  const unknown = only.filter((n) => !captures.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`no capture named ${unknown.join(", ")}`);
  let cp: ControlPlane | undefined;
  try {
    cp = await startControlPlane({ auditLog: false });
    const kube = new TestKube(cp.kubeconfigPath);
    await kube.createNamespace(NS);
    // The namespace's default ServiceAccount: pods are refused until the controller manager has created it.
    await until(getter(kube, "v1", "ServiceAccount", "default"), () => true, "default ServiceAccount");
    const first = selected.filter((c) => !c.last);
    const last = selected.filter((c) => c.last);
    const results = [...await Promise.allSettled(first.map((c) => run(kube, c))), ...await Promise.allSettled(last.map((c) => run(kube, c)))];
    const ordered = [...first, ...last];
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${ordered[i]!.name}: ${(r.reason as Error).message}`] : []));
    for (const f of failed) console.error(`FAILED ${f}`);
    console.log(`${selected.length - failed.length} of ${selected.length} fixtures captured`);
    if (failed.length > 0) process.exitCode = 1;
  } finally {
    await cp?.stop();
  }
}

await main();
