// Tack's Prometheus metrics, on a registry of its own (never prom-client's global one), passed down
// explicitly. Label names follow Argo CD's so that dashboards and alert rules port with a prefix change.
// Series of an app are removed when the app is deleted; labels carry app identity and bounded enums only.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface AppInfo {
  namespace: string;
  name: string;
  project: string;
  repo: string;
  destServer: string;
  destNamespace: string;
  syncStatus: string;
  healthStatus: string;
  autosyncEnabled: boolean;
  operation: string;
}

type AppKey = `${string}/${string}`;

export class Metrics {
  readonly registry = new Registry();
  readonly #appInfo: Gauge;
  readonly #reconcileDuration: Histogram;
  readonly #k8sRequests: Counter;
  readonly #gitRequests: Counter;
  readonly #gitDuration: Histogram;
  readonly #syncTotal: Counter;
  readonly #queueDepth: Gauge;
  readonly #queueWait: Histogram;
  readonly #cacheObjects: Gauge;
  readonly #clusterConnection: Gauge;
  readonly #lastSync: Gauge;
  readonly #outOfSyncSince: Gauge;
  readonly #renderDuration: Histogram;
  readonly #renderCache: Counter;
  /** The label set last written per app, so a change removes the old series instead of leaving it behind. */
  readonly #lastInfo = new Map<AppKey, Record<string, string>>();

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.#appInfo = new Gauge({ name: "tack_app_info", help: "Information about an Application; 1 per app.", registers,
      labelNames: ["namespace", "name", "project", "repo", "dest_server", "dest_namespace", "sync_status", "health_status", "autosync_enabled", "operation"] });
    this.#reconcileDuration = new Histogram({ name: "tack_app_reconcile_duration_seconds", help: "Time to reconcile one Application.", registers,
      labelNames: ["namespace", "name"], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    this.#k8sRequests = new Counter({ name: "tack_app_k8s_request_total", help: "Requests to the Kubernetes API server.", registers,
      labelNames: ["verb", "resource_kind", "response_code"] });
    this.#gitRequests = new Counter({ name: "tack_git_request_total", help: "Git requests (ls-remote, fetch, checkout).", registers,
      labelNames: ["repo", "request_type", "result"] });
    this.#gitDuration = new Histogram({ name: "tack_git_request_duration_seconds", help: "Duration of Git requests.", registers,
      labelNames: ["repo", "request_type"], buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
    this.#syncTotal = new Counter({ name: "tack_app_sync_total", help: "Sync operations by final phase.", registers,
      labelNames: ["namespace", "name", "project", "dest_server", "phase"] });
    this.#queueDepth = new Gauge({ name: "tack_workqueue_depth", help: "Applications waiting in the work queue.", registers });
    this.#queueWait = new Histogram({ name: "tack_workqueue_wait_seconds", help: "Time an Application waited in the queue.", registers,
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 30, 120] });
    this.#cacheObjects = new Gauge({ name: "tack_cluster_cache_objects", help: "Objects held in the watch-fed live cache.", registers,
      labelNames: ["server"] });
    this.#clusterConnection = new Gauge({ name: "tack_cluster_connection_status", help: "1 while the destination cluster's watches are healthy, 0 while it is unreachable.", registers,
      labelNames: ["server"] });
    this.#lastSync = new Gauge({ name: "tack_app_last_sync_timestamp_seconds", help: "When the app's last sync finished (Unix seconds).", registers,
      labelNames: ["namespace", "name", "phase"] });
    this.#outOfSyncSince = new Gauge({ name: "tack_app_out_of_sync_since_timestamp_seconds", help: "Since when the app has been OutOfSync (Unix seconds); absent while Synced.", registers,
      labelNames: ["namespace", "name"] });
    this.#renderDuration = new Histogram({ name: "tack_render_duration_seconds", help: "Time to render an app's manifests (cache misses only).", registers,
      labelNames: ["source_type"], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30] });
    this.#renderCache = new Counter({ name: "tack_render_cache_requests_total", help: "Render cache lookups by result (hit or miss).", registers,
      labelNames: ["result"] });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "tack_" });
  }

  setAppInfo(info: AppInfo): void {
    const key: AppKey = `${info.namespace}/${info.name}`;
    const labels = {
      namespace: info.namespace, name: info.name, project: info.project, repo: info.repo, dest_server: info.destServer,
      dest_namespace: info.destNamespace, sync_status: info.syncStatus, health_status: info.healthStatus,
      autosync_enabled: String(info.autosyncEnabled), operation: info.operation,
    };
    const previous = this.#lastInfo.get(key);
    if (previous && !sameLabels(previous, labels)) this.#appInfo.remove(previous);
    this.#appInfo.set(labels, 1);
    this.#lastInfo.set(key, labels);
  }

  /** Drops every series of a deleted Application. */
  removeApp(namespace: string, name: string): void {
    const key: AppKey = `${namespace}/${name}`;
    const previous = this.#lastInfo.get(key);
    if (previous) this.#appInfo.remove(previous);
    this.#lastInfo.delete(key);
    this.#reconcileDuration.remove({ namespace, name });
    this.#outOfSyncSince.remove({ namespace, name });
    for (const phase of ["Succeeded", "Failed", "Error"]) this.#lastSync.remove({ namespace, name, phase });
    for (const phase of ["Succeeded", "Failed", "Error"]) {
      this.#syncTotal.remove({ namespace, name, project: previous?.project ?? "", dest_server: previous?.dest_server ?? "", phase });
    }
  }

  observeReconcile(namespace: string, name: string, seconds: number): void {
    this.#reconcileDuration.observe({ namespace, name }, seconds);
  }

  countSync(labels: { namespace: string; name: string; project: string; destServer: string; phase: string }): void {
    this.#syncTotal.inc({ namespace: labels.namespace, name: labels.name, project: labels.project, dest_server: labels.destServer, phase: labels.phase });
  }

  countK8sRequest(verb: string, resource: string, code: number): void {
    this.#k8sRequests.inc({ verb, resource_kind: resource, response_code: String(code) });
  }

  observeGit(repo: string, type: string, ok: boolean, seconds: number): void {
    this.#gitRequests.inc({ repo, request_type: type, result: ok ? "ok" : "error" });
    this.#gitDuration.observe({ repo, request_type: type }, seconds);
  }

  /** Records the finish time of a sync; only the latest phase's series is kept. */
  setLastSync(namespace: string, name: string, phase: string, finishedAt: Date): void {
    for (const other of ["Succeeded", "Failed", "Error"]) if (other !== phase) this.#lastSync.remove({ namespace, name, phase: other });
    this.#lastSync.set({ namespace, name, phase }, finishedAt.getTime() / 1000);
  }

  /** Since when the app is OutOfSync; undefined removes the series (the app is Synced or Unknown). */
  setOutOfSyncSince(namespace: string, name: string, since: Date | undefined): void {
    if (since) this.#outOfSyncSince.set({ namespace, name }, since.getTime() / 1000);
    else this.#outOfSyncSince.remove({ namespace, name });
  }

  observeRender(sourceType: string, seconds: number): void { this.#renderDuration.observe({ source_type: sourceType }, seconds); }
  countRenderCache(hit: boolean): void { this.#renderCache.inc({ result: hit ? "hit" : "miss" }); }

  setQueueDepth(depth: number): void { this.#queueDepth.set(depth); }
  observeQueueWait(seconds: number): void { this.#queueWait.observe(seconds); }
  setCacheObjects(server: string, count: number): void { this.#cacheObjects.set({ server }, count); }
  setClusterConnection(server: string, reachable: boolean): void { this.#clusterConnection.set({ server }, reachable ? 1 : 0); }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  return Object.keys(a).every((k) => a[k] === b[k]);
}
