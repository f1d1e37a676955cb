// Stage "source": from the spec's source to the desired objects. Resolves the revision (reusing the one resolved
// at the last poll for watch-triggered reconciles), renders through the render cache (keyed by the content of what
// a render read, so a commit to another folder of a monorepo renders nothing), and resolves each object against the
// destination's API types. The last step runs on every reconcile: an object whose CRD arrives later is then found.
import type { Application, ApplicationSource } from "../../api/index.ts";
import { Annotation } from "../../api/index.ts";
import type { ResourceType } from "../../cluster/index.ts";
import type { RepoCredentials } from "../../git/index.ts";
import { helmApiVersions, render, type SourceType } from "../../render/index.ts";
import type { HookItem } from "../../sync/engine.ts";
import { hasOption } from "../../sync/plan.ts";
import type { TargetCluster } from "../clusters.ts";
import { prepareDesired, type DesiredObject } from "../desired.ts";
import type { ReconcileContext } from "./context.ts";

export interface Loaded { revision: string; desired: DesiredObject[]; hooks: HookItem[]; sourceType: SourceType; emptyRender: boolean }

export type RefreshKind = "normal" | "hard";

/** How soon an app with objects left out for a missing CRD looks for their kinds again. */
const LEFT_OUT_RECHECK_MS = 10_000;

/** The refresh the app asks for (Tack's annotation or Argo CD's), if any: "hard" also renders again. */
export function requestedRefresh(app: Application): RefreshKind | undefined {
  const value = app.metadata.annotations?.[Annotation.Refresh] ?? app.metadata.annotations?.[Annotation.ArgoRefresh];
  if (value === undefined) return undefined;
  return value === "hard" ? "hard" : "normal";
}

export interface LoadOptions {
  /** Ask Git for the ref now (past the revision cache and the app's memory); "hard" also renders again. */
  refresh?: RefreshKind;
  /** Remember the resolved revision for the next reconcile (false for an operation's own revision). */
  remember?: boolean;
}

/** Revision → checkout → render → desired objects. */
export async function loadSource(ctx: ReconcileContext, target: TargetCluster, source: ApplicationSource, revisionSpec: string,
  credentials: RepoCredentials | undefined, opts: LoadOptions = {}): Promise<Loaded> {
  const { deps, app } = ctx;
  const revision = await resolveRevision(ctx, source, revisionSpec, credentials, opts);
  const chart = source.chart ? chartVersionResolver(ctx, source, revisionSpec) : undefined;
  const syncOptions = app.spec.syncPolicy?.syncOptions ?? [];
  const renderStarted = performance.now();
  const rendered = await deps.renderCache.render({
    source, maxBytes: deps.config.maxManifestBytes, appName: app.metadata.name, appNamespace: app.metadata.namespace,
    destinationNamespace: app.spec.destination?.namespace, signal: deps.signal, revision, options: deps.renderOptions,
    kubeVersion: (await target.discovery.serverVersion()).gitVersion, apiVersions: apiVersionsOf(target.discovery.types()),
  }, {
    treeHash: async (path) => {
      await deps.repos.ensureCommit(source.repoURL, revision, { credentials });
      return deps.repos.treeHash(source.repoURL, revision, path);
    },
    // A plain folder of manifests needs only itself written out, not every file of a monorepo.
    checkout: async () => (!source.helm && !source.kustomize && !source.plugin
      ? await deps.repos.checkoutPath(source.repoURL, revision, source.path ?? "", { credentials }) : undefined)
      ?? deps.repos.checkout(source.repoURL, revision, { credentials }),
    render,
    // A hard refresh renders this app again; every other app keeps its cached renders.
    fresh: opts.refresh === "hard",
    ...(chart ? { resolveChart: chart } : {}),
  });
  if (!rendered.cacheHit) deps.metrics.observeRender(rendered.sourceType, (performance.now() - renderStarted) / 1000);
  const state = await prepareDesired(rendered.objects, ctx.ref, app.spec.destination?.namespace, target.discovery,
    { skipDryRunOnMissingResource: hasOption(syncOptions, "SkipDryRunOnMissingResource") });
  // Left out until the cluster serves their kind: look again soon (discovery refreshes on the lookup's miss, at
  // most every few seconds for all apps together), so a CRD installed later is found without a new commit.
  if (state.leftOut > 0) ctx.requeue(LEFT_OUT_RECHECK_MS);
  return { revision, desired: state.desired, hooks: state.hooks, sourceType: rendered.sourceType, emptyRender: rendered.objects.length === 0 };
}

const apiVersionLists = new WeakMap<readonly ResourceType[], string[]>();

/** Helm's capabilities for a discovery state, computed once per state (discovery keeps its list until it changes). */
function apiVersionsOf(types: readonly ResourceType[]): string[] {
  let list = apiVersionLists.get(types);
  if (!list) {
    list = helmApiVersions(types);
    apiVersionLists.set(types, list);
  }
  return list;
}

/**
 * The commit (or, for a chart of a Helm repository, the chart version) the source's revision spec names now.
 * Watch-triggered reconciles reuse the revision resolved at the last poll; polls, refreshes, operations a user
 * asked for and spec changes ask the server (and the repo cache fetches only when the ref moved).
 */
async function resolveRevision(ctx: ReconcileContext, source: ApplicationSource, revisionSpec: string, credentials: RepoCredentials | undefined,
  opts: LoadOptions): Promise<string> {
  const { deps, memory } = ctx;
  if (source.chart) return chartVersionResolver(ctx, source, revisionSpec)();
  const remember = opts.remember ?? true;
  const sourceKey = `${source.repoURL}#${revisionSpec}`;
  const known = remember ? memory.resolved : undefined;
  const nowMs = Date.now();
  const due = !known || known.sourceKey !== sourceKey || opts.refresh !== undefined ||
    nowMs - known.resolvedAt >= deps.config.resyncSeconds * 1000 * 0.8;
  if (!due) return known.revision;
  const revision = await deps.repos.resolveRevision(source.repoURL, revisionSpec, { credentials, force: opts.refresh !== undefined });
  if (remember) memory.resolved = { sourceKey, revision, resolvedAt: nowMs };
  return revision;
}

/** A chart from a Helm repository: its revision is the chart version the constraint resolves to. */
function chartVersionResolver(ctx: ReconcileContext, source: ApplicationSource, revisionSpec: string): () => Promise<string> {
  const repositories = ctx.deps.renderOptions.helmRepositories!;
  return async () => (await repositories.resolve(source.repoURL, source.chart!, revisionSpec === "HEAD" ? "" : revisionSpec)).version;
}
