// Sync order within and between waves, as Argo CD's engine has it (issue 12, items 8 and 9), seen from the API
// server's audit log: in one wave, each kind's writes (Namespace, then ConfigMaps, then a CRD, then its custom
// resources) have all returned before the next kind's begin, so a CRD and its custom resources, or a Namespace
// and the objects in it, sync the first time; and a non-hook object's helm.sh/hook-weight is its wave, as in
// argocd-example-apps' helm-hooks, where the frontend Service (weight 2) is written after the unweighted objects.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readAuditEvents, startTestCluster, type TestCluster } from "../support/cluster.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, appStatus, application, startTestTack, waitForApp, type AppStatusView, type TestTack } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

let cluster: TestCluster;
let git: GitServer;
let kube: TestKube;
let tack: TestTack;

before(async () => {
  // Nothing here rolls out or is deleted: etcd and the API server are enough.
  cluster = await startTestCluster({ controllers: false });
  git = await startGitServer();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  await kube.createNamespace("sync-order");
  tack = await startTestTack(cluster.kubeconfigPath);
});

after(async () => {
  await tack?.stop();
  await git?.stop();
  await cluster?.stop();
});

const DEST = "https://kubernetes.default.svc";

/** One write as the audit log records it; timestamps are RFC 3339 with microseconds, so they sort as strings. */
interface AuditWrite {
  verb: string; userAgent?: string; requestURI: string; requestReceivedTimestamp: string; stageTimestamp: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string };
}

/** Tack's real (not dry-run) writes of the given resources, in the order the API server received them. */
async function tackWrites(resources: readonly string[]): Promise<AuditWrite[]> {
  const events = (await readAuditEvents(cluster.auditLogPath!)) as unknown as AuditWrite[];
  return events.filter((e) => e.userAgent?.startsWith("tack-controller") && (e.verb === "patch" || e.verb === "create" || e.verb === "update") &&
    !e.requestURI.includes("dryRun") && resources.includes(e.objectRef?.resource ?? ""))
    .sort((a, b) => a.requestReceivedTimestamp < b.requestReceivedTimestamp ? -1 : a.requestReceivedTimestamp > b.requestReceivedTimestamp ? 1 : 0);
}

const timeline = (writes: AuditWrite[]) =>
  writes.map((w) => `${w.objectRef?.resource}/${w.objectRef?.name} ${w.requestReceivedTimestamp.slice(17)}→${w.stageTimestamp.slice(17)}`).join(", ");

async function waitSucceeded(name: string): Promise<AppStatusView> {
  return waitForApp(kube, "sync-order", name, (s) => s.operationState?.phase === "Succeeded" || s.operationState?.phase === "Failed",
    "sync finished", 60_000).catch(async (err: unknown) => {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(await appStatus(kube, "sync-order", name))}`);
  });
}

function widgetCrd(): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.order.tack.test
spec:
  group: order.tack.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
}

function widget(name: string, namespace: string): string {
  return `apiVersion: order.tack.test/v1\nkind: Widget\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  size: 1\n`;
}

test("one wave holding a Namespace, ConfigMaps in it, a CRD and its custom resources syncs the first time, kind by kind", async (t) => {
  if (!cluster.auditLogPath) { t.skip("needs the local control plane's audit log (TACK_TEST_KUBECONFIG is set)"); return; }
  // All in wave 0, in one file, in an order that is none of the right ones.
  const manifest = [
    widget("gear", "order-a"), configMapYaml("settings", { a: "1" }), widget("bolt", "order-a"), widgetCrd(),
    configMapYaml("limits", { b: "2" }), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: order-a\n", widget("nut", "order-a"),
    configMapYaml("flags", { c: "3" }),
  ].join("---\n");
  const repo = await git.createRepo("one-wave", { "app/all.yaml": manifest });
  await kube.apply(application("one-wave", "sync-order", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: DEST, namespace: "order-a" },
    syncPolicy: { automated: {} },
  }));
  const status = await waitSucceeded("one-wave");
  assert.equal(status.operationState?.phase, "Succeeded", `the first sync succeeds: ${status.operationState?.message}`);
  assert.ok(!status.operationState?.retryCount, `no retry was needed (retryCount ${status.operationState?.retryCount})`);
  assert.ok(await kube.get("order.tack.test/v1", "Widget", "order-a", "bolt"), "the custom resources exist");

  // Argo CD's kind order: Namespace, …, ConfigMap, …, CustomResourceDefinition, …, then custom resources.
  const kinds = ["namespaces", "configmaps", "customresourcedefinitions", "widgets"] as const;
  const writes = (await tackWrites(kinds)).filter((w) => w.objectRef?.name === "order-a" || w.objectRef?.namespace === "order-a" ||
    w.objectRef?.name === "widgets.order.tack.test");
  const byKind = kinds.map((resource) => writes.filter((w) => w.objectRef?.resource === resource));
  assert.deepEqual(byKind.map((w) => w.length), [1, 3, 1, 3], `each object written once: ${timeline(writes)}`);
  for (let i = 1; i < kinds.length; i++) {
    const lastEnd = byKind[i - 1]!.map((w) => w.stageTimestamp).sort().at(-1)!;
    const firstStart = byKind[i]!.map((w) => w.requestReceivedTimestamp).sort()[0]!;
    assert.ok(lastEnd <= firstStart, `every ${kinds[i - 1]} write returned before the first ${kinds[i]} write began: ${timeline(writes)}`);
  }
});

test("a non-hook object's helm.sh/hook-weight is its wave: the weighted Service is written a step after the unweighted ConfigMap", async (t) => {
  if (!cluster.auditLogPath) { t.skip("needs the local control plane's audit log (TACK_TEST_KUBECONFIG is set)"); return; }
  await kube.createNamespace("order-b");
  // As argocd-example-apps' helm-hooks (plain manifests, not a chart): Helm's annotation on an ordinary Service.
  const service = `apiVersion: v1
kind: Service
metadata:
  name: frontend
  annotations:
    helm.sh/hook-weight: "2"
spec:
  selector: {tier: frontend}
  ports: [{protocol: TCP, port: 80, targetPort: 80}]
`;
  const repo = await git.createRepo("hook-weight", { "app/frontend.yaml": service, "app/config.yaml": configMapYaml("backend", { tier: "backend" }) });
  await kube.apply(application("hook-weight", "sync-order", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: DEST, namespace: "order-b" },
    syncPolicy: { automated: {} },
  }));
  const status = await waitSucceeded("hook-weight");
  assert.equal(status.operationState?.phase, "Succeeded", status.operationState?.message);

  const results = (status.operationState?.syncResult?.resources ?? []) as Array<{ kind: string; name: string; wave?: number }>;
  const waveOf = (kind: string) => results.find((r) => r.kind === kind)?.wave ?? 0;
  assert.deepEqual([waveOf("ConfigMap"), waveOf("Service")], [0, 2], `waves recorded in syncResult: ${JSON.stringify(results)}`);

  const writes = (await tackWrites(["configmaps", "services"])).filter((w) => w.objectRef?.namespace === "order-b");
  assert.deepEqual(writes.map((w) => w.objectRef?.resource), ["configmaps", "services"], timeline(writes));
  assert.ok(writes[0]!.stageTimestamp <= writes[1]!.requestReceivedTimestamp, `the ConfigMap's write returned before the Service's began: ${timeline(writes)}`);
});
