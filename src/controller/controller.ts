// The controller: watches Applications, AppProjects, repository Secrets and the live objects Tack manages,
// and turns every relevant change into a key in the work queue. Thin glue; the work is in reconciler.ts and its stages.
import type { Logger } from "pino";
import type { KubeObject } from "../api/index.ts";
import { API_GROUP, API_VERSION, Annotation, Label } from "../api/index.ts";
import { randomUUID } from "node:crypto";
import { ClusterWriter, Informer, InformerGroup, LeaderElector, type KubeClient, type ObjectStore } from "../cluster/index.ts";
import type { Config } from "../config.ts";
import type { RepoCache } from "../git/index.ts";
import {
  compileHealthConfig, compileLuaRuleDir, HEALTH_RULES_CONFIGMAP, type CompiledHealthRules, type LuaRuleLayer,
} from "../health/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { JqEvaluator } from "../jq/index.ts";
import { HelmRepositories, RenderCache, type RenderOptions } from "../render/index.ts";
import { CREDENTIAL_SECRET_TYPES, repoCredentials } from "./credentials.ts";
import { join } from "node:path";
import { normalizeRepoURL } from "../git/index.ts";
import type { Push, WebhookSecrets } from "../server/webhooks/index.ts";
import { ClusterRegistry } from "./clusters.ts";
import { EventRecorder } from "./events.ts";
import { WorkQueue } from "./queue.ts";
import { Reconciler } from "./reconciler.ts";

export interface ControllerOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  client: KubeClient;
  repos: RepoCache;
}

const SYNC_TIMEOUT_MS = 60_000;
/** The Secret holding webhook secrets, in Tack's namespace. */
export const WEBHOOK_SECRET = "tack-webhook";
/** How long the apps a push did not change wait for the ones it changed before they record the new revision. */
const PUSH_FOLLOWERS_WAIT_MS = 5_000;
/** The Lease replicas compete for, in Tack's namespace. */
export const LEASE_NAME = "tack-controller";

export class Controller {
  readonly queue: WorkQueue;
  readonly clusters: ClusterRegistry;
  readonly #options: ControllerOptions;
  readonly #abort = new AbortController();
  readonly #applications: ObjectStore;
  readonly #projects: ObjectStore;
  readonly #repoSecrets: Informer;
  readonly #healthRuleConfig: Informer;
  readonly #webhookSecret: Informer;
  readonly #clusterSecrets: Informer;
  /** Apps named by pushes received in the current coalescing window. */
  #pendingPushes: Push[] = [];
  #pushRounds: Promise<void> | undefined;
  #healthRules: CompiledHealthRules | undefined;
  /** The Lua rules of --health-lua-dir, read once; every compile of the ConfigMap layers its own above them. */
  #luaDir: Promise<LuaRuleLayer | undefined> | undefined;
  /** The compile of the ConfigMap in progress; a newer change supersedes an older compile that finishes late. */
  #healthRulesReady: Promise<void> = Promise.resolve();
  #healthRulesGeneration = 0;
  readonly #reconciler: Reconciler;
  readonly #events: EventRecorder;
  readonly #jq = new JqEvaluator({ timeoutMs: 1_000, maxMemoryMb: 256 });
  #started = false;
  /** The current leadership term: never aborted without leader election; aborted the moment a Lease is lost. */
  #term: AbortSignal = new AbortController().signal;
  #elector: LeaderElector | undefined;
  #gaugeTimer: NodeJS.Timeout | undefined;

  constructor(options: ControllerOptions) {
    this.#options = options;
    const { client, config, logger, metrics } = options;
    // Writes to Applications, AppProjects and Events go to the cluster Tack runs in; managed objects go to
    // each app's destination cluster (ClusterRegistry).
    const writer = new ClusterWriter(client, { leadership: () => this.#term });
    this.clusters = new ClusterRegistry({
      home: client, logger, userAgent: client.userAgent, timeoutMs: config.apiTimeoutSeconds * 1000,
      leadership: () => this.#term,
      onOwnedChange: (key) => this.queue.add(key),
      onConnectivityChange: (cluster, reachable) => {
        metrics.setClusterConnection(cluster.server, reachable);
        logger[reachable ? "info" : "warn"]({ cluster: cluster.name, server: cluster.server }, reachable ? "cluster reachable" : "cluster unreachable");
        this.#enqueueApps((app) => {
          const destination = (app.spec as { destination?: { server?: string; name?: string } }).destination ?? {};
          try { return this.clusters.resolve(destination) === cluster; } catch { return false; }
        });
      },
      onRequest: (o) => metrics.countK8sRequest(o.verb, o.resource, o.code),
      inClusterScope: { namespaces: config.managedNamespaces, clusterResources: config.manageClusterResources },
    });
    const appNamespaces = new Set(config.applicationNamespaces);
    const watched = (ns: string | undefined) => appNamespaces.size === 0 || appNamespaces.has(ns ?? "");

    // With --application-namespaces, Applications and AppProjects are watched in those namespaces only, so a
    // namespaced installation needs no cluster-wide read on them.
    const collection = (resource: string) => (namespace?: string) =>
      `/apis/${API_GROUP}/${API_VERSION}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${resource}`;
    this.#applications = new InformerGroup(client, {
      logger,
      onChange: (change, app, old) => {
        if (!watched(app.metadata.namespace)) return;
        this.#reconciler.observed(appKey(app), app);
        if (change !== "modified" || !old || needsReconcile(old, app)) this.queue.add(appKey(app));
      },
      // Listed again after a lost watch (the API server was away or restarted): every app whose status write failed
      // meanwhile is waiting out its retry backoff (up to --retry-max-seconds), and a destination cluster that stayed
      // reachable sends no event to wake it. Reconciling all of them now is what "recovers by itself" means.
      onRelist: (listStartedAt) => {
        this.#reconciler.relisted(listStartedAt);
        this.#enqueueApps((app) => watched(app.metadata.namespace));
      },
    }, collection("applications"), config.applicationNamespaces);
    this.#projects = new InformerGroup(client, {
      logger,
      onChange: (_change, project) => this.#enqueueApps((app) =>
        app.metadata.namespace === project.metadata.namespace && ((app.spec as { project?: string }).project || "default") === project.metadata.name),
    }, collection("appprojects"), config.applicationNamespaces);
    this.#repoSecrets = new Informer(client, {
      path: `/api/v1/namespaces/${encodeURIComponent(config.namespace)}/secrets`,
      labelSelector: `${Label.SecretType} in (${CREDENTIAL_SECRET_TYPES.join(",")})`, logger,
      onChange: () => this.#enqueueApps(() => true),
    });
    this.#healthRuleConfig = new Informer(client, {
      path: `/api/v1/namespaces/${encodeURIComponent(config.namespace)}/configmaps`,
      fieldSelector: `metadata.name=${HEALTH_RULES_CONFIGMAP}`, logger,
      onChange: (change, configMap) => {
        const data = change === "deleted" ? {} : (configMap.data as Record<string, string> | undefined) ?? {};
        this.#healthRulesReady = this.#compileHealthRules(data).catch((err: unknown) =>
          logger.error({ err, configMap: HEALTH_RULES_CONFIGMAP }, "could not compile health rules"));
      },
    });
    this.#webhookSecret = new Informer(client, {
      path: `/api/v1/namespaces/${encodeURIComponent(config.namespace)}/secrets`,
      fieldSelector: `metadata.name=${WEBHOOK_SECRET}`, logger,
    });
    this.#clusterSecrets = new Informer(client, {
      path: `/api/v1/namespaces/${encodeURIComponent(config.namespace)}/secrets`,
      labelSelector: `${Label.SecretType}=cluster`, logger,
      onChange: () => {
        this.clusters.syncFromSecrets(this.#clusterSecrets).then(() => this.#enqueueApps(() => true),
          (err: unknown) => logger.error({ err }, "could not apply cluster Secrets"));
      },
    });

    const resyncMs = config.resyncSeconds * 1000;
    this.#events = new EventRecorder(writer, logger);
    this.#reconciler = new Reconciler({
      config, logger, metrics, clusters: this.clusters, writer,
      repos: options.repos, events: this.#events,
      applications: this.#applications, projects: this.#projects, repoSecrets: this.#repoSecrets,
      healthRules: () => this.#healthRules,
      jq: this.#jq,
      renderCache: new RenderCache({ onLookup: (hit) => metrics.countRenderCache(hit) }),
      renderOptions: renderOptions(config, (url) => repoCredentials(this.#repoSecrets, url)),
      resyncDelayMs: () => Math.round(resyncMs * (1 - config.resyncJitter / 2 + Math.random() * config.resyncJitter)),
      signal: this.#abort.signal,
    });
    this.queue = new WorkQueue({
      workers: config.workers,
      retryBaseMs: config.retryBaseSeconds * 1000,
      retryMaxMs: config.retryMaxSeconds * 1000,
      process: (key) => this.#reconciler.reconcile(key),
      onError: (key, err) => logger.error({ err, application: key }, "reconcile threw"),
      onDequeue: (_key, waitedMs) => metrics.observeQueueWait(waitedMs / 1000),
    });
  }

  /** Lua rules compile asynchronously (the Lua runtime loads once); CEL and Lua rules are swapped in together. */
  async #compileHealthRules(data: Record<string, string>): Promise<void> {
    const { logger } = this.#options;
    const generation = ++this.#healthRulesGeneration;
    const { rules, errors } = await compileHealthConfig(data, await this.#luaDir);
    if (generation !== this.#healthRulesGeneration) {
      rules.lua.close();
      return;
    }
    for (const error of errors) logger.error({ key: error.key, configMap: HEALTH_RULES_CONFIGMAP }, `health rule refused: ${error.message}`);
    const previous = this.#healthRules;
    this.#healthRules = rules;
    previous?.lua.close();
    this.#enqueueApps(() => true);
  }

  async #loadLuaDir(dir: string): Promise<LuaRuleLayer> {
    const { layer, errors } = await compileLuaRuleDir(dir);
    for (const error of errors) this.#options.logger.error({ key: error.key, healthLuaDir: dir }, `health rule refused: ${error.message}`);
    this.#options.logger.info({ healthLuaDir: dir, rules: layer.exact.size + layer.wildcards.length }, "Lua health rules loaded");
    return layer;
  }

  /** Starts the watches and the workers; resolves when the caches it depends on have synced. */
  async start(): Promise<void> {
    const { logger, metrics, client } = this.#options;
    await this.clusters.inCluster.discovery.refresh();
    const { config } = this.#options;
    // Read before the ConfigMap's first compile needs it; an unreadable directory stops the start, as a bad flag does.
    this.#luaDir = config.healthLuaDir ? this.#loadLuaDir(config.healthLuaDir) : Promise.resolve(undefined);
    await this.#luaDir;
    if (config.leaderElect) this.queue.pause();   // a standby keeps its caches warm but writes nothing
    // Projects and credentials first: the first reconciles need them.
    const prerequisites = [this.#repoSecrets, this.#projects, this.#healthRuleConfig, this.#webhookSecret, this.#clusterSecrets];
    for (const informer of prerequisites) informer.start();
    await Promise.all(prerequisites.map((i) => i.waitForSync(SYNC_TIMEOUT_MS)));
    await this.#healthRulesReady;   // the first reconciles judge health with the rules of the ConfigMap
    this.#applications.start();
    await this.#applications.waitForSync(SYNC_TIMEOUT_MS);
    this.#gaugeTimer = setInterval(() => {
      metrics.setQueueDepth(this.queue.length);
      for (const cluster of this.clusters.all()) metrics.setCacheObjects(cluster.server, cluster.cache.objectCount());
    }, 2_000);
    this.#gaugeTimer.unref();
    this.#started = true;
    logger.info({ applications: this.#applications.size, leaderElection: config.leaderElect }, "controller started");
    if (config.leaderElect) {
      this.#elector = new LeaderElector(client, {
        namespace: config.namespace, name: LEASE_NAME, identity: `${config.podName}_${randomUUID().slice(0, 8)}`,
        leaseDurationMs: config.leaseDurationSeconds * 1000, renewDeadlineMs: config.leaseRenewDeadlineSeconds * 1000,
        retryPeriodMs: config.leaseRetryPeriodSeconds * 1000, logger,
        onStartedLeading: (signal) => {
          this.#term = signal;
          logger.info("became the leader: reconciling");
          this.queue.resume();
          this.#enqueueApps(() => true);
        },
        onStoppedLeading: (reason) => {
          // Writes stop at once through the aborted term; queued work waits for the next term.
          this.queue.pause();
          if (reason === "stopped") logger.info("released the lease on shutdown");
          else logger.warn({ reason }, "stopped leading: writes refused until leading again");
        },
      });
      this.#elector.start();
    }
  }

  /** Ready once the first lists have landed: Applications, projects and credentials are known. */
  ready(): boolean {
    return this.#started && [this.#applications, this.#projects, this.#repoSecrets, this.#healthRuleConfig, this.#webhookSecret, this.#clusterSecrets].every((i) => i.synced);
  }

  /** Finishes the writes in flight (up to graceMs), then stops every watch. */
  async stop(graceMs: number): Promise<boolean> {
    this.#abort.abort();
    // Finish (or give up) the work in flight before handing the Lease over, so two replicas never overlap.
    const drainedFirst = this.queue.shutdown(graceMs);
    clearInterval(this.#gaugeTimer);
    const drained = await drainedFirst;
    // The Events of the last reconciles, while this replica still holds the Lease (bounded like the drain).
    await Promise.race([this.#events.flush(), new Promise((resolve) => setTimeout(resolve, Math.min(graceMs, 2_000)).unref())]);
    await this.#elector?.stop();
    await Promise.all([this.#applications, this.#projects, this.#repoSecrets, this.#healthRuleConfig, this.#webhookSecret]
      .concat(this.#clusterSecrets).map((i) => i.stop()).concat(this.clusters.stop()));
    await this.#jq.close();
    return drained;
  }

  /** The webhook Secret's values (`tack-webhook` in Tack's namespace; keys github, gitlab, gitea, …). */
  webhookSecrets(): WebhookSecrets {
    const secret = this.#webhookSecret.get(this.#options.config.namespace, WEBHOOK_SECRET);
    const data = (secret?.data as Record<string, string> | undefined) ?? {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, "base64").toString("utf8").trim();
    return out as WebhookSecrets;
  }

  /**
   * A verified push: the apps whose normalised repoURL and targetRevision match are refreshed (revision
   * resolved again, now). A lone push is handled at once; pushes that arrive while one is being handled are
   * handled together next, so a burst of webhooks costs a few ref listings, not one per webhook.
   */
  handlePush(push: Push): void {
    this.#pendingPushes.push(push);
    this.#pushRounds ??= this.#handlePushRounds().finally(() => { this.#pushRounds = undefined; });
  }

  async #handlePushRounds(): Promise<void> {
    while (this.#pendingPushes.length > 0 && !this.#abort.signal.aborted) {
      await new Promise((resolve) => setImmediate(resolve));   // webhooks of the same tick join this round
      const pushes = this.#pendingPushes.splice(0);
      // Apps grouped by the (repoURL, targetRevision) they follow; per app, whether the payload says its files changed.
      const groups = new Map<string, PushGroup>();
      for (const app of this.#applications.list()) {
        const source = (app.spec as { source?: { repoURL?: string; targetRevision?: string; path?: string; chart?: string } }).source;
        if (!source?.repoURL || source.chart) continue;
        const url = normalizeRepoURL(source.repoURL).toLowerCase();
        const revision = source.targetRevision || "HEAD";
        for (const push of pushes) {
          if (!push.repoURLs.some((u) => u.toLowerCase() === url) || !push.revisions.includes(revision)) continue;
          const id = `${source.repoURL}#${revision}`;
          let group = groups.get(id);
          if (!group) { group = { repoURL: source.repoURL, revision, apps: new Map() }; groups.set(id, group); }
          const known = group.apps.get(appKey(app));
          const touched = touches(push, source.path);
          group.apps.set(appKey(app), {
            path: source.path ?? "", deployed: (app.status as { sync?: { revision?: string } } | undefined)?.sync?.revision,
            touched: !known ? touched : touched === undefined || known.touched === undefined ? undefined : touched || known.touched,
          });
        }
      }
      const count = [...groups.values()].reduce((n, g) => n + g.apps.size, 0);
      this.#options.logger.info({ pushes: pushes.length, applications: count }, "webhook push: refreshing matching applications");
      await Promise.all([...groups.values()].map((group) => this.#refreshGroup(group)));
    }
  }

  /**
   * One ref listing for all the apps of a push that follow the same repository and revision. The apps whose files
   * changed (by the payload's file list, or else by comparing their path's Git tree between the deployed and the
   * new commit) are reconciled first and alone; the others, which only record the new revision, follow once those
   * are done, so on a monorepo the one app that changed does not queue behind a hundred status writes. If the
   * listing fails, each app resolves on its own and reports its own error.
   */
  async #refreshGroup(group: PushGroup): Promise<void> {
    const repos = this.#options.repos;
    const credentials = repoCredentials(this.#repoSecrets, group.repoURL);
    let sha: string | undefined;
    try {
      sha = await repos.resolveRevision(group.repoURL, group.revision, { credentials, force: true });
    } catch (err) {
      this.#options.logger.debug({ err: { message: (err as Error).message }, repo: group.repoURL }, "push: shared ref listing failed");
    }
    const changed: string[] = [];
    const unchanged: string[] = [];
    const needsTreeDiff = sha !== undefined && [...group.apps.values()].some((a) => a.touched === undefined);
    if (needsTreeDiff) await repos.ensureCommit(group.repoURL, sha!, { credentials }).catch(() => undefined);
    for (const [key, app] of group.apps) {
      let touched = app.touched;
      if (touched === undefined) touched = !needsTreeDiff || await this.#pathChanged(group.repoURL, app.deployed, sha!, app.path);
      (touched ? changed : unchanged).push(key);
    }
    const enqueue = (keys: string[], front: boolean): void => {
      for (const key of keys) {
        if (sha) this.#reconciler.resolved(key, group.repoURL, group.revision, sha);
        else this.#reconciler.refresh(key);
        this.queue.add(key, { front });
      }
    };
    enqueue(changed, true);
    if (changed.length > 0 && unchanged.length > 0) await this.queue.settled(changed, PUSH_FOLLOWERS_WAIT_MS);
    enqueue(unchanged, false);
  }

  /** Whether the app's path differs between the deployed commit and the new one (unknown counts as changed). */
  async #pathChanged(repoURL: string, deployed: string | undefined, next: string, path: string): Promise<boolean> {
    if (!deployed) return true;
    if (deployed === next) return false;
    try {
      const repos = this.#options.repos;
      const [before, after] = await Promise.all([repos.treeHash(repoURL, deployed, path), repos.treeHash(repoURL, next, path)]);
      return before === undefined || before !== after;
    } catch {
      return true;   // the deployed commit is not in the local store (a restart, a force push): reconcile it first
    }
  }

  #enqueueApps(filter: (app: KubeObject) => boolean): void {
    for (const app of this.#applications.list()) if (filter(app)) this.queue.add(appKey(app));
  }
}

function appKey(app: KubeObject): string { return `${app.metadata.namespace}/${app.metadata.name}`; }

/**
 * Our own status writes come back as watch events; reconciling on them would only find nothing to do.
 * Spec changes (generation), a refresh request, an operation or a deletion are what call for a reconcile.
 */
function needsReconcile(old: KubeObject, app: KubeObject): boolean {
  if (old.metadata.generation !== app.metadata.generation) return true;
  if (app.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) return true;
  const refresh = (o: KubeObject) => o.metadata.annotations?.[Annotation.Refresh] ?? o.metadata.annotations?.[Annotation.ArgoRefresh];
  if (refresh(app) !== undefined && refresh(app) !== refresh(old)) return true;
  return JSON.stringify(old.operation ?? null) !== JSON.stringify(app.operation ?? null);
}

/** Render settings from the frozen config, built once per process. */
function renderOptions(config: Config, credentials: (url: string) => { username?: string; password?: string } | undefined): Readonly<RenderOptions> {
  const cacheDir = join(config.cacheDir, "render");
  return Object.freeze({
    helmBinary: config.helmBinary,
    kustomizeBinary: config.kustomizeBinary,
    kustomizeBuildWith: config.kustomizeBuildWith,
    kustomizeBuildOptions: config.kustomizeBuildOptions,
    allowRemoteBases: config.kustomizeAllowRemoteBases,
    timeoutMs: config.renderTimeoutSeconds * 1000,
    cacheDir,
    helmRepositories: new HelmRepositories({
      cacheDir: join(cacheDir, "charts"),
      credentials: (url) => {
        const found = credentials(url);
        return found?.username && found.password ? { username: found.username, password: found.password } : undefined;
      },
    }),
  });
}

/** Whether a push changed files under the app's path; undefined when the payload lists no files. */
function touches(push: Push, path: string | undefined): boolean | undefined {
  if (!push.changedFiles) return undefined;
  const prefix = (path ?? "").replace(/^\.?\/+|\/+$/g, "");
  return prefix === "" || push.changedFiles.some((f) => f === prefix || f.startsWith(`${prefix}/`));
}

interface PushGroup {
  repoURL: string;
  revision: string;
  /** app key → its path, the revision it last compared with, and whether the payload says it changed. */
  apps: Map<string, { path: string; deployed: string | undefined; touched: boolean | undefined }>;
}
