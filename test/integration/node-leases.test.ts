// The simulated nodes stay alive: kwok keeps each node's Lease in kube-node-lease renewed, as a kubelet does, so
// kube-controller-manager's node lifecycle controller never marks them NotReady once its grace period
// (--node-monitor-grace-period, 50 s by default at 1.36, kept at its default here so the demo's cluster is what
// is tested) has passed. Without the Leases every node went NotReady about a minute in, and every Healthy app
// turned Progressing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../src/api/index.ts";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { NODE_LEASE_SECONDS, simulatedPod } from "../support/control-plane.ts";
import { TestKube, eventually } from "../support/kube.ts";

/** kube-controller-manager's default --node-monitor-grace-period at 1.36 (nodelifecycle config defaults). */
const NODE_MONITOR_GRACE_SECONDS = 50;
/** The node lifecycle controller looks every --node-monitor-period (5 s); a little more for a loaded machine. */
const MARGIN_SECONDS = 15;
const namespace = "node-leases";

let cluster: TestCluster;
let kube: TestKube;

before(async () => {
  cluster = await startTestCluster();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.createNamespace(namespace);
});

after(async () => { await cluster?.stop(); });

interface Lease extends KubeObject { spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number } }
interface Node extends KubeObject { status?: { conditions?: Array<{ type: string; status: string; reason?: string }> } }

test("nodes stay Ready and a Deployment stays Available past the node grace period, their Leases renewed", { skip: process.env["TACK_TEST_KUBECONFIG"] ? "needs the local control plane" : false, timeout: 180_000 }, async (t) => {
  await kube.apply({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "steady", namespace },
    spec: {
      replicas: 2, selector: { matchLabels: { app: "steady" } },
      template: { metadata: { labels: { app: "steady" }, annotations: simulatedPod({}) }, spec: { containers: [{ name: "main", image: "registry.invalid/steady:1" }] } },
    },
  } as KubeObject);
  await eventually(async () => available(await kube.get("apps/v1", "Deployment", namespace, "steady")), { message: "Deployment Available", timeoutMs: 30_000 });

  const nodes = (await kube.list("v1", "Node")).filter((n) => n.metadata.annotations?.["kwok.x-k8s.io/node"] === "fake") as Node[];
  assert.ok(nodes.length > 0, "fake nodes registered");
  const createdAt = Math.min(...nodes.map((n) => Date.parse(n.metadata.creationTimestamp!)));
  const pastGrace = createdAt + (NODE_MONITOR_GRACE_SECONDS + MARGIN_SECONDS) * 1000;

  // The passage of time is the point: wait until the cluster's own clock (the time the apiserver stamps on a
  // write) is past the grace period since the nodes were created, noting each Lease renewal seen meanwhile.
  const renewals = new Map<string, Set<string>>();
  await eventually(async () => {
    for (const lease of (await kube.list("coordination.k8s.io/v1", "Lease", "kube-node-lease")) as Lease[]) {
      const seen = renewals.get(lease.metadata.name!) ?? new Set<string>();
      if (lease.spec?.renewTime) seen.add(lease.spec.renewTime);
      renewals.set(lease.metadata.name!, seen);
    }
    return await clusterNow() >= pastGrace;
  }, { message: "the cluster's clock past the node grace period", timeoutMs: 120_000, intervalMs: 2_000 });
  t.diagnostic(`renewals seen per node: ${[...renewals].map(([n, s]) => `${n}=${s.size}`).join(", ") || "none"}`);

  for (const node of (await kube.list("v1", "Node")) as Node[]) {
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "True", `${node.metadata.name} Ready (${ready?.reason ?? "no condition"})`);
  }
  assert.ok(available(await kube.get("apps/v1", "Deployment", namespace, "steady")), "the Deployment is still Available");
  const pods = await kube.list("v1", "Pod", namespace);
  assert.equal(pods.length, 2);
  for (const pod of pods) {
    const ready = (pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "True", `${pod.metadata.name} still Ready`);
  }
  // The cause, kept: each node's Lease exists and kwok renews it.
  const leases = (await kube.list("coordination.k8s.io/v1", "Lease", "kube-node-lease")) as Lease[];
  for (const node of nodes) {
    const lease = leases.find((l) => l.metadata.name === node.metadata.name);
    assert.ok(lease, `node ${node.metadata.name} has a Lease in kube-node-lease`);
    assert.equal(lease.spec?.leaseDurationSeconds, NODE_LEASE_SECONDS);
    assert.ok((renewals.get(node.metadata.name!)?.size ?? 0) >= 2, `${node.metadata.name}'s Lease renewed while we waited`);
    assert.ok(Date.parse(lease.spec!.renewTime!) >= pastGrace - NODE_LEASE_SECONDS * 1000, `${node.metadata.name}'s Lease renewed recently`);
  }
});

function available(deployment: KubeObject | undefined): boolean {
  const status = deployment?.status as { availableReplicas?: number; conditions?: Array<{ type: string; status: string }> } | undefined;
  return status?.availableReplicas === 2 && status.conditions?.some((c) => c.type === "Available" && c.status === "True") === true;
}

/** The apiserver's clock: the time it stamps on a write (managedFields), so the wait does not trust ours. */
async function clusterNow(): Promise<number> {
  const written = await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "clock", namespace }, data: { tick: String(Date.now()) } });
  return Math.max(...(written.metadata.managedFields ?? []).map((f) => Date.parse((f as { time?: string }).time ?? "")).filter(Number.isFinite));
}
