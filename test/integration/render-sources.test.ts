// Kustomize and Helm sources end to end, against a real kube-apiserver, a real git server and a local Helm chart
// repository, with the pinned helm and kustomize on PATH: both apps reach Synced, a changed values file is
// rendered and applied, a commit touching another folder renders nothing (a render-cache hit, counted), and a
// render error (a valueFiles escape) is a ComparisonError that deletes nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";
import { TestKube, application, eventually, startTestTack, type TestTack } from "../support/kube.ts";
import { ensureTools, startChartRepo, type ChartRepo } from "../support/tools.ts";

const FIXTURES = new URL("../fixtures/render/repo/", import.meta.url).pathname;

let cluster: TestCluster;
let git: GitServer;
let kube: TestKube;
let tack: TestTack;
let charts: ChartRepo;

interface AppView {
  status?: {
    sync?: { status?: string; revision?: string };
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    resources?: Array<{ kind: string; name: string }>;
    sourceType?: string;
  };
}

async function appStatus(ns: string, name: string): Promise<AppView["status"]> {
  return ((await kube.app(ns, name)) as AppView | undefined)?.status;
}

async function waitForSync(ns: string, name: string, revision?: string): Promise<NonNullable<AppView["status"]>> {
  return eventually(async () => {
    const s = await appStatus(ns, name);
    return s?.sync?.status === "Synced" && (!revision || s.sync.revision === revision) ? s : undefined;
  }, { message: `${ns}/${name} to be Synced${revision ? ` at ${revision.slice(0, 7)}` : ""}`, timeoutMs: 60_000 });
}

async function refresh(ns: string, name: string): Promise<void> {
  await kube.mergePatch("tack.dev/v1alpha1", "Application", ns, name, { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
}

/** The fixture files under `dir` (repo-relative), as a commit's file map. */
async function fixtureFiles(dir: string, skip: (path: string) => boolean = () => false): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (abs: string): Promise<void> => {
    for (const e of await readdir(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      const rel = relative(FIXTURES, p);
      if (skip(rel)) continue;
      if (e.isDirectory()) await walk(p);
      else files[rel] = await readFile(p, "utf8");
    }
  };
  await walk(join(FIXTURES, dir));
  return files;
}

/** A counter's value in the Prometheus text exposition. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = (await tack.metrics.render()).body;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.indexOf("}"));
    if (want.every((l) => inner.split(",").includes(l))) return Number(line.slice(line.indexOf("}") + 1).trim());
  }
  return 0;
}

before(async () => {
  const tools = await ensureTools();
  // The controller finds helm and kustomize on PATH (no render flags needed), as in the container image.
  process.env.PATH = `${tools.dir}:${process.env.PATH ?? ""}`;
  charts = await startChartRepo(tools.helm, [join(FIXTURES, "helm/library/common")]);
  cluster = await startTestCluster();
  git = await startGitServer();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  tack = await startTestTack(cluster.kubeconfigPath, { "resync-seconds": 600 });
});

after(async () => {
  await tack?.stop();
  await git?.stop();
  await cluster?.stop();
  await charts?.stop();
});

describe("Kustomize and Helm sources", () => {
  test("a Kustomize app with overrides reaches Synced; a commit touching another folder renders nothing (counted)", async () => {
    const repo = await git.createRepo("kustomize-app", { ...await fixtureFiles("kustomize"), "other/README.md": "first\n" });
    await kube.createNamespace("kust");
    await kube.apply(application("web", "kust", {
      source: {
        repoURL: repo.url, path: "kustomize/overlay", targetRevision: "main",
        kustomize: { images: ["nginx=registry.invalid/nginx:1.27"], commonLabels: { team: "blue" } },
      },
      destination: { server: "https://kubernetes.default.svc", namespace: "kust" },
      syncPolicy: { automated: { prune: true } },
    }));
    const status = await waitForSync("kust", "web", await repo.head());
    assert.equal(status.sourceType, "Kustomize");
    const deployment = await kube.get("apps/v1", "Deployment", "kust", "prod-web");
    assert.ok(deployment, "Deployment/kust/prod-web (namePrefix from the overlay)");
    const spec = deployment.spec as { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
    assert.equal(spec.replicas, 2, "the overlay's patch");
    assert.equal(spec.template.spec.containers[0]?.image, "registry.invalid/nginx:1.27");
    assert.equal(deployment.metadata.labels?.team, "blue");

    const hits = await metric("tack_render_cache_requests_total", { result: "hit" });
    const renders = await metric("tack_render_duration_seconds_count", { source_type: "Kustomize" });
    const other = await repo.commit({ "other/README.md": "second\n" }, "touch another folder");
    await refresh("kust", "web");
    await waitForSync("kust", "web", other);
    assert.equal(await metric("tack_render_duration_seconds_count", { source_type: "Kustomize" }), renders, "nothing rendered again");
    assert.ok(await metric("tack_render_cache_requests_total", { result: "hit" }) > hits, "the render cache hit is counted");

    // A change in ../base (read through the overlay) is not a hit.
    const base = await repo.commit({ "kustomize/base/service.yaml": (await readFile(join(FIXTURES, "kustomize/base/service.yaml"), "utf8")).replace("port: 80", "port: 8080") }, "base port");
    await refresh("kust", "web");
    await waitForSync("kust", "web", base);
    const service = await kube.get("v1", "Service", "kust", "prod-web");
    assert.equal((service?.spec as { ports: Array<{ port: number }> }).ports[0]?.port, 8080);
    assert.equal(await metric("tack_render_duration_seconds_count", { source_type: "Kustomize" }), renders + 1);
  });

  test("a Helm app reaches Synced with the cluster's capabilities; changing a values file re-renders and applies", async () => {
    const files = await fixtureFiles("helm", (p) => p.startsWith("helm/app/templates/hooks.yaml") || p.startsWith("helm/app/crds") ||
      p.startsWith("helm/slow") || p.endsWith("not-yaml.yaml") || p.endsWith(".tmpl"));
    files["helm/with-deps/Chart.yaml"] = (await readFile(join(FIXTURES, "helm/with-deps/Chart.yaml.tmpl"), "utf8")).replace("CHART_REPO_URL", charts.url);
    const repo = await git.createRepo("helm-app", files);
    await kube.createNamespace("helm-ns");
    await kube.apply(application("chart", "helm-ns", {
      source: { repoURL: repo.url, path: "helm/app", helm: { valueFiles: ["values/prod.yaml"], parameters: [{ name: "extra.origin", value: "git" }] } },
      destination: { server: "https://kubernetes.default.svc", namespace: "helm-ns" },
      syncPolicy: { automated: { prune: true } },
    }));
    const status = await waitForSync("helm-ns", "chart", await repo.head());
    assert.equal(status.sourceType, "Helm");
    const cm = await kube.get("v1", "ConfigMap", "helm-ns", "chart-config");
    const data = cm?.data as Record<string, string>;
    assert.equal(data.greeting, "hello from prod");
    assert.equal(data.origin, "git");
    const version = await kube.client.request<{ gitVersion: string }>({ method: "GET", path: "/version" });
    assert.equal(data.kubeVersion, version.gitVersion, "helm template ran with the destination's version (--kube-version)");
    const deployment = await kube.get("apps/v1", "Deployment", "helm-ns", "chart");
    assert.equal((deployment?.spec as { replicas: number }).replicas, 3);

    const changed = await repo.commit({ "helm/app/values/prod.yaml": "replicas: 2\ngreeting: changed in git\n" }, "new values");
    await refresh("helm-ns", "chart");
    await waitForSync("helm-ns", "chart", changed);
    await eventually(async () => ((await kube.get("v1", "ConfigMap", "helm-ns", "chart-config"))?.data as Record<string, string> | undefined)?.greeting === "changed in git",
      { message: "the new values applied" });
    assert.equal(((await kube.get("apps/v1", "Deployment", "helm-ns", "chart"))?.spec as { replicas: number }).replicas, 2);
  });

  test("a Helm app whose dependencies come from a chart repository", async () => {
    const repo = await git.createRepo("helm-deps", {
      "helm/with-deps/Chart.yaml": (await readFile(join(FIXTURES, "helm/with-deps/Chart.yaml.tmpl"), "utf8")).replace("CHART_REPO_URL", charts.url),
      ...await fixtureFiles("helm/with-deps", (p) => p.endsWith(".tmpl")),
    });
    await kube.createNamespace("helm-deps");
    await kube.apply(application("deps", "helm-deps", {
      source: { repoURL: repo.url, path: "helm/with-deps" },
      destination: { server: "https://kubernetes.default.svc", namespace: "helm-deps" },
      syncPolicy: { automated: {} },
    }));
    await waitForSync("helm-deps", "deps", await repo.head());
    const cm = await kube.get("v1", "ConfigMap", "helm-deps", "deps-common");
    assert.equal((cm?.data as Record<string, string>).label, "from-parent");
  });

  test("a render error is a ComparisonError and deletes nothing", async () => {
    const repo = await git.createRepo("helm-bad", await fixtureFiles("helm/app", (p) => p.includes("hooks") || p.includes("crds")));
    await kube.createNamespace("helm-bad");
    await kube.apply(application("bad", "helm-bad", {
      source: { repoURL: repo.url, path: "helm/app" },
      destination: { server: "https://kubernetes.default.svc", namespace: "helm-bad" },
      syncPolicy: { automated: { prune: true } },
    }));
    await waitForSync("helm-bad", "bad", await repo.head());
    assert.ok(await kube.get("v1", "ConfigMap", "helm-bad", "bad-config"));
    await kube.mergePatch("tack.dev/v1alpha1", "Application", "helm-bad", "bad", { spec: { source: { helm: { valueFiles: ["../../../../etc/passwd"] } } } });
    const condition = await eventually(async () => (await appStatus("helm-bad", "bad"))?.conditions?.find((c) => c.type === "ComparisonError" && c.status === "True"),
      { message: "a ComparisonError condition" });
    assert.match(condition.message ?? "", /valueFiles '..\/..\/..\/..\/etc\/passwd' leaves the repository/);
    assert.equal((await appStatus("helm-bad", "bad"))?.sync?.status, "Unknown");
    assert.ok(await kube.get("v1", "ConfigMap", "helm-bad", "bad-config"), "nothing pruned");
    assert.ok(await kube.get("apps/v1", "Deployment", "helm-bad", "bad"), "nothing pruned");
  });
});
