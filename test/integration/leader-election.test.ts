// Leader election against a real API server: two electors on one Lease → exactly one leader; a leader that
// dies (stops renewing without releasing) is replaced within the lease duration; a leader whose Lease is
// taken by another writer stops leading within one renew period, and its signal aborts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { TestKube, eventually } from "../support/kube.ts";
import type { KubeClient, KubeRequest } from "../../src/cluster/index.ts";
import { LeaderElector, microTime } from "../../src/cluster/lease.ts";

const NS = "lease-test";
const timing = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

let cluster: TestCluster;
let kube: TestKube;
const electors: LeaderElector[] = [];

before(async () => {
  cluster = await startTestCluster();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.createNamespace(NS);
});

after(async () => {
  for (const e of electors) await e.stop({ release: false });
  await cluster?.stop();
});

/** Lease requests an elector has finished (answered or failed): each one is an attempt it has made. */
const attempts = new Map<string, number>();

/**
 * The test's client, counting each finished request under `identity`: a standby's attempts are otherwise
 * invisible (it reads the Lease and, while it is held, writes nothing), and "it has tried and still does not
 * lead" is what the tests mean by "it stays standby".
 */
function countingClient(identity: string): KubeClient {
  const client = kube.client;
  const request = <T>(options: KubeRequest): Promise<T> => client.request<T>(options).finally(() => {
    attempts.set(identity, (attempts.get(identity) ?? 0) + 1);
  });
  return new Proxy(client, {
    get: (target, property) => (property === "request" ? request : Reflect.get(target, property, target)),
  });
}

/** Resolves once `identity` has made `count` more attempts than it had made when this was called. */
async function moreAttempts(identity: string, count: number): Promise<void> {
  const from = attempts.get(identity) ?? 0;
  await eventually(() => (attempts.get(identity) ?? 0) - from >= count,
    { message: `${identity}: ${count} attempts on the Lease`, timeoutMs: 10_000, intervalMs: 20 });
}

function elector(name: string, identity: string, events: string[] = []): LeaderElector {
  const e = new LeaderElector(countingClient(identity), {
    namespace: NS, name, identity, ...timing,
    onStartedLeading: () => events.push(`${identity} started`),
    onStoppedLeading: (reason) => events.push(`${identity} stopped: ${reason}`),
  });
  electors.push(e);
  return e;
}

interface LeaseView { metadata: { resourceVersion: string }; spec: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string } }
const leasePath = (name: string) => `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${name}`;
const getLease = (name: string) => kube.client.request<LeaseView>({ method: "GET", path: leasePath(name) });

/** Samples both electors for `ms`; returns how often both claimed to lead at once. */
async function sampleBoth(a: LeaderElector, b: LeaderElector, ms: number): Promise<{ both: number; none: number; samples: number }> {
  let both = 0, none = 0, samples = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    samples++;
    if (a.isLeader() && b.isLeader()) both++;
    if (!a.isLeader() && !b.isLeader()) none++;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { both, none, samples };
}

describe("leader election on a Lease", () => {
  test("two electors: exactly one leader, and the Lease names it", async () => {
    const a = elector("pair", "replica-a");
    const b = elector("pair", "replica-b");
    a.start();
    b.start();
    await eventually(async () => a.isLeader() || b.isLeader(), { message: "a leader", timeoutMs: 10_000 });
    const s = await sampleBoth(a, b, 3_000);
    assert.equal(s.both, 0, "never two leaders at once");
    assert.equal(s.none, 0, "a leader all along once elected");
    const leader = a.isLeader() ? "replica-a" : "replica-b";
    assert.equal((await getLease("pair")).spec.holderIdentity, leader);
    assert.equal((a.isLeader() ? a : b).signal.aborted, false);
    assert.equal((a.isLeader() ? b : a).signal.aborted, true);
    await a.stop();
    await b.stop();
  });

  test("a leader that dies without releasing is replaced within the lease duration", async () => {
    const a = elector("failover", "replica-a");
    a.start();
    await eventually(async () => a.isLeader(), { message: "replica-a leads", timeoutMs: 10_000 });
    const b = elector("failover", "replica-b");
    b.start();
    await moreAttempts("replica-b", 2);
    assert.equal(b.isLeader(), false, "replica-b tried twice and stays standby while replica-a renews");
    // Death: the process stops renewing and never releases.
    await a.stop({ release: false });
    const lastRenew = Date.parse((await getLease("failover")).spec.renewTime ?? "");
    await eventually(async () => b.isLeader(), { message: "replica-b takes over", timeoutMs: 15_000, intervalMs: 20 });
    const takeoverMs = Date.now() - lastRenew;
    process.stderr.write(`# failover: replica-b leads ${takeoverMs} ms after replica-a's last renewal (leaseDuration ${timing.leaseDurationMs} ms, retryPeriod ${timing.retryPeriodMs} ms)\n`);
    // client-go semantics: the standby waits leaseDuration from when it last saw the Lease change, which is at
    // most one (jittered) retry period after the leader's last renewal.
    assert.ok(takeoverMs <= timing.leaseDurationMs + 2 * timing.retryPeriodMs + 500, `took ${takeoverMs} ms`);
    const lease = await getLease("failover");
    assert.equal(lease.spec.holderIdentity, "replica-b");
    assert.equal(lease.spec.leaseTransitions, 1);
    await b.stop();
  });

  test("a released Lease is taken over at the next retry, not after the lease duration", async () => {
    const a = elector("release", "replica-a");
    a.start();
    await eventually(async () => a.isLeader(), { message: "replica-a leads", timeoutMs: 10_000 });
    const b = elector("release", "replica-b");
    b.start();
    // replica-b must have seen the Lease held before it is released, or it would only be starting up.
    await moreAttempts("replica-b", 2);
    assert.equal(b.isLeader(), false);
    const stopped = Date.now();
    await a.stop();
    assert.equal(a.isLeader(), false);
    await eventually(async () => b.isLeader(), { message: "replica-b takes over", timeoutMs: 10_000, intervalMs: 20 });
    const ms = Date.now() - stopped;
    process.stderr.write(`# release: replica-b leads ${ms} ms after replica-a released\n`);
    assert.ok(ms < timing.leaseDurationMs, `took ${ms} ms`);
    await b.stop();
  });

  test("a leader whose Lease is stolen stops leading within its renew period; its signal aborts", async () => {
    const events: string[] = [];
    const a = elector("stolen", "replica-a", events);
    a.start();
    await eventually(async () => a.isLeader(), { message: "replica-a leads", timeoutMs: 10_000 });
    const signal = a.signal;
    let abortedAt = 0;
    signal.addEventListener("abort", () => { abortedAt = Date.now(); });
    const lease = await getLease("stolen");
    const stolenAt = Date.now();
    await kube.client.request({
      method: "PUT", path: leasePath("stolen"),
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "thief", renewTime: microTime(stolenAt) } },
    });
    await eventually(async () => signal.aborted, { message: "replica-a's signal aborts", timeoutMs: 5_000, intervalMs: 10 });
    const noticedMs = abortedAt - stolenAt;
    process.stderr.write(`# stolen: replica-a stopped leading ${noticedMs} ms after the Lease was taken (retryPeriod ${timing.retryPeriodMs} ms)\n`);
    assert.ok(noticedMs <= timing.retryPeriodMs + 300, `took ${noticedMs} ms`);
    assert.equal(a.isLeader(), false);
    assert.match(events.join("\n"), /replica-a stopped: lease taken by thief/);
    // The thief never renews: once its lease expires, replica-a campaigns and leads again, with a new signal.
    await eventually(async () => a.isLeader(), { message: "replica-a leads again", timeoutMs: 10_000 });
    assert.equal(a.signal.aborted, false);
    assert.notEqual(a.signal, signal);
    await a.stop();
  });

  // Last: it stops the API server. Skipped against an external cluster, which is not ours to stop.
  test("a leader that cannot reach the API server stops leading by its renew deadline", async (t) => {
    if (cluster.external) return t.skip("external cluster");
    const events: string[] = [];
    const a = elector("deadline", "replica-a", events);
    a.start();
    await eventually(async () => a.isLeader(), { message: "replica-a leads", timeoutMs: 10_000 });
    let lostAt = 0;
    a.signal.addEventListener("abort", () => { lostAt = Date.now(); });
    const cut = Date.now();
    await cluster.stop();
    // A renewal may still succeed while the API server shuts down gracefully: the deadline counts from the
    // last success, which is no later than the moment the server is gone.
    const gone = Date.now();
    await eventually(async () => !a.isLeader(), { message: "replica-a stops leading", timeoutMs: 10_000, intervalMs: 20 });
    process.stderr.write(`# API server gone: replica-a stopped leading ${lostAt - cut} ms after the shutdown began, ${lostAt - gone} ms after it ended (renewDeadline ${timing.renewDeadlineMs} ms)\n`);
    assert.ok(lostAt - gone <= timing.renewDeadlineMs + 200, `took ${lostAt - gone} ms`);
    assert.match(events.join("\n"), /no successful renewal/);
  });
});
