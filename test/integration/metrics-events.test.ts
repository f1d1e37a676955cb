// Metrics and Events: an app's series disappear when it is deleted; series grow linearly with the number of apps
// and with nothing else users control; Events name what happened and a flapping app does not flood them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { application, eventually, waitForApp, startEnvironment } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

const { cluster, git, kube, tack } = await startEnvironment({ "resync-seconds": 600 });

async function metricsText(): Promise<string> {
  return (await tack.metrics.render()).body;
}

/** Series of tack's per-app metrics (process metrics left out), optionally only those naming `name`. */
function appSeries(text: string, name?: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("tack_app_") && (!name || l.includes(`name="${name}"`)));
}

test("Events name what happened; a repeated Event bumps its count instead of flooding", async () => {
  const repo = await git.createRepo("events", { "app/cm.yaml": configMapYaml("c", { v: "1" }) });
  await kube.createNamespace("events");
  await kube.apply(application("web", "events", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "events" },
    syncPolicy: { automated: { selfHeal: true } },
  }));
  await waitForApp(kube, "events", "web", (s) => s.operationState?.phase === "Succeeded", "synced");
  // Flap: the same live edit five times, each healed.
  for (let i = 0; i < 5; i++) {
    await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "events" }, data: { v: "tampered" } }, "intruder");
    await eventually(async () => ((await kube.get("v1", "ConfigMap", "events", "c"))?.data as Record<string, string>).v === "1", { message: `healed ${i}` });
  }
  await tack.controller.queue.idle();
  const events = await eventually(async () => {
    const list = await kube.list("v1", "Event", "events");
    return list.some((e) => e.reason === "SyncSucceeded" && Number(e.count) > 1) ? list : undefined;
  }, { message: "deduplicated SyncSucceeded" });
  const reasons = new Set(events.map((e) => e.reason as string));
  for (const reason of ["SyncStarted", "SyncSucceeded", "OutOfSync"]) assert.ok(reasons.has(reason), `${reason} in ${[...reasons].join(", ")}`);
  const outOfSync = events.filter((e) => e.reason === "OutOfSync");
  assert.ok(outOfSync.some((e) => String(e.message).includes("ConfigMap/events/c")), "OutOfSync names the object");
  assert.ok(events.length <= 8, `six syncs produced ${events.length} Events, not dozens`);
  for (const e of events) assert.equal((e.involvedObject as { kind: string; name: string }).name, "web");
});

test("an app's series are removed when it is deleted", async () => {
  const repo = await git.createRepo("series", { "app/cm.yaml": configMapYaml("c", { v: "1" }) });
  await kube.createNamespace("series");
  await kube.apply(application("doomed", "series", {
    source: { repoURL: repo.url, path: "app" },
    destination: { server: "https://kubernetes.default.svc", namespace: "series" },
    syncPolicy: { automated: {} },
  }));
  await waitForApp(kube, "series", "doomed", (s) => s.operationState?.phase === "Succeeded", "synced");
  await eventually(async () => appSeries(await metricsText(), "doomed").some((l) => l.startsWith("tack_app_info")), { message: "series present" });
  assert.ok(appSeries(await metricsText(), "doomed").some((l) => l.startsWith("tack_app_sync_total")));
  await kube.delete("tack.dev/v1alpha1", "Application", "series", "doomed");
  await eventually(async () => appSeries(await metricsText(), "doomed").length === 0, { message: "every series of the deleted app removed" });
});

test("500 apps: series grow linearly with apps, not with anything else users control", async () => {
  const repo = await git.createRepo("many", { "app/cm.yaml": configMapYaml("c", { v: "1" }) });
  await kube.createNamespace("many");
  const create = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      // Long names and long, varied repo URLs: only app identity (and its repo) may appear in labels.
      await kube.apply(application(`app-${i}-${"x".repeat(40)}`, "many", {
        source: { repoURL: `${repo.url}?variant=${i}`.replace(/\?variant=\d+$/, ""), path: "app" },
        destination: { server: "https://kubernetes.default.svc", namespace: `target-${i}` },
      }));
    }
  };
  const countAfter = async (apps: number) => {
    await eventually(async () => {
      await tack.controller.queue.idle();
      return appSeries(await metricsText()).filter((l) => l.startsWith("tack_app_info{") && l.includes('namespace="many"')).length === apps;
    }, { timeoutMs: 120_000, message: `${apps} apps reconciled` });
    return appSeries(await metricsText()).filter((l) => l.includes('namespace="many"')).length;
  };
  await create(0, 250);
  const at250 = await countAfter(250);
  await create(250, 500);
  const at500 = await countAfter(500);
  const ratio = at500 / at250;
  assert.ok(ratio > 1.9 && ratio < 2.1, `series at 500 apps (${at500}) ≈ twice those at 250 (${at250}): ratio ${ratio.toFixed(3)}`);
  const perApp = at500 / 500;
  assert.ok(perApp < 30, `${perApp.toFixed(1)} series per app`);
  // Labels hold only bounded values besides app identity: no messages, revisions or object names.
  const text = await metricsText();
  assert.ok(!/revision=|message=|object=/.test(text), "no unbounded labels");
});
