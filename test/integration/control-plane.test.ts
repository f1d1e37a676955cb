// The local control plane itself: it serves, authenticates by client certificate, authorises by RBAC, audits,
// and leaves nothing behind when stopped.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { get, type RequestOptions } from "node:https";
import { basename } from "node:path";
import { after, before, test } from "node:test";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { readAuditEvents } from "../support/cluster.ts";
import { ensureControlPlaneBinaries, startControlPlane, type ControlPlane } from "../support/control-plane.ts";

let cp: ControlPlane;
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
});

test("starts within a few seconds", (t) => {
  t.diagnostic(`started in ${startSeconds.toFixed(2)} s`);
  assert.ok(startSeconds < 30, `start took ${startSeconds} s`);
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
  const creates = (await readAuditEvents(cp.auditLogPath)).filter(
    (e) => e.verb === "create" && e.objectRef?.resource === "configmaps" && e.objectRef.namespace === namespace,
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

test("stop() kills both processes and removes the directory, and is idempotent", async () => {
  const { etcd, apiserver } = cp.pids;
  assert.ok(isProcessAlive(etcd) && isProcessAlive(apiserver));
  await Promise.all([cp.stop(), cp.stop()]);
  assert.equal(isProcessAlive(apiserver), false, "kube-apiserver still running");
  assert.equal(isProcessAlive(etcd), false, "etcd still running");
  assert.equal(existsSync(cp.dir), false, `${cp.dir} still exists`);
  const etcdData = `/dev/shm/${basename(cp.dir)}-etcd`; // where etcd's data goes when tmpfs exists
  assert.equal(existsSync(etcdData), false, `${etcdData} still exists`);
  await cp.stop();
});
