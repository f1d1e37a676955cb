// A manifest Tack cannot read faithfully stops the comparison; it is never read as "deleted from Git" (which
// would prune) nor applied altered. Each case pushes the bad input to an app that is Synced with prune and
// self-heal on, then checks the condition, the objects left in the cluster, and the API server's audit log.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readAuditEvents } from "../support/cluster.ts";
import type { FileChange, TestRepo } from "../support/git-server.ts";
import { application, refreshApp, startEnvironment, waitForApp, type AppStatusView } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";
import { ensureTools } from "../support/tools.ts";

// The controller finds helm on PATH, as in the container image.
process.env.PATH = `${(await ensureTools()).dir}:${process.env.PATH ?? ""}`;
const { cluster, git, kube } = await startEnvironment({ "resync-seconds": 600 });

const CONFIG_MAPS = ["a", "b", "c"];

async function syncedApp(name: string, files: Record<string, string>, source: Record<string, unknown> = {}): Promise<TestRepo> {
  const repo = await git.createRepo(name, files);
  await kube.createNamespace(name);
  await kube.apply(application("app", name, {
    source: { repoURL: repo.url, path: "app", targetRevision: "main", ...source },
    destination: { server: "https://kubernetes.default.svc", namespace: name },
    syncPolicy: { automated: { prune: true, selfHeal: true } },
  }));
  const head = await repo.head();
  await waitForApp(kube, name, "app", (s) => s.sync?.status === "Synced" && s.sync.revision === head && s.operationState?.phase === "Succeeded",
    `Synced at ${head.slice(0, 7)}`, 60_000);
  return repo;
}

function plainFiles(): Record<string, string> {
  return Object.fromEntries(CONFIG_MAPS.map((n) => [`app/${n}.yaml`, configMapYaml(n, { greeting: "hello" })]));
}

/** Pushes the change and waits for the comparison to fail with this reason on a message naming the cause. */
async function pushAndExpectRefusal(ns: string, repo: TestRepo, change: Record<string, FileChange>, reason: string, message: RegExp): Promise<AppStatusView> {
  await repo.commit(change, "bad input");
  await refreshApp(kube, ns, "app");
  const status = await waitForApp(kube, ns, "app", (s) => s.conditions?.some((c) => c.type === "ComparisonError" && c.reason === reason) === true,
    `ComparisonError ${reason}`, 60_000);
  const condition = status.conditions!.find((c) => c.type === "ComparisonError")!;
  assert.match(condition.message ?? "", message);
  assert.equal(status.sync?.status, "Unknown", "an error anywhere makes the comparison Unknown");
  return status;
}

/** Nothing Tack manages in `ns` was deleted, and every ConfigMap still holds what was synced before. */
async function assertNothingLost(ns: string, expected: Record<string, Record<string, string>>): Promise<void> {
  for (const [name, data] of Object.entries(expected)) {
    const live = await kube.get("v1", "ConfigMap", ns, name);
    assert.ok(live, `ConfigMap ${ns}/${name} still exists`);
    assert.deepEqual((live as { data?: Record<string, string> }).data, data, `ConfigMap ${ns}/${name} unchanged`);
  }
  if (!cluster.auditLogPath) return;
  const deletes = (await readAuditEvents(cluster.auditLogPath)).filter((e) =>
    e.verb === "delete" && e.objectRef?.namespace === ns && e.objectRef.resource === "configmaps");
  assert.deepEqual(deletes.map((e) => e.objectRef?.name), [], "no ConfigMap deleted");
}

const synced = Object.fromEntries(CONFIG_MAPS.map((n) => [n, { greeting: "hello" }]));

describe("a plain-directory app refuses links it cannot follow, instead of pruning what they declared", () => {
  test("a manifest replaced by a relative symlink leaving the checkout", async () => {
    const repo = await syncedApp("link-relative", plainFiles());
    await pushAndExpectRefusal("link-relative", repo, { "app/c.yaml": { symlink: "../../../../../../../etc/hostname" } },
      "PathEscapesRepository", /symlink 'app\/c.yaml' points outside the repository/);
    await assertNothingLost("link-relative", synced);
  });

  test("a manifest replaced by an absolute symlink", async () => {
    const repo = await syncedApp("link-absolute", plainFiles());
    const status = await pushAndExpectRefusal("link-absolute", repo, { "app/c.yaml": { symlink: "/etc/passwd" } },
      "PathEscapesRepository", /symlink 'app\/c.yaml' points outside the repository/);
    assert.doesNotMatch(JSON.stringify(status), /root:x:0:0|\/etc\/passwd/, "neither the target's content nor its location is shown");
    await assertNothingLost("link-absolute", synced);
  });

  test("a manifest replaced by a symlink to a file that is not in the repository", async () => {
    const repo = await syncedApp("link-dangling", plainFiles());
    await pushAndExpectRefusal("link-dangling", repo, { "app/c.yaml": { symlink: "gone.yaml" } },
      "ManifestInvalid", /symlink 'app\/c.yaml' points to nothing in the repository/);
    await assertNothingLost("link-dangling", synced);

    // Mended in Git: the app syncs again, and only now is a real removal pruned.
    const fixed = await repo.commit({ "app/c.yaml": configMapYaml("c", { greeting: "hello" }), "app/b.yaml": null }, "mend");
    await refreshApp(kube, "link-dangling", "app");
    await waitForApp(kube, "link-dangling", "app", (s) => s.sync?.status === "Synced" && s.sync.revision === fixed &&
      !s.conditions?.some((c) => c.type === "ComparisonError"), "Synced again after the fix", 60_000);
    await waitForApp(kube, "link-dangling", "app", (s) => s.resources?.length === 2, "b pruned", 60_000);
  });
});

describe("a Helm value file behind an escaping link is refused, even with ignoreMissingValueFiles", () => {
  test("the chart is not rendered without it", async () => {
    const chart = {
      "app/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
      "app/values.yaml": "greeting: hello\n",
      "app/values-prod.yaml": "greeting: hello\n",
      "app/templates/cm.yaml": CONFIG_MAPS.map((n) => `---\n${configMapYaml(n, { greeting: "{{ .Values.greeting }}" })}`).join(""),
    };
    const repo = await syncedApp("helm-link", chart, { helm: { valueFiles: ["values-prod.yaml"], ignoreMissingValueFiles: true } });
    await pushAndExpectRefusal("helm-link", repo, { "app/values-prod.yaml": { symlink: "/etc/hostname" } },
      "PathEscapesRepository", /symlink 'app\/values-prod.yaml' points outside the repository/);
    await assertNothingLost("helm-link", synced);
  });
});

describe("manifest bytes that cannot be read faithfully stop the comparison", () => {
  test("invalid UTF-8 names the file and the byte offset; nothing is applied", async () => {
    const repo = await syncedApp("bad-utf8", plainFiles());
    // The value "abc<ff fe c3 28>def": a lossy decode would apply it as "abc\uFFFD\uFFFD(def".
    const [head, tail] = configMapYaml("c", { greeting: "abc|def" }).split("|");
    const bad = Buffer.concat([Buffer.from(head!), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(tail!)]);
    await pushAndExpectRefusal("bad-utf8", repo, { "app/c.yaml": bad }, "ManifestInvalid", /app\/c.yaml: invalid UTF-8 at byte offset \d+/);
    await assertNothingLost("bad-utf8", synced);
  });

  test("JSON nested 10,000 deep is the same clean ManifestInvalid as deep YAML, naming the file", async () => {
    const repo = await syncedApp("deep-json", plainFiles());
    const deep = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}`;
    await pushAndExpectRefusal("deep-json", repo, { "app/deep.json": deep, "app/c.yaml": null }, "ManifestInvalid",
      /app\/deep.json: nesting exceeds maxDepth/);
    await assertNothingLost("deep-json", synced);
  });
});

describe("an object made by hand that Git declares is adopted, as in Argo CD (README, safety rules)", () => {
  test("the first sync takes it over: Git's fields win, it is tracked, and leaving Git prunes it", async () => {
    await kube.createNamespace("adopt");
    await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "adopt" }, data: { greeting: "made by hand", extra: "kept?" } } as never, "someone");
    const repo = await syncedApp("adopt", plainFiles());
    const adopted = await kube.get("v1", "ConfigMap", "adopt", "c");
    assert.equal(adopted?.metadata.annotations?.["tack.dev/tracking-id"], "adopt_app:/ConfigMap:adopt/c");
    assert.equal((adopted as { data?: Record<string, string> }).data?.greeting, "hello", "Git's value overwrote the hand-made one");
    await repo.commit({ "app/c.yaml": null }, "drop c");
    await refreshApp(kube, "adopt", "app");
    await waitForApp(kube, "adopt", "app", (s) => s.resources?.length === 2 && s.sync?.status === "Synced", "c pruned", 60_000);
    assert.equal(await kube.get("v1", "ConfigMap", "adopt", "c"), undefined, "pruned: the adopted object is the app's own");
  });
});
