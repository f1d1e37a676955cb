// The engine writes a step kind by kind (each kind's writes return before the next kind's begin, the objects of
// one kind concurrently) and orders steps by the wave, hook-weight included. A fake writer records when each
// write starts and returns; a fake discovery serves a CRD's kind only after a few refreshes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import pino from "pino";
import type { KubeObject } from "../../../src/api/index.ts";
import { keyOf } from "../../../src/api/index.ts";
import type { ClusterWriter, Discovery, ResourceType } from "../../../src/cluster/index.ts";
import { planSteps, runSyncStep, type SyncItem } from "../../../src/sync/engine.ts";

function item(apiVersion: string, kind: string, name: string, namespace = "", extra: Partial<KubeObject> = {}): SyncItem {
  const desired: KubeObject = { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, ...extra };
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) as [string, string] : ["", apiVersion];
  const type: ResourceType = { group, version, kind, resource: `${kind.toLowerCase()}s`, namespaced: namespace !== "", verbs: [] };
  return { key: keyOf(desired), type, desired, live: undefined, inSync: false, requiresPruning: false };
}

interface Recorded { events: string[]; refreshes: number }

/** A writer whose writes take a few event-loop turns, logging `start Kind/name` and `end Kind/name`. */
function fakeWriter(log: Recorded): ClusterWriter {
  return {
    apply: async (_type: ResourceType, obj: KubeObject) => {
      log.events.push(`start ${obj.kind}/${obj.metadata.name}`);
      for (let i = 0; i < 3; i++) await tick();
      log.events.push(`end ${obj.kind}/${obj.metadata.name}`);
      return obj;
    },
  } as unknown as ClusterWriter;
}

/** Serves every kind except Widget, which appears after `servedAfter` refreshes. */
function fakeDiscovery(log: Recorded, servedAfter: number): Discovery {
  return {
    refresh: async () => { log.refreshes++; log.events.push(`refresh ${log.refreshes}`); },
    peek: (_apiVersion: string, kind: string) => kind !== "Widget" || log.refreshes >= servedAfter ? {} : undefined,
  } as unknown as Discovery;
}

async function sync(items: SyncItem[], log: Recorded, servedAfter = 1) {
  return runSyncStep({
    app: { namespace: "argocd", name: "app" }, items, hooks: [], results: [], prune: false, dryRun: false, allowEmpty: false,
    emptyRender: false, syncOptions: [], destinationNamespace: "apps", pruneGuardPercent: 50, now: 0, deadline: 1,
    health: () => undefined, live: () => undefined, writer: fakeWriter(log), discovery: fakeDiscovery(log, servedAfter),
    signal: new AbortController().signal, logger: pino({ level: "silent" }),
  });
}

const crd = () => item("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.x.io", "",
  { spec: { group: "x.io", names: { kind: "Widget", plural: "widgets" }, scope: "Namespaced", versions: [{ name: "v1", served: true }] } });

test("one wave is written kind by kind: each kind's writes return before the next kind's begin, one kind concurrently", async () => {
  const log: Recorded = { events: [], refreshes: 0 };
  const outcome = await sync([
    item("x.io/v1", "Widget", "w1", "apps"), item("x.io/v1", "Widget", "w2", "apps"), crd(),
    item("v1", "ConfigMap", "c1", "apps"), item("v1", "ConfigMap", "c2", "apps"), item("v1", "Namespace", "apps"),
  ], log);
  assert.equal(outcome.phase, "Succeeded", outcome.message);
  assert.deepEqual(log.events, [
    "start Namespace/apps", "end Namespace/apps",
    "start ConfigMap/c1", "start ConfigMap/c2", "end ConfigMap/c1", "end ConfigMap/c2",
    "start CustomResourceDefinition/widgets.x.io", "end CustomResourceDefinition/widgets.x.io", "refresh 1",
    "start Widget/w1", "start Widget/w2", "end Widget/w1", "end Widget/w2",
  ]);
});

test("custom resources wait until discovery serves the kind their CRD (written just before) defines", async () => {
  const log: Recorded = { events: [], refreshes: 0 };
  const outcome = await sync([crd(), item("x.io/v1", "Widget", "w1", "apps")], log, 3);
  assert.equal(outcome.phase, "Succeeded", outcome.message);
  assert.deepEqual(log.events, [
    "start CustomResourceDefinition/widgets.x.io", "end CustomResourceDefinition/widgets.x.io",
    "refresh 1", "refresh 2", "refresh 3", "start Widget/w1", "end Widget/w1",
  ]);
});

test("steps by wave: a non-hook object's helm.sh/hook-weight is its wave unless a sync-wave is set", () => {
  const annotated = (kind: string, name: string, annotations: Record<string, string>) => {
    const i = item("v1", kind, name, "apps");
    i.desired!.metadata.annotations = annotations;
    return i;
  };
  const items = [
    annotated("Service", "helm-guestbook", { "helm.sh/hook-weight": "2" }),
    annotated("ConfigMap", "plain", {}),
    annotated("Secret", "waved", { "argocd.argoproj.io/sync-wave": "1", "helm.sh/hook-weight": "5" }),
  ];
  const { byStep, ordered } = planSteps(items, [], []);
  assert.deepEqual(ordered.map((s) => `${s.phase}/${s.wave}: ${byStep.get(`${s.phase}/${s.wave}`)!.applies.map((a) => a.key.name).join(",")}`),
    ["Sync/0: plain", "Sync/1: waved", "Sync/2: helm-guestbook"]);
});
