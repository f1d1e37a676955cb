// The walking skeleton end to end, against a real kube-apiserver and a real git server: an Application
// reaches Synced, follows Git (refresh and polling), prunes, heals drift, and costs nothing when idle.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readAuditEvents } from "../support/cluster.ts";
import { startGitServer } from "../support/git-server.ts";
import { application, eventually, startEnvironment } from "../support/kube.ts";
import { configMapYaml, webAppFiles } from "../support/manifests.ts";
import type { KubeObject } from "../../src/api/index.ts";
import { createServer } from "node:net";

/** A loopback port nobody listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const { cluster, git, kube, tack } = await startEnvironment({ "resync-seconds": 600 });

interface AppView { status?: { sync?: { status?: string; revision?: string }; health?: { status?: string }; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; resources?: Array<{ kind: string; name: string; status?: string; requiresPruning?: boolean }>; operationState?: { phase?: string; message?: string }; history?: unknown[] } }

async function appStatus(ns: string, name: string): Promise<AppView["status"]> {
  return ((await kube.app(ns, name)) as AppView | undefined)?.status;
}

async function waitForSync(ns: string, name: string, status: string, revision?: string): Promise<NonNullable<AppView["status"]>> {
  return eventually(async () => {
    const s = await appStatus(ns, name);
    return s?.sync?.status === status && (!revision || s.sync.revision === revision) ? s : undefined;
  }, { message: `${ns}/${name} to be ${status}${revision ? ` at ${revision.slice(0, 7)}` : ""}`, timeoutMs: 30_000 });
}

describe("an Application on a plain-YAML repo", () => {
  test("reaches Synced; objects carry the tracking annotation and Tack's field manager", async () => {
    const repo = await git.createRepo("basic", webAppFiles());
    await kube.createNamespace("basic");
    await kube.apply(application("web", "basic", {
      source: { repoURL: repo.url, path: "app", targetRevision: "main" },
      destination: { server: "https://kubernetes.default.svc", namespace: "basic" },
      syncPolicy: { automated: {} },
    }));
    const head = await repo.head();
    await waitForSync("basic", "web", "Synced", head);
    // The sync operation ends only once what it applied is Healthy (the Deployment rolls out on kwok nodes).
    const status = await eventually(async () => {
      const s = await appStatus("basic", "web");
      return s?.operationState?.phase === "Succeeded" && s.health?.status === "Healthy" ? s : undefined;
    }, { message: "sync Succeeded and app Healthy" });
    assert.equal(status.resources?.length, 3);
    assert.equal(status.sync?.status, "Synced");
    for (const [apiVersion, kind, name] of [["apps/v1", "Deployment", "web"], ["v1", "Service", "web"], ["v1", "ConfigMap", "web-config"]] as const) {
      const obj = await kube.get(apiVersion, kind, "basic", name);
      assert.ok(obj, `${kind}/basic/${name} exists`);
      const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
      assert.equal(obj.metadata.annotations?.["tack.dev/tracking-id"], `basic_web:${group}/${kind}:basic/${name}`);
      const managers = (obj.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
      assert.ok(managers.includes("tack-controller/Apply"), `${kind} managed by tack-controller: ${managers.join(", ")}`);
    }
    const ready = status.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "True", "Ready once Synced and Healthy");
  });

  test("a pushed change is applied after the refresh annotation; a removed file is pruned with prune on", async () => {
    const repo = await git.createRepo("refresh", webAppFiles());
    await kube.createNamespace("refresh");
    await kube.apply(application("web", "refresh", {
      source: { repoURL: repo.url, path: "app" },
      destination: { server: "https://kubernetes.default.svc", namespace: "refresh" },
      syncPolicy: { automated: { prune: true } },
    }));
    await waitForSync("refresh", "web", "Synced", await repo.head());

    const changed = await repo.commit({ "app/config.yaml": configMapYaml("web-config", { greeting: "bonjour" }) }, "change greeting");
    // resync is 10 minutes here: only the refresh annotation can make Tack look at Git now.
    await kube.mergePatch("tack.dev/v1alpha1", "Application", "refresh", "web", { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
    await waitForSync("refresh", "web", "Synced", changed);
    const cm = await kube.get("v1", "ConfigMap", "refresh", "web-config");
    assert.equal((cm?.data as Record<string, string>).greeting, "bonjour");
    await eventually(async () => !(await kube.app("refresh", "web"))?.metadata.annotations?.["tack.dev/refresh"], { message: "refresh annotation removed" });

    const removed = await repo.commit({ "app/config.yaml": null }, "drop config");
    await kube.mergePatch("tack.dev/v1alpha1", "Application", "refresh", "web", { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
    await waitForSync("refresh", "web", "Synced", removed);
    await eventually(async () => !(await kube.get("v1", "ConfigMap", "refresh", "web-config")), { message: "ConfigMap pruned" });
    assert.ok(await kube.get("apps/v1", "Deployment", "refresh", "web"), "the Deployment stays");
  });

  test("with prune off, a removed file is reported OutOfSync and kept", async () => {
    const repo = await git.createRepo("noprune", webAppFiles());
    await kube.createNamespace("noprune");
    await kube.apply(application("web", "noprune", {
      source: { repoURL: repo.url, path: "app" },
      destination: { server: "https://kubernetes.default.svc", namespace: "noprune" },
      syncPolicy: { automated: { prune: false } },
    }));
    await waitForSync("noprune", "web", "Synced", await repo.head());
    const removed = await repo.commit({ "app/config.yaml": null }, "drop config");
    await kube.mergePatch("tack.dev/v1alpha1", "Application", "noprune", "web", { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
    const status = await waitForSync("noprune", "web", "OutOfSync", removed);
    const entry = status.resources?.find((r) => r.kind === "ConfigMap");
    assert.equal(entry?.requiresPruning, true);
    assert.ok(await kube.get("v1", "ConfigMap", "noprune", "web-config"), "kept");
  });

  test("a live edit is healed with selfHeal and only reported without it", async () => {
    const repo = await git.createRepo("drift", webAppFiles());
    for (const [ns, selfHeal] of [["heal", true], ["noheal", false]] as const) {
      await kube.createNamespace(ns);
      await kube.apply(application("web", ns, {
        source: { repoURL: repo.url, path: "app" },
        destination: { server: "https://kubernetes.default.svc", namespace: ns },
        syncPolicy: { automated: { selfHeal } },
      }));
      await waitForSync(ns, "web", "Synced", await repo.head());
      // Another field manager changes a field Tack owns.
      await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web-config", namespace: ns }, data: { greeting: "tampered" } }, "intruder");
    }
    await eventually(async () => {
      const cm = await kube.get("v1", "ConfigMap", "heal", "web-config");
      return (cm?.data as Record<string, string> | undefined)?.greeting === "hello";
    }, { message: "drift healed in heal/" });
    await waitForSync("noheal", "web", "OutOfSync");
    const cm = await kube.get("v1", "ConfigMap", "noheal", "web-config");
    assert.equal((cm?.data as Record<string, string>).greeting, "tampered", "not healed without selfHeal");
  });

  test("deleting the Application leaves its workloads running", async () => {
    const repo = await git.createRepo("delete", webAppFiles());
    await kube.createNamespace("delete");
    await kube.apply(application("web", "delete", {
      source: { repoURL: repo.url, path: "app" },
      destination: { server: "https://kubernetes.default.svc", namespace: "delete" },
      syncPolicy: { automated: { prune: true } },
    }));
    await waitForSync("delete", "web", "Synced", await repo.head());
    await kube.delete("tack.dev/v1alpha1", "Application", "delete", "web");
    await eventually(async () => !(await kube.app("delete", "web")), { message: "Application gone" });
    await tack.controller.queue.idle();
    assert.ok(await kube.get("apps/v1", "Deployment", "delete", "web"));
    assert.ok(await kube.get("v1", "ConfigMap", "delete", "web-config"));
  });

  test("an unchanged app re-reconciled 100 times makes no API request", async (t) => {
    if (!cluster.auditLogPath) { t.skip("needs the local control plane's audit log (TACK_TEST_KUBECONFIG is set)"); return; }
    const repo = await git.createRepo("idle", webAppFiles());
    await kube.createNamespace("idle");
    await kube.apply(application("web", "idle", {
      source: { repoURL: repo.url, path: "app" },
      destination: { server: "https://kubernetes.default.svc", namespace: "idle" },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    }));
    await waitForSync("idle", "web", "Synced", await repo.head());
    // Count from the steady state, observed rather than slept for: the sync has ended Healthy (no health change
    // left to write), and a reconcile pass leaves the Application's resourceVersion where it was (no status
    // write of ours still on its way back through the watch).
    await eventually(async () => {
      const s = await appStatus("idle", "web");
      return s?.operationState?.phase === "Succeeded" && s.health?.status === "Healthy";
    }, { message: "idle/web: sync Succeeded and Healthy" });
    await eventually(async () => {
      const seen = (await kube.app("idle", "web"))?.metadata.resourceVersion;
      tack.controller.queue.add("idle/web");
      await tack.controller.queue.idle();
      return seen !== undefined && (await kube.app("idle", "web"))?.metadata.resourceVersion === seen;
    }, { message: "idle/web: a reconcile pass that writes nothing" });
    const isTack = (e: { userAgent?: string; verb: string }) => e.userAgent?.startsWith("tack-controller") && e.verb !== "watch";
    const before = (await readAuditEvents(cluster.auditLogPath)).filter(isTack).length;
    for (let i = 0; i < 100; i++) {
      tack.controller.queue.add("idle/web");
      await tack.controller.queue.idle();
    }
    const events = (await readAuditEvents(cluster.auditLogPath)).filter(isTack);
    const during = events.slice(before);
    assert.deepEqual(during.map((e) => `${e.verb} ${e.requestURI}`), [], "no request during 100 unchanged reconciles");
    assert.equal((await appStatus("idle", "web"))?.sync?.status, "Synced");
  });
});

describe("failures give a specific ComparisonError and delete nothing", () => {
  async function expectComparisonError(ns: string, reason: string, messagePart: RegExp): Promise<void> {
    const status = await eventually(async () => {
      const s = await appStatus(ns, "web");
      const cond = s?.conditions?.find((c) => c.type === "ComparisonError" || c.type === "InvalidSpecError");
      return cond?.reason === reason ? s : undefined;
    }, { message: `${ns}: condition with reason ${reason}`, timeoutMs: 30_000 });
    const cond = status.conditions!.find((c) => c.type === "ComparisonError" || c.type === "InvalidSpecError")!;
    assert.match(cond.message ?? "", messagePart);
    assert.equal(status.sync?.status, "Unknown");
  }

  async function syncedApp(ns: string, files: Record<string, string>, extra: Record<string, unknown> = {}) {
    const repo = await git.createRepo(`err-${ns}`, files);
    await kube.createNamespace(ns);
    await kube.apply(application("web", ns, {
      source: { repoURL: repo.url, path: "app" },
      destination: { server: "https://kubernetes.default.svc", namespace: ns },
      syncPolicy: { automated: { prune: true } },
      ...extra,
    }));
    await waitForSync(ns, "web", "Synced", await repo.head());
    return repo;
  }

  async function refresh(ns: string): Promise<void> {
    await kube.mergePatch("tack.dev/v1alpha1", "Application", ns, "web", { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
  }

  async function assertNothingDeleted(ns: string): Promise<void> {
    for (const [apiVersion, kind, name] of [["apps/v1", "Deployment", "web"], ["v1", "Service", "web"], ["v1", "ConfigMap", "web-config"]] as const) {
      assert.ok(await kube.get(apiVersion, kind, ns, name), `${kind}/${ns}/${name} still exists`);
    }
  }

  test("invalid YAML, then a fix recovers without a restart", async () => {
    const repo = await syncedApp("badyaml", webAppFiles());
    await repo.commit({ "app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n" }, "break yaml");
    await refresh("badyaml");
    await expectComparisonError("badyaml", "ManifestInvalid", /app\/config\.yaml.*invalid YAML|invalid YAML.*config\.yaml/);
    await assertNothingDeleted("badyaml");
    const fixed = await repo.commit({ "app/config.yaml": configMapYaml("web-config", { greeting: "fixed" }) }, "fix yaml");
    await refresh("badyaml");
    const status = await waitForSync("badyaml", "web", "Synced", fixed);
    assert.ok(!status.conditions?.some((c) => c.type === "ComparisonError"), "error condition cleared");
  });

  test("a missing path", async () => {
    await syncedApp("nopath", webAppFiles());
    await kube.mergePatch("tack.dev/v1alpha1", "Application", "nopath", "web", { spec: { source: { path: "does-not-exist" } } });
    await expectComparisonError("nopath", "PathNotFound", /does-not-exist/);
    await assertNothingDeleted("nopath");
  });

  test("an unknown revision", async () => {
    await syncedApp("norev", webAppFiles());
    await kube.mergePatch("tack.dev/v1alpha1", "Application", "norev", "web", { spec: { source: { targetRevision: "no-such-branch" } } });
    await expectComparisonError("norev", "RevisionNotFound", /no-such-branch/);
    await assertNothingDeleted("norev");
  });

  test("an unreachable git server", async () => {
    await syncedApp("unreachable", webAppFiles());
    const port = await closedPort();
    await kube.mergePatch("tack.dev/v1alpha1", "Application", "unreachable", "web", { spec: { source: { repoURL: `http://127.0.0.1:${port}/nowhere.git` } } });
    await expectComparisonError("unreachable", "RepositoryUnreachable", new RegExp(`127\\.0\\.0\\.1:${port}`));
    await assertNothingDeleted("unreachable");
  });

  test("a manifest over the size bound", async () => {
    const repo = await syncedApp("toobig", webAppFiles());
    // 12 MB of ConfigMap data, split over files so that each one is a plausible size.
    const chunk = "x".repeat(1024 * 1024);
    const big: Record<string, string> = {};
    for (let i = 0; i < 12; i++) big[`app/big-${i}.yaml`] = configMapYaml(`big-${i}`, { blob: chunk });
    await repo.commit(big, "add 12 MB");
    await refresh("toobig");
    await expectComparisonError("toobig", "ManifestTooLarge", /exceed 10 MB/);
    await assertNothingDeleted("toobig");
    assert.equal(await kube.get("v1", "ConfigMap", "toobig", "big-0"), undefined, "nothing of the oversized render applied");
  });
});

describe("repository credentials", () => {
  test("wrong credentials give RepositoryAuthFailed without the password anywhere; right ones sync", async () => {
    const secure = await startGitServer({ auth: { username: "deployer", password: "canary-s3cret-right" } });
    try {
      const repo = await secure.createRepo("private", webAppFiles());
      await kube.createNamespace("private");
      const secret = (password: string): KubeObject => ({
        apiVersion: "v1", kind: "Secret",
        metadata: { name: "private-repo", namespace: "tack-system", labels: { "tack.dev/secret-type": "repository" } },
        stringData: { url: repo.url, username: "deployer", password },
      });
      await kube.apply(secret("canary-s3cret-wrong"));
      await kube.apply(application("web", "private", {
        source: { repoURL: repo.url, path: "app" },
        destination: { server: "https://kubernetes.default.svc", namespace: "private" },
        syncPolicy: { automated: {} },
      }));
      const status = await eventually(async () => {
        const s = await appStatus("private", "web");
        return s?.conditions?.find((c) => c.reason === "RepositoryAuthFailed") ? s : undefined;
      }, { message: "RepositoryAuthFailed condition", timeoutMs: 30_000 });
      const text = JSON.stringify(status);
      assert.ok(!text.includes("canary-s3cret"), "no credential in status");
      assert.ok(!tack.logs.lines.some((l) => l.includes("canary-s3cret")), "no credential in logs");
      const events = await kube.list("v1", "Event", "private");
      assert.ok(!JSON.stringify(events).includes("canary-s3cret"), "no credential in Events");

      await kube.apply(secret("canary-s3cret-right"));
      await waitForSync("private", "web", "Synced", await repo.head());
    } finally {
      await secure.stop();
    }
  });
});
