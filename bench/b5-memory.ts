// B5 memory: many ConfigMaps in the cluster, 10% of them managed (Tack's tracking annotation and field
// manager, so their managedFields are kept by the cache). Bytes of JS heap held per object by Tack's own
// watch-fed store (src/cluster Informer, as LiveCache uses it), from memoryUsage deltas around a cache sync
// with full GCs; and the time until a cache of all of them is synced.
import type { KubeObject } from "../src/api/index.ts";
import { Informer } from "../src/cluster/index.ts";
import { createLogger } from "../src/main.ts";
import type { BenchContext, Metric } from "./lib.ts";
import { ensureNamespace, mapLimit, metric, settledHeap } from "./lib.ts";

export async function b5Memory(ctx: BenchContext): Promise<Metric[]> {
  const total = ctx.quick ? 10_000 : 100_000;
  const managed = total / 10;
  const unmanaged = total - managed;
  const reps = 5;
  const uNs = "bench-b5-unmanaged";
  const mNs = "bench-b5-managed";
  await ensureNamespace(ctx, uNs);
  await ensureNamespace(ctx, mNs);
  const data = (i: number) => ({ "app.properties": `name=service-${i}\nreplicas=3\nlog.level=info\n`, region: "eu-west-1", owner: `team-${i % 17}`, version: String(i) });
  const created = performance.now();
  await mapLimit(Array.from({ length: unmanaged }, (_, i) => i), 32, async (i) => {
    await ctx.client.request({ method: "POST", path: `/api/v1/namespaces/${uNs}/configmaps`, body: {
      apiVersion: "v1", kind: "ConfigMap", metadata: { name: `u-${i}`, labels: { app: `service-${i % 100}` } }, data: data(i) } });
  });
  await mapLimit(Array.from({ length: managed }, (_, i) => i), 32, async (i) => {
    const name = `m-${i}`;
    const obj: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: mNs, labels: { app: `service-${i % 100}` },
      annotations: { "tack.dev/tracking-id": `tack-system_b5-app-${i % 100}:/ConfigMap:${mNs}/${name}` } }, data: data(i) };
    await ctx.client.request({ method: "PATCH", path: `/api/v1/namespaces/${mNs}/configmaps/${name}`, query: { fieldManager: "tack-controller", force: true },
      contentType: "application/apply-patch+yaml", body: obj });
  });
  ctx.log(`B5: ${total} ConfigMaps created in ${((performance.now() - created) / 1000).toFixed(1)} s`);
  const silent = createLogger({ logLevel: "silent" });

  async function measure(path: string, count: number): Promise<{ bytes: number; seconds: number; size: number }> {
    const before = await settledHeap();
    const informer = new Informer(ctx.client, { path, logger: silent });
    const t0 = performance.now();
    informer.start();
    await informer.waitForSync(600_000);
    const seconds = (performance.now() - t0) / 1000;
    const after = await settledHeap();
    const size = informer.size;
    await informer.stop();
    return { bytes: (after - before) / count, seconds, size };
  }

  const uBytes: number[] = [];
  const mBytes: number[] = [];
  const syncAll: number[] = [];
  let clusterCount = 0;
  for (let rep = 0; rep < reps; rep++) {
    uBytes.push((await measure(`/api/v1/namespaces/${uNs}/configmaps`, unmanaged)).bytes);
    mBytes.push((await measure(`/api/v1/namespaces/${mNs}/configmaps`, managed)).bytes);
    const all = await measure("/api/v1/configmaps", 1);
    syncAll.push(all.seconds);
    clusterCount = all.size;
  }
  // What one object weighs on the wire, for scale.
  const sampleU = await ctx.client.request<KubeObject>({ method: "GET", path: `/api/v1/namespaces/${uNs}/configmaps/u-1` });
  const sampleM = await ctx.client.request<KubeObject>({ method: "GET", path: `/api/v1/namespaces/${mNs}/configmaps/m-1` });
  ctx.log(`B5: unmanaged ${uBytes.map((b) => b.toFixed(0)).join(",")} B, managed ${mBytes.map((b) => b.toFixed(0)).join(",")} B, sync ${syncAll.map((s) => s.toFixed(2)).join(",")} s`);
  return [
    metric("B5", `heap held per unmanaged object (${unmanaged} ConfigMaps)`, "bytes", uBytes, { op: "<=", value: 1024 },
      `one object is ${JSON.stringify(sampleU).length} bytes of JSON from the API server`),
    metric("B5", `heap held per managed object (${managed} ConfigMaps with tracking id and managedFields)`, "bytes", mBytes, { op: "<=", value: 3072 },
      `one object is ${JSON.stringify(sampleM).length} bytes of JSON from the API server`),
    metric("B5", `time to a synced cache of all ${clusterCount} ConfigMaps in the cluster (paged list, 500 per page)`, "s", syncAll),
  ];
}
