// A real Prometheus (Debian's package, via scripts/ensure-prometheus.ts) scrapes the controller running in
// this process, evaluates deploy/monitoring/rules.yml every second, and sees TackAppDegraded go pending for
// an app whose custom resource reports Stalled=True (the generic health rule makes it Degraded).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeObject } from "../../src/api/index.ts";
import { ensurePrometheus } from "../../scripts/ensure-prometheus.ts";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, eventually, startTestTack, type TestTack } from "../support/kube.ts";

const RULES = fileURLToPath(new URL("../../deploy/monitoring/rules.yml", import.meta.url));
const NS = "prom";

let cluster: TestCluster;
let git: GitServer;
let kube: TestKube;
let tack: TestTack;
let prometheus: ChildProcess | undefined;
let promUrl: string;
let dir: string;
const promLog: string[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "widgets.example.test" },
  spec: {
    group: "example.test", scope: "Namespaced", names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [{ name: "v1", served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
  },
} as unknown as KubeObject;

before(async () => {
  const bins = await ensurePrometheus((line) => process.stderr.write(`${line}\n`));
  cluster = await startTestCluster();
  git = await startGitServer();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  await kube.createNamespace(NS);
  await kube.apply(widgetCrd);
  await eventually(async () => kube.client.request({ method: "GET", path: "/apis/example.test/v1/widgets" }).then(() => true), { message: "Widget served" });
  tack = await startTestTack(cluster.kubeconfigPath, { "resync-seconds": 600 });

  dir = await mkdtemp(join(tmpdir(), "tack-prometheus-"));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  await writeFile(join(dir, "prometheus.yml"), [
    "global: {scrape_interval: 1s, evaluation_interval: 1s}",
    `rule_files: [${JSON.stringify(RULES)}]`,
    "scrape_configs:",
    "  - job_name: tack-controller",
    `    static_configs: [{targets: ["127.0.0.1:${tack.server.port}"]}]`,
    "",
  ].join("\n"));
  prometheus = spawn(bins.prometheus, [
    `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [prometheus.stdout, prometheus.stderr]) stream?.on("data", (chunk: Buffer) => promLog.push(chunk.toString("utf8")));
  await eventually(async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok, { message: `Prometheus ready (log: ${promLog.join("").slice(-500)})`, timeoutMs: 30_000 });
});

after(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.once("exit", resolve));
    prometheus.kill("SIGTERM");
    await exited;
  }
  await tack?.stop();
  await git?.stop();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Alert { labels: Record<string, string>; annotations: Record<string, string>; state: string }

async function alerts(): Promise<Alert[]> {
  const res = await fetch(`${promUrl}/api/v1/alerts`);
  return ((await res.json()) as { data: { alerts: Alert[] } }).data.alerts;
}

test("Prometheus scrapes the controller and TackAppDegraded goes pending for a degraded app", { timeout: 120_000 }, async () => {
  const repo = await git.createRepo("prom-widget", {
    "app/widget.yaml": "apiVersion: example.test/v1\nkind: Widget\nmetadata:\n  name: gadget\nspec:\n  size: 3\n",
  });
  await kube.apply(application("widgets", NS, {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: NS },
    syncPolicy: { automated: {} },
  }));
  await eventually(async () => kube.get("example.test/v1", "Widget", NS, "gadget"), { message: "Widget applied", timeoutMs: 30_000 });
  // What the widget's own controller would report: it is stuck.
  await kube.client.request({
    method: "PATCH", path: `/apis/example.test/v1/namespaces/${NS}/widgets/gadget/status`, contentType: "application/merge-patch+json",
    body: { status: { conditions: [{ type: "Stalled", status: "True", reason: "OutOfCapacity", message: "no capacity for size 3" },
      { type: "Ready", status: "False", reason: "OutOfCapacity", message: "no capacity for size 3" }] } },
  });
  await eventually(async () => ((await kube.app(NS, "widgets"))?.status as { health?: { status?: string } } | undefined)?.health?.status === "Degraded",
    { message: "app Degraded", timeoutMs: 30_000 });

  const alert = await eventually(async () => (await alerts()).find((a) => a.labels.alertname === "TackAppDegraded" && a.labels.name === "widgets"),
    { message: `TackAppDegraded for prom/widgets (Prometheus log: ${promLog.join("").slice(-500)})`, timeoutMs: 30_000, intervalMs: 500 });
  assert.equal(alert.state, "pending");   // for: 5m
  assert.equal(alert.labels.namespace, NS);
  assert.equal(alert.labels.severity, "critical");
  assert.equal(alert.annotations.summary, "Application prom/widgets is Degraded");

  // The scrape itself is healthy: the controller is up, so TackControllerDown is silent.
  const up = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('up{job="tack-controller"}')}`);
  const result = ((await up.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
  assert.equal(result[0]?.value[1], "1");
  // Before the first scrape `absent(up == 1)` holds, so the alert may be pending briefly; it clears once a
  // healthy scrape has been evaluated.
  await eventually(async () => !(await alerts()).some((a) => a.labels.alertname === "TackControllerDown"),
    { message: "TackControllerDown silent while the controller is up", timeoutMs: 15_000, intervalMs: 500 });
});
