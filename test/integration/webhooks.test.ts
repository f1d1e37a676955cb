// Webhooks end to end: for each Git server flavour, a signed push refreshes exactly the matching app within
// a second (the new commit reaches the API server); a forged signature gets 401 and refreshes nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, appStatus, eventually, startTestTack, waitForApp, type TestTack } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";
import { samples, secrets, SHA } from "../unit/webhooks/samples.ts";

let cluster: TestCluster;
let git: GitServer;
let kube: TestKube;
let tack: TestTack;

/** Each sample's repository URL as it appears in the payload, replaced by a local repository's URL. */
const SAMPLE_BASES: Record<string, string[]> = {
  github: ["https://github.com/acme/config", "git@github.com:acme/config", "git://github.com/acme/config"],
  gitlab: ["https://gitlab.example.com/platform/config", "git@gitlab.example.com:platform/config"],
  gitea: ["http://gitea.local:3000/ops/infra", "ssh://git@gitea.local:2222/ops/infra"],
  gogs: ["https://gogs.example.org/team/deploy", "git@gogs.example.org:team/deploy", "ssh://git@gogs.example.org/team/deploy"],
  bitbucket: ["https://bitbucket.org/acme/k8s-config", "git@bitbucket.org:acme/k8s-config"],
  bitbucketServer: ["https://bitbucket.example.com/scm/ops/config", "ssh://git@bitbucket.example.com:7999/ops/config",
    "https://bitbucket.example.com/projects/OPS/repos/config"],
  generic: ["https://git.internal/acme/config"],
};

before(async () => {
  cluster = await startTestCluster();
  git = await startGitServer();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  await kube.apply({
    apiVersion: "v1", kind: "Secret", metadata: { name: "tack-webhook", namespace: "tack-system" },
    stringData: secrets as unknown as Record<string, string>,
  });
  // Git is polled only every 10 minutes here: only a webhook can make Tack look within the test.
  tack = await startTestTack(cluster.kubeconfigPath, { "resync-seconds": 600 });
});

after(async () => {
  await tack?.stop();
  await git?.stop();
  await cluster?.stop();
});

/** How many pushes the webhook handler has accepted so far (it logs each before handing it on). */
function webhookPushLogs(): number {
  return tack.logs.lines.filter((line) => (JSON.parse(line) as { msg?: string }).msg === "webhook push").length;
}

function post(body: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`http://127.0.0.1:${tack.server.port}/api/webhook`, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
}

for (const sample of samples) {
  test(`${sample.flavour}: a signed push refreshes the matching app within a second; a forged one gets 401`, async () => {
    const ns = `wh-${sample.flavour.toLowerCase()}`;
    const revision = sample.expect.revisions.find((r) => r !== SHA && r !== "HEAD" && !r.startsWith("v")) ?? "main";
    const repo = await git.createRepo(ns, { "app/cm.yaml": configMapYaml("c", { v: "0" }) });
    if (revision !== "main") await repo.commit({ "app/cm.yaml": configMapYaml("c", { v: "0" }) }, "branch", { branch: revision });
    await kube.createNamespace(ns);
    await kube.apply(application("web", ns, {
      source: { repoURL: repo.url, path: "app", targetRevision: revision },
      destination: { server: "https://kubernetes.default.svc", namespace: ns },
      syncPolicy: { automated: {} },
    }));
    // A second app on the same repo but another branch must not be refreshed by this push.
    await kube.apply(application("other", ns, {
      source: { repoURL: repo.url, path: "app", targetRevision: "other-branch" },
      destination: { server: "https://kubernetes.default.svc", namespace: ns },
    }));
    await waitForApp(kube, ns, "web", (s) => s.operationState?.phase === "Succeeded", "first sync");

    const pushed = await repo.commit({ "app/cm.yaml": configMapYaml("c", { v: "1" }) }, "change", { branch: revision });
    let text = JSON.stringify(sample.body);
    for (const base of SAMPLE_BASES[sample.flavour]!) text = text.split(base).join(repo.url.replace(/\.git$/, ""));
    // The gitea sample announces a tag; point it at the branch under test instead.
    text = text.split("refs/tags/v1.4.0").join(`refs/heads/${revision}`);
    const body = Buffer.from(text);

    // The handler decides before it answers: a push it acts on is logged ("webhook push") and handed to the
    // controller, which lists the repository's refs at once, all before the reply. So once the 401 is in,
    // "nothing happened" can be checked on those signals without waiting; the accepted push below shows that
    // the same signals do move.
    const listings = git.serviceCount(ns, "ref-listing");
    const pushesLogged = webhookPushLogs();
    const forged = await post(body, sample.forged(body));
    assert.equal(forged.status, 401, "forged signature refused");
    await tack.controller.queue.idle();
    assert.equal(webhookPushLogs(), pushesLogged, "a forged push is not taken as a push");
    assert.equal(git.serviceCount(ns, "ref-listing"), listings, "a forged push makes no ref listing");
    assert.notEqual((await appStatus(kube, ns, "web"))?.sync?.revision, pushed, "a forged push refreshes nothing");

    const sent = Date.now();
    const accepted = await post(body, sample.headers(body));
    assert.ok(accepted.status >= 200 && accepted.status < 300, `accepted: ${accepted.status} ${await accepted.text()}`);
    await eventually(async () => {
      const cm = await kube.get("v1", "ConfigMap", ns, "c");
      return (cm?.data as Record<string, string> | undefined)?.v === "1";
    }, { timeoutMs: 1_000, intervalMs: 10, message: `${sample.flavour}: the pushed change in the API server` });
    const latency = Date.now() - sent;
    assert.ok(latency <= 1_000, `push to applied in ${latency} ms`);
    assert.equal(webhookPushLogs(), pushesLogged + 1, "the signed push was taken as one push");
    assert.ok(git.serviceCount(ns, "ref-listing") > listings, "the signed push listed the refs");
  });
}

test("a push without a file list reconciles the app whose path changed before the apps it left alone", async () => {
  const ns = "wh-monorepo";
  const names = ["a0", "a1", "a2", "a3", "a4", "a5"];
  const repo = await git.createRepo(ns, Object.fromEntries(names.map((n) => [`apps/${n}/cm.yaml`, configMapYaml(n, { v: "0" })])));
  await kube.createNamespace(ns);
  for (const n of names) {
    await kube.apply(application(n, ns, {
      source: { repoURL: repo.url, path: `apps/${n}` },
      destination: { server: "https://kubernetes.default.svc", namespace: ns },
      syncPolicy: { automated: {} },
    }));
  }
  for (const n of names) await waitForApp(kube, ns, n, (s) => s.operationState?.phase === "Succeeded", `${n} first sync`);
  await tack.controller.queue.idle();

  const pushed = await repo.commit({ "apps/a3/cm.yaml": configMapYaml("a3", { v: "1" }) }, "change a3 only");
  const body = Buffer.from(JSON.stringify({ repository: { url: repo.url }, ref: "refs/heads/main", after: pushed }));
  const generic = samples.find((s) => s.flavour === "generic")!;
  const accepted = await post(body, generic.headers(body));
  assert.ok(accepted.ok, `accepted: ${accepted.status}`);
  const statuses = await Promise.all(names.map((n) => waitForApp(kube, ns, n, (s) => s.sync?.revision === pushed, `${n} at the pushed revision`)));
  const changed = statuses[names.indexOf("a3")]!;
  assert.equal(((await kube.get("v1", "ConfigMap", ns, "a3"))?.data as Record<string, string>).v, "1");
  const deployedAt = Date.parse(changed.history!.at(-1)!.deployedAt!);
  assert.equal(changed.history!.at(-1)!.revision, pushed);
  for (const [i, status] of statuses.entries()) {
    if (names[i] === "a3") continue;
    assert.equal(status.history?.length, 1, `${names[i]} was not synced again: its files did not change`);
    assert.ok(Date.parse(status.reconciledAt!) >= deployedAt,
      `${names[i]} recorded the new revision (${status.reconciledAt}) after a3 was deployed (${changed.history!.at(-1)!.deployedAt})`);
  }
});
