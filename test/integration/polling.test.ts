// Git polling: with no webhook and no refresh request, a pushed commit is picked up at the next resync.
import { test } from "node:test";
import assert from "node:assert/strict";
import { application, eventually, startEnvironment } from "../support/kube.ts";
import { configMapYaml, webAppFiles } from "../support/manifests.ts";

const { git, kube, tack } = await startEnvironment({ "resync-seconds": 2, "resync-jitter": 0 });

/**
 * The controller's own count of git requests of one type (ls-remote, fetch) to the test server's repository
 * `name` (the metric's label is the normalised URL, so it is matched by its last segment).
 */
async function gitRequests(name: string, type: "ls-remote" | "fetch"): Promise<number> {
  const counter = tack.metrics.registry.getSingleMetric("tack_git_request_total");
  const ofRepo = new RegExp(`/${name}(\\.git)?$`);
  return ((await counter?.get())?.values ?? [])
    .filter((v) => ofRepo.test(String(v.labels.repo)) && v.labels.request_type === type)
    .reduce((sum, v) => sum + v.value, 0);
}

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

  // Two resync periods with nothing pushed. Each poll must be one ref listing and nothing else: no fetch (an
  // empty fetch costs isomorphic-git only a second ref listing, so the server alone cannot see it; the
  // controller's own count of fetch attempts can) and no pack negotiation (which the server sees). Waiting for
  // the second poll, not for a fixed time, proves that two polls have looked at the unchanged repo.
  const polls = await gitRequests("polled", "ls-remote");
  const fetchAttempts = await gitRequests("polled", "fetch");
  const listings = git.serviceCount("polled", "ref-listing");
  const fetchesBefore = git.serviceCount("polled", "fetch");
  await eventually(async () => (await gitRequests("polled", "ls-remote")) - polls >= 2,
    { timeoutMs: 10_000, intervalMs: 20, message: "two polls of the repository (resync every 2 s)" });
  const pollsSeen = (await gitRequests("polled", "ls-remote")) - polls;
  assert.equal((await gitRequests("polled", "fetch")) - fetchAttempts, 0, "no fetch attempted while the branch has not moved");
  assert.equal(git.serviceCount("polled", "fetch") - fetchesBefore, 0, "no pack requested while the branch has not moved");
  assert.equal(git.serviceCount("polled", "ref-listing") - listings, pollsSeen, "one ref listing per poll");

  const changed = await repo.commit({ "app/config.yaml": configMapYaml("web-config", { greeting: "polled" }) }, "change by polling");
  await eventually(async () => {
    const cm = await kube.get("v1", "ConfigMap", "polled", "web-config");
    return (cm?.data as Record<string, string> | undefined)?.greeting === "polled";
  }, { timeoutMs: 15_000, message: "the change applied by polling" });
  const app = (await kube.app("polled", "web")) as { status?: { sync?: { revision?: string } } };
  assert.equal(app.status?.sync?.revision, changed);
  assert.ok(git.serviceCount("polled", "fetch") > fetchesBefore, "the moved branch was fetched (the counter sees fetches)");
});
