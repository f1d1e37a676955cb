// Writing a step's objects: kind by kind in Argo CD's order (the objects of one kind concurrently), each with
// the write its sync options ask for, custom resources waiting for the CRD written just before them, and the
// destination namespace created first when CreateNamespace=true.
import { setTimeout as delay } from "node:timers/promises";
import type { KubeObject, ResourceKey, ResourceResult } from "../api/index.ts";
import { displayName } from "../api/index.ts";
import { errorMessage } from "../errors.ts";
import { ignoredPaths, respectIgnored, rulesFor } from "../diff/ignore.ts";
import { mapLimit } from "../util/concurrency.ts";
import { hasOption, kindGroups, objectSyncOptions, type Step } from "./plan.ts";
import { recordResult, ResultStatus } from "./results.ts";
import type { EngineRequest, SyncItem } from "./types.ts";

/** How long custom resources wait for a CRD written in the same step to be served (Argo CD's engine waits 3 s too). */
const CRD_SERVED_TIMEOUT_MS = 3_000;
const CRD_SERVED_POLL_MS = 100;
const DEFAULT_APPLY_CONCURRENCY = 8;

/**
 * Writes `toApply` one kind at a time and records each write. A kind starts only when every write of the previous
 * kind has returned; a kind with a failed write stops the step there. Returns one line per failed write.
 */
export async function applyKindByKind<T extends SyncItem>(req: EngineRequest<T>, step: Step, toApply: T[], results: ResourceResult[],
  applied: (item: T, live: KubeObject) => void): Promise<string[]> {
  const failures: string[] = [];
  for (const group of kindGroups(toApply.map((item) => ({ desired: item.desired!, item })))) {
    await mapLimit(group, req.applyConcurrency ?? DEFAULT_APPLY_CONCURRENCY, async ({ item }) => {
      try {
        const live = await writeObject(req, item);
        recordResult(results, item, step, ResultStatus.Synced, req.dryRun ? "would be applied (dry run)" : item.live ? "configured" : "created");
        if (!req.dryRun) {
          req.onApplied?.(item.key, item.desired!, live);
          applied(item, live);
        }
      } catch (err) {
        const record = recordResult(results, item, step, ResultStatus.SyncFailed, errorMessage(err).replace(/^(PATCH|PUT|POST) \S+: /, ""));
        // The operation message quotes the record's message, so a Secret's values are masked there too.
        failures.push(`${displayName(item.key)}: ${record.message}`);
      }
    });
    if (failures.length > 0) break;
    const crds = group.filter(({ item }) => isCrd(item.key));
    if (!req.dryRun && crds.length > 0) await waitUntilServed(req, crds.map(({ item }) => item.desired!), toApply);
  }
  return failures;
}

function isCrd(key: ResourceKey): boolean {
  return key.group === "apiextensions.k8s.io" && key.kind === "CustomResourceDefinition";
}

/**
 * After CRDs are written: the API server serves their kinds only once they are Established, a moment later. The
 * objects of those kinds still to be written in this step wait until discovery lists their kind (at most
 * CRD_SERVED_TIMEOUT_MS; past that their writes fail with the server's own message, as they would without the wait).
 * Discovery is refreshed at least once either way, so that later lookups know the new kinds.
 */
async function waitUntilServed<T extends SyncItem>(req: EngineRequest<T>, crds: KubeObject[], toApply: T[]): Promise<void> {
  const defined = new Set(crds.map((crd) => {
    const spec = crd.spec as { group?: string; names?: { kind?: string } } | undefined;
    return `${spec?.group ?? ""}/${spec?.names?.kind ?? ""}`;
  }));
  const waiting = toApply.filter((item) => defined.has(`${item.key.group}/${item.key.kind}`));
  const giveUpAt = Date.now() + CRD_SERVED_TIMEOUT_MS;
  for (;;) {
    await req.discovery.refresh();
    if (waiting.every((item) => req.discovery.peek(item.desired!.apiVersion, item.key.kind))) return;
    if (Date.now() >= giveUpAt || req.signal.aborted) return;
    await delay(CRD_SERVED_POLL_MS, undefined, { signal: req.signal }).catch(() => {});
  }
}

/**
 * SSA by default; Replace=true replaces; ServerSideApply=false writes a JSON merge patch. Validate=false also
 * writes a merge patch: server-side apply checks every field against the schema whatever fieldValidation says.
 */
async function writeObject<T extends SyncItem>(req: EngineRequest<T>, item: T): Promise<KubeObject> {
  const options = [...req.syncOptions, ...objectSyncOptions(item.desired)];
  const validate = !hasOption(options, "Validate", "false");
  const rules = req.ignore ? rulesFor(req.ignore.rules, item.key) : [];
  if (hasOption(options, "RespectIgnoreDifferences") && item.live && rules.length > 0) {
    // Fields the app ignores keep their live values (an HPA's replicas), so applying never resets them.
    const paths = await ignoredPaths({ desiredOrPredicted: item.desired!, live: item.live, rules, jq: req.ignore!.jq });
    item = { ...item, desired: respectIgnored(item.desired!, item.live, paths) };
  }
  if (hasOption(options, "Replace")) return req.writer.replace(item.type, item.desired!, item.live, { dryRun: req.dryRun, validate });
  if (hasOption(options, "ServerSideApply", "false") || !validate) {
    return req.writer.mergeUpdate(item.type, item.desired!, item.live, { dryRun: req.dryRun, validate });
  }
  return req.writer.apply(item.type, item.desired!, { dryRun: req.dryRun, signal: req.signal, validate });
}

/** CreateNamespace=true: the destination namespace, with managedNamespaceMetadata; a failure message or undefined. */
export async function ensureNamespace<T extends SyncItem>(req: EngineRequest<T>): Promise<string | undefined> {
  const type = await req.discovery.lookup("v1", "Namespace");
  if (!type) return undefined;
  const metadata = req.managedNamespaceMetadata;
  try {
    await req.writer.apply(type, {
      apiVersion: "v1", kind: "Namespace",
      metadata: { name: req.destinationNamespace!, ...(metadata?.labels ? { labels: metadata.labels } : {}), ...(metadata?.annotations ? { annotations: metadata.annotations } : {}) },
    }, { signal: req.signal });
    return undefined;
  } catch (err) {
    return `Namespace/${req.destinationNamespace} (CreateNamespace=true): ${errorMessage(err)}`;
  }
}
