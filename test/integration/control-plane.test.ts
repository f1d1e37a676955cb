// The local control plane itself: it serves, authenticates by client certificate, authorises by RBAC, audits,
// runs its controllers, scheduler and simulated nodes, and leaves nothing behind when stopped. Workload rollouts
// are proved in rollouts.test.ts.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { get, type RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { readAuditEvents } from "../support/cluster.ts";
import { ensureControlPlaneBinaries, NODE_CAPACITY, startControlPlane, type ControlPlane } from "../support/control-plane.ts";

let cp: ControlPlane;
let bare: ControlPlane | undefined;
let startSeconds = 0;
const namespace = "cp-test";

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  await ensureControlPlaneBinaries(); // a cold cache builds for minutes: not part of the measured start
  const started = performance.now();
  cp = await startControlPlane({ log: (line) => console.log(line) });
  startSeconds = (performance.now() - started) / 1000;
});

after(async () => {
  await cp?.stop();
  await bare?.stop();
});

test("starts within a few seconds", (t) => {
  t.diagnostic(`started in ${startSeconds.toFixed(2)} s`);
  assert.ok(startSeconds < 30, `start took ${startSeconds} s`);
});

test("registers Ready, untainted fake nodes with the advertised capacity", async () => {
  assert.deepEqual(cp.nodes, ["kwok-node-1", "kwok-node-2"]);
  const core = loadKubeConfig(cp.kubeconfigPath).makeApiClient(CoreV1Api);
  const nodes = (await core.listNode()).items;
  assert.deepEqual(nodes.map((n) => n.metadata?.name).sort(), cp.nodes);
  for (const node of nodes) {
    assert.equal(node.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
    assert.deepEqual(node.spec?.taints ?? [], []);
    assert.equal(node.status?.allocatable?.["cpu"], NODE_CAPACITY.cpu);
    assert.equal(node.status?.allocatable?.["pods"], NODE_CAPACITY.pods);
  }
});

test("/readyz answers ok to the admin kubeconfig", async () => {
  const kc = loadKubeConfig(cp.kubeconfigPath);
  assert.equal(kc.getCurrentCluster()?.server, cp.server);
  const options: RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    get(`${cp.server}/readyz`, options, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    }).on("error", reject);
  });
  assert.equal(status, 200);
  assert.equal(body, "ok");
});

test("the admin creates a namespace and a ConfigMap and reads it back; the audit log records the create", async () => {
  const core = loadKubeConfig(cp.kubeconfigPath).makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: "settings" }, data: { colour: "blue" } },
  });
  const read = await core.readNamespacedConfigMap({ namespace, name: "settings" });
  assert.deepEqual(read.data, { colour: "blue" });

  assert.ok(cp.auditLogPath, "audit log is on by default");
  // By the admin: kube-controller-manager's root-ca-certificate-publisher also creates kube-root-ca.crt there.
  const creates = (await readAuditEvents(cp.auditLogPath)).filter(
    (e) =>
      e.verb === "create" &&
      e.objectRef?.resource === "configmaps" &&
      e.objectRef.namespace === namespace &&
      e.user.username === "tack-admin",
  );
  assert.equal(creates.length, 1);
  assert.equal(creates[0]?.objectRef?.name, "settings");
  assert.equal(creates[0]?.user.username, "tack-admin");
  assert.equal(creates[0]?.responseStatus?.code, 201);
});

test("a certificate user without RBAC bindings is forbidden", async () => {
  const path = await cp.userKubeconfig("alice", ["tack-testers"]);
  const core = loadKubeConfig(path).makeApiClient(CoreV1Api);
  await assert.rejects(
    core.readNamespacedConfigMap({ namespace, name: "settings" }),
    (err: unknown) => err instanceof ApiException && err.code === 403,
  );

  assert.ok(cp.auditLogPath);
  const denied = (await readAuditEvents(cp.auditLogPath)).filter((e) => e.user.username === "alice");
  assert.equal(denied.length, 1);
  assert.equal(denied[0]?.responseStatus?.code, 403);
  assert.deepEqual(denied[0]?.user.groups, ["tack-testers", "system:authenticated"]);
});

test("the controllers act: the namespace gets its default ServiceAccount and kube-root-ca.crt", async () => {
  const core = loadKubeConfig(cp.kubeconfigPath).makeApiClient(CoreV1Api);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = await Promise.all([
      core.readNamespacedServiceAccount({ namespace, name: "default" }).then(() => true, () => false),
      core.readNamespacedConfigMap({ namespace, name: "kube-root-ca.crt" }).then(() => true, () => false),
    ]);
    if (found.every(Boolean)) break;
    assert.ok(Date.now() < deadline, `within 20 s: default ServiceAccount ${found[0]}, kube-root-ca.crt ${found[1]}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

test("stop() kills every process and removes the directory, and is idempotent", async () => {
  const { etcd, apiserver, controllerManager, scheduler, kwok } = cp.pids;
  const pids = { etcd, apiserver, controllerManager, scheduler, kwok };
  for (const [name, pid] of Object.entries(pids)) {
    assert.ok(pid && isProcessAlive(pid), `${name} (pid ${pid}) running before stop()`);
  }
  await Promise.all([cp.stop(), cp.stop()]);
  for (const [name, pid] of Object.entries(pids)) {
    assert.equal(isProcessAlive(pid ?? 0), false, `${name} still running`);
  }
  assert.equal(existsSync(cp.dir), false, `${cp.dir} still exists`);
  const etcdData = `/dev/shm/${basename(cp.dir)}-etcd`; // where etcd's data goes when tmpfs exists
  assert.equal(existsSync(etcdData), false, `${etcdData} still exists`);
  await cp.stop();
});

test("controllers: false starts etcd and kube-apiserver only", async (t) => {
  const started = performance.now();
  bare = await startControlPlane({ controllers: false });
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`started without controllers in ${seconds.toFixed(2)} s (with: ${startSeconds.toFixed(2)} s)`);
  assert.deepEqual(Object.keys(bare.pids).sort(), ["apiserver", "etcd"]);
  assert.deepEqual(bare.nodes, []);
  const core = loadKubeConfig(bare.kubeconfigPath).makeApiClient(CoreV1Api);
  assert.deepEqual((await core.listNode()).items, []);
  await bare.stop();
  assert.equal(isProcessAlive(bare.pids.apiserver), false);
  assert.equal(isProcessAlive(bare.pids.etcd), false);
});

test("a component that exits at start fails startControlPlane with its last lines of output", async () => {
  // Real binaries, except a kwok that complains and exits: in a child process, because the binary directory is
  // looked up once per process.
  const binDir = await ensureControlPlaneBinaries();
  const fakeDir = await mkdtemp(join(tmpdir(), "tack-cp-bin-"));
  try {
    for (const name of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
      await symlink(join(binDir, name), join(fakeDir, name));
    }
    await writeFile(join(fakeDir, "kwok"), "#!/bin/sh\necho 'kwok: simulated breakage' >&2\nexit 7\n", { mode: 0o755 });
    const module = new URL("../support/control-plane.ts", import.meta.url).href;
    const script = `import { startControlPlane } from ${JSON.stringify(module)};
      try { const cp = await startControlPlane(); await cp.stop(); } catch (err) { console.log(err.message); process.exit(3); }`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, TACK_CONTROL_PLANE_BIN: fakeDir },
      encoding: "utf8",
      timeout: 90_000,
    });
    assert.equal(result.status, 3, `child exit ${result.status}: ${result.stderr}`);
    assert.match(result.stdout, /kwok exit code 7 while waiting for fake nodes Ready/);
    assert.match(result.stdout, /--- kwok: last 1 lines of output ---\nkwok: simulated breakage/);
  } finally {
    await rm(fakeDir, { recursive: true, force: true });
  }
});
