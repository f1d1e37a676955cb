// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics (tools/leaderelection):
//
// - A candidate GETs the Lease every retryPeriod (plus up to 20 % jitter). It takes the Lease when it does
//   not exist (create), when it has no holder, when we already hold it, or when it has expired. Expiry is
//   judged on *our* clock: the record must have stayed unchanged (holder and renewTime) for leaseDuration
//   since we first observed it, so clock skew between replicas does not matter.
// - Every write carries the resourceVersion we read (optimistic concurrency): of two candidates racing for
//   an expired Lease, one gets 409 Conflict and stays a candidate.
// - The leader renews every retryPeriod. It stops leading — its `signal` aborts and onStoppedLeading runs —
//   the moment (a) a renewal finds another holder in the Lease, or (b) no renewal has succeeded for
//   renewDeadline (a timer, so a hung request cannot delay it). renewDeadline < leaseDuration, so a
//   leader cut off from the API server stops writing before any standby may take over.
// - stop() ends the loops and, when leading, releases the Lease (empty holder, leaseDurationSeconds 1), so a
//   standby takes over at its next retry instead of waiting out the lease.
// After losing leadership the elector becomes a candidate again; a process that prefers client-go's
// "exit on loss" calls stop() (and exits) from onStoppedLeading.
import type { Logger } from "pino";
import { KubeApiError, type KubeClient } from "./kube-client.ts";

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  /** Unique per replica: the Pod name, plus something random if it may repeat. */
  identity: string;
  /** How long a standby waits, from when it saw the Lease last change, before taking it. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps leading without a successful renewal. Default 10 s. */
  renewDeadlineMs?: number;
  /** How often candidates try to acquire and the leader renews. Default 2 s. */
  retryPeriodMs?: number;
  /** Called when this replica becomes leader; `signal` aborts when it stops being leader. */
  onStartedLeading?: (signal: AbortSignal) => void;
  /** Called when this replica stops leading (lost, stolen, renewal deadline passed, or stop()). */
  onStoppedLeading?: (reason: string) => void;
  logger?: Pick<Logger, "info" | "warn" | "debug">;
}

interface LeaseObject {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string; [k: string]: unknown };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
  };
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #opts: Required<Omit<LeaderElectorOptions, "onStartedLeading" | "onStoppedLeading" | "logger">> & LeaderElectorOptions;
  readonly #path: string;
  #running = false;
  #term: AbortController = abortedController();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #stopController = new AbortController();
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** The last record we saw (holder + renewTime) and when, on our clock. */
  #observed: { key: string; at: number } | undefined;
  #lastLease: LeaseObject | undefined;

  constructor(client: KubeClient, options: LeaderElectorOptions) {
    const opts = {
      leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options,
    };
    if (!opts.identity) throw new Error("leader election needs a non-empty identity");
    if (opts.renewDeadlineMs >= opts.leaseDurationMs) throw new Error("leader election: renewDeadline must be shorter than leaseDuration");
    if (opts.retryPeriodMs * 1.2 >= opts.renewDeadlineMs) throw new Error("leader election: retryPeriod × 1.2 must be shorter than renewDeadline");
    this.#client = client;
    this.#opts = opts;
    this.#path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases/${encodeURIComponent(opts.name)}`;
  }

  /** Aborted whenever this replica is not the leader; a fresh, live signal for each term of leadership. */
  get signal(): AbortSignal { return this.#term.signal; }

  isLeader(): boolean { return !this.#term.signal.aborted; }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopController = new AbortController();
    this.#loop = this.#run();
  }

  /**
   * Stops campaigning and renewing. When leading, leadership ends at once and the Lease is released unless
   * `release: false` (which tests use to simulate a replica that died).
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopController.abort();
    this.#wake?.();
    await this.#loop;
    const wasLeader = this.isLeader();
    if (wasLeader) this.#lose("stopped");
    if (wasLeader && options.release !== false) await this.#release();
  }

  async #run(): Promise<void> {
    const log = this.#opts.logger;
    while (this.#running) {
      let ok = false;
      try {
        ok = await this.#tryAcquireOrRenew();
      } catch (err) {
        if (!this.#running) break;
        log?.warn({ err, lease: `${this.#opts.namespace}/${this.#opts.name}` }, this.isLeader() ? "lease renewal failed" : "lease acquisition failed");
      }
      if (!this.#running) break;
      if (ok) {
        this.#armDeadline();
        if (!this.isLeader()) this.#gain();
      } else if (this.isLeader() && this.#lastLease?.spec?.holderIdentity && this.#lastLease.spec.holderIdentity !== this.#opts.identity) {
        this.#lose(`lease taken by ${this.#lastLease.spec.holderIdentity}`);
      }
      const jitter = this.isLeader() ? 1 : 1 + Math.random() * 0.2;
      await this.#sleep(this.#opts.retryPeriodMs * jitter);
    }
  }

  /** One client-go tryAcquireOrRenew: true when we hold the Lease afterwards. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const signal = this.#stopController.signal;
    const timeoutMs = Math.max(1_000, Math.min(this.#opts.retryPeriodMs * 2, this.#opts.renewDeadlineMs / 2));
    const desiredSpec = (old?: LeaseObject["spec"]) => {
      const heldByUs = old?.holderIdentity === this.#opts.identity;
      return {
        holderIdentity: this.#opts.identity,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.#opts.leaseDurationMs / 1000)),
        acquireTime: heldByUs && old?.acquireTime ? old.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: heldByUs ? old?.leaseTransitions ?? 0 : (old?.leaseTransitions ?? -1) + 1,
      };
    };

    let lease: LeaseObject;
    try {
      lease = await this.#client.request<LeaseObject>({ method: "GET", path: this.#path, timeoutMs, signal });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
      const created = await this.#client.request<LeaseObject>({
        method: "POST", path: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#opts.namespace)}/leases`,
        timeoutMs, signal,
        body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: this.#opts.name, namespace: this.#opts.namespace }, spec: desiredSpec() },
      }).catch((e: unknown) => { if (e instanceof KubeApiError && e.status === 409) return undefined; throw e; });
      if (!created) return false;
      this.#observe(created);
      return true;
    }

    this.#observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    // Expired: unchanged for its duration since we first saw it (our clock). A released Lease (no holder) is free.
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.#opts.leaseDurationMs / 1000)) * 1000;
    const expired = this.#observed !== undefined && this.#observed.at + durationMs <= now;
    if (holder !== "" && holder !== this.#opts.identity && !expired) return false;

    try {
      const updated = await this.#client.request<LeaseObject>({
        method: "PUT", path: this.#path, timeoutMs, signal,
        body: { ...lease, metadata: { ...lease.metadata, resourceVersion: lease.metadata.resourceVersion }, spec: { ...spec, ...desiredSpec(spec) } },
      });
      this.#observe(updated);
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.isConflict) return false;   // someone wrote first: read again next time
      throw err;
    }
  }

  #observe(lease: LeaseObject): void {
    this.#lastLease = lease;
    const key = `${lease.spec?.holderIdentity ?? ""}\u0000${lease.spec?.renewTime ?? ""}`;
    if (this.#observed?.key !== key) this.#observed = { key, at: Date.now() };
  }

  #gain(): void {
    this.#term = new AbortController();
    const log = this.#opts.logger;
    log?.info({ identity: this.#opts.identity, lease: `${this.#opts.namespace}/${this.#opts.name}` }, "became leader");
    try {
      this.#opts.onStartedLeading?.(this.#term.signal);
    } catch (err) {
      log?.warn({ err }, "onStartedLeading failed");
    }
  }

  #lose(reason: string): void {
    if (this.#deadlineTimer) { clearTimeout(this.#deadlineTimer); this.#deadlineTimer = undefined; }
    if (this.#term.signal.aborted) return;
    this.#term.abort(new Error(`leadership lost: ${reason}`));
    const log = this.#opts.logger;
    // Stepping down on shutdown is routine; anything else is worth a warning.
    log?.[reason === "stopped" ? "info" : "warn"]({ identity: this.#opts.identity, reason, lease: `${this.#opts.namespace}/${this.#opts.name}` }, "stopped leading");
    try {
      this.#opts.onStoppedLeading?.(reason);
    } catch (err) {
      log?.warn({ err }, "onStoppedLeading failed");
    }
  }

  /** After each successful acquire/renew: leadership ends renewDeadline later unless renewed again. */
  #armDeadline(): void {
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = setTimeout(() => {
      this.#deadlineTimer = undefined;
      this.#lose(`no successful renewal for ${this.#opts.renewDeadlineMs} ms`);
    }, this.#opts.renewDeadlineMs);
    this.#deadlineTimer.unref?.();
  }

  async #release(): Promise<void> {
    try {
      const lease = await this.#client.request<LeaseObject>({ method: "GET", path: this.#path, timeoutMs: 2_000 });
      if (lease.spec?.holderIdentity !== this.#opts.identity) return;
      const now = microTime(Date.now());
      await this.#client.request({
        method: "PUT", path: this.#path, timeoutMs: 2_000,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } },
      });
      this.#opts.logger?.info({ identity: this.#opts.identity }, "released the lease");
    } catch (err) {
      this.#opts.logger?.warn({ err }, "releasing the lease failed; standbys take over when it expires");
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#wake = undefined; resolve(); }, ms);
      this.#wake = () => { clearTimeout(timer); this.#wake = undefined; resolve(); };
    });
  }
}

function abortedController(): AbortController {
  const c = new AbortController();
  c.abort(new Error("not the leader"));
  return c;
}
