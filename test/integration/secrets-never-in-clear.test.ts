// A canary secret value placed in a repository credential, a Secret manifest and a Helm parameter appears in no
// log line, Event, condition or status, metric, diff or CLI output (docs/architecture.md, safety rule 6): one test greps them all.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, eventually, startTestTack, waitForApp, type TestTack } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";
import { ensureTools } from "../support/tools.ts";
import { runAppCommand, type CliIO } from "../../src/cli/app/index.ts";

const CANARY = "canary-Zq8xW3vK";
const CANARY_B64 = Buffer.from(CANARY).toString("base64");

let cluster: TestCluster;
let git: GitServer;
let kube: TestKube;
let tack: TestTack;

before(async () => {
  const tools = await ensureTools();
  process.env.PATH = `${tools.dir}:${process.env.PATH ?? ""}`;
  cluster = await startTestCluster();
  git = await startGitServer({ auth: { username: "deployer", password: CANARY } });
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  tack = await startTestTack(cluster.kubeconfigPath, { "resync-seconds": 600 });
});

after(async () => {
  await tack?.stop();
  await git?.stop();
  await cluster?.stop();
});

async function cli(args: string[]): Promise<string> {
  const out: string[] = [];
  const streams: CliIO = { stdout: (s) => { out.push(s); }, stderr: (s) => { out.push(s); }, env: { KUBECONFIG: cluster.kubeconfigPath },
    stdoutIsTTY: false, pollIntervalMs: 100 };
  await runAppCommand(args, streams);
  return out.join("");
}

test("the canary is in no log line, Event, status, metric, diff or CLI output", async () => {
  const secretManifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: "${CANARY}"\n`;
  const chart = {
    "chart/Chart.yaml": "apiVersion: v2\nname: canary\nversion: 0.1.0\n",
    "chart/values.yaml": "password: placeholder\n",
    "chart/templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: from-helm\nstringData:\n  password: {{ .Values.password | quote }}\n",
  };
  const repo = await git.createRepo("canary", { "plain/secret.yaml": secretManifest, "plain/cm.yaml": configMapYaml("c", { v: "1" }), ...chart });
  await kube.createNamespace("canary");
  const credential = (password: string) => ({
    apiVersion: "v1", kind: "Secret",
    metadata: { name: "canary-repo", namespace: "tack-system", labels: { "tack.dev/secret-type": "repository" } },
    stringData: { url: repo.url, username: "deployer", password },
  });
  // First a wrong credential (an auth failure whose messages must not carry it), then the right one.
  await kube.apply(credential(`${CANARY}-wrong`));
  await kube.apply(application("plain", "canary", {
    source: { repoURL: repo.url, path: "plain" },
    destination: { server: "https://kubernetes.default.svc", namespace: "canary" },
    syncPolicy: { automated: { selfHeal: true } },
  }));
  await waitForApp(kube, "canary", "plain", (s) => s.conditions?.some((c) => c.reason === "RepositoryAuthFailed") ?? false, "auth failure");
  await kube.apply(credential(CANARY));
  await waitForApp(kube, "canary", "plain", (s) => s.operationState?.phase === "Succeeded", "plain app synced", 30_000);
  await kube.apply(application("helm", "canary", {
    source: { repoURL: repo.url, path: "chart", helm: { parameters: [{ name: "password", value: CANARY }] } },
    destination: { server: "https://kubernetes.default.svc", namespace: "canary" },
    syncPolicy: { automated: {} },
  }));
  await waitForApp(kube, "canary", "helm", (s) => s.operationState?.phase === "Succeeded", "helm app synced", 60_000);
  // Drift on the Secret, so diffs and OutOfSync messages are produced, then healed.
  await kube.apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "canary" }, stringData: { password: `${CANARY}-drift` } }, "intruder");
  await eventually(async () => {
    const secret = await kube.get("v1", "Secret", "canary", "db");
    return Buffer.from((secret?.data as Record<string, string>).password!, "base64").toString() === CANARY;
  }, { message: "drift healed" });
  const diffOutput = await cli(["diff", "helm", "-n", "canary"]);
  const getOutput = await cli(["get", "plain", "-n", "canary", "-o", "yaml"]) + await cli(["get", "helm", "-n", "canary"]);
  const listOutput = await cli(["list", "-n", "canary", "-o", "wide"]);
  const historyOutput = await cli(["history", "plain", "-n", "canary"]);

  const places: Record<string, string> = {
    logs: tack.logs.lines.join("\n"),
    events: JSON.stringify(await kube.list("v1", "Event", "canary")),
    status: JSON.stringify([(await kube.app("canary", "plain"))?.status, (await kube.app("canary", "helm"))?.status]),
    metrics: (await tack.metrics.render()).body,
    diff: diffOutput,
    cli: getOutput + listOutput + historyOutput,
  };
  assert.ok(places.logs!.length > 0 && places.events!.length > 2 && places.metrics!.includes("tack_app_info"), "there is something to grep");
  for (const [where, text] of Object.entries(places)) {
    assert.ok(!text.includes(CANARY), `the canary leaked into ${where}`);
    assert.ok(!text.includes(CANARY_B64), `the canary (base64) leaked into ${where}`);
  }
});
