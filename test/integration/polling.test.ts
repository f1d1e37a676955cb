// Git polling: with no webhook and no refresh request, a pushed commit is picked up at the next resync.
import { test } from "node:test";
import assert from "node:assert/strict";
import { application, eventually, startEnvironment } from "../support/kube.ts";
import { configMapYaml, webAppFiles } from "../support/manifests.ts";

const { cluster, git, kube, tack } = await startEnvironment({ "resync-seconds": 2, "resync-jitter": 0 });

test("a pushed change is applied by polling, and an unchanged repo is not fetched again", async () => {
  const repo = await git.createRepo("polled", webAppFiles());
  await kube.createNamespace("polled");
  await kube.apply(application("web", "polled", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "polled" },
    syncPolicy: { automated: {} },
  }));
  const first = await repo.head();
  await eventually(async () => ((await kube.app("polled", "web")) as { status?: { sync?: { revision?: string } } })?.status?.sync?.revision === first,
    { message: "first revision synced" });

  // Two resync periods with nothing pushed: only ref listings, no fetch of objects.
  const before = git.requestCount("polled");
  await new Promise((resolve) => setTimeout(resolve, 4_500));
  const polls = git.requestCount("polled") - before;
  assert.ok(polls >= 1 && polls <= 4, `one ref listing per resync, got ${polls} requests`);

  const changed = await repo.commit({ "app/config.yaml": configMapYaml("web-config", { greeting: "polled" }) }, "change by polling");
  await eventually(async () => {
    const cm = await kube.get("v1", "ConfigMap", "polled", "web-config");
    return (cm?.data as Record<string, string> | undefined)?.greeting === "polled";
  }, { timeoutMs: 15_000, message: "the change applied by polling" });
  const app = (await kube.app("polled", "web")) as { status?: { sync?: { revision?: string } } };
  assert.equal(app.status?.sync?.revision, changed);
});
