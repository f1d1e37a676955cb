// Kubernetes Events on the Application. A repeat of the same reason and message within the dedupe window
// bumps the existing Event's count instead of creating another, so a flapping app does not flood the
// namespace; the writes happen in the background, off the reconcile's path.
import type { Logger } from "pino";
import type { ClusterWriter } from "../cluster/index.ts";
import type { Application, KubeObject } from "../api/index.ts";
import { APPLICATION_API_VERSION } from "../api/index.ts";

export type EventType = "Normal" | "Warning";

export const EventReason = {
  SyncStarted: "SyncStarted",
  SyncSucceeded: "SyncSucceeded",
  SyncFailed: "SyncFailed",
  OutOfSync: "OutOfSync",
  Pruned: "Pruned",
  ComparisonError: "ComparisonError",
  InvalidSpec: "InvalidSpec",
  HealthDegraded: "HealthDegraded",
  HealthRecovered: "HealthRecovered",
  SyncWindowClosed: "SyncWindowClosed",
  /** Cascade deletion of an Application's objects failed (retried; the DeletionError condition says why). */
  DeletionFailed: "DeletionFailed",
  PostDeleteHookFailed: "PostDeleteHookFailed",
  HookDeletionFailed: "HookDeletionFailed",
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

const DEDUPE_WINDOW_MS = 10 * 60_000;
const MAX_MESSAGE = 1024;
/** Event writes in flight at once: Events never compete with syncs for the API server. */
const SEND_CONCURRENCY = 2;
/** Distinct Events waiting to be written; past this, new ones are dropped (and logged), as client-go's broadcaster does. */
const MAX_QUEUED = 2_000;

interface RecentEvent {
  name: string;
  namespace: string;
  count: number;
  /** The count the API server holds (0 until the create is done). */
  written: number;
  firstTimestamp: string;
  lastTimestamp: string;
  at: number;
  body: KubeObject;
}

/**
 * Records Events without making the reconcile wait for them: `record` queues, a small sender writes. A repeat of an
 * Event not yet written, or written and repeated several times while the sender was busy, becomes one write that
 * carries the latest count, so a burst of self-heals does not turn into a burst of Event requests.
 */
export class EventRecorder {
  readonly #writer: ClusterWriter;
  readonly #logger: Logger;
  readonly #recent = new Map<string, RecentEvent>();
  readonly #queue = new Set<string>();
  readonly #sending = new Set<string>();
  #idle: Array<() => void> = [];
  #dropped = 0;

  constructor(writer: ClusterWriter, logger: Logger) {
    this.#writer = writer;
    this.#logger = logger;
  }

  /** Never throws and never waits for the API server: an Event that cannot be written is logged. */
  record(app: Application, type: EventType, reason: EventReason, message: string): void {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
    const dedupeKey = `${app.metadata.namespace}/${app.metadata.name}/${reason}/${text}`;
    const now = Date.now();
    const timestamp = new Date(now).toISOString();
    const recent = this.#recent.get(dedupeKey);
    if (recent && now - recent.at < DEDUPE_WINDOW_MS) {
      recent.count++;
      recent.at = now;
      recent.lastTimestamp = timestamp;
    } else {
      if (this.#queue.size >= MAX_QUEUED) {
        if (this.#dropped++ % 100 === 0) this.#logger.warn({ reason, dropped: this.#dropped }, "Event queue full: Events dropped");
        return;
      }
      const name = `${app.metadata.name}.${now.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
      this.#recent.set(dedupeKey, {
        name, namespace: app.metadata.namespace, count: 1, written: 0, firstTimestamp: timestamp, lastTimestamp: timestamp, at: now,
        body: {
          apiVersion: "v1", kind: "Event",
          metadata: { name, namespace: app.metadata.namespace },
          involvedObject: { apiVersion: APPLICATION_API_VERSION, kind: "Application", name: app.metadata.name,
            namespace: app.metadata.namespace, uid: app.metadata.uid, resourceVersion: app.metadata.resourceVersion },
          reason, message: text, type,
          source: { component: "tack-controller" }, reportingComponent: "tack.dev/controller", reportingInstance: "tack-controller",
        },
      });
      this.#prune(now);
    }
    this.#queue.add(dedupeKey);
    this.#pump();
  }

  /** Resolves when every queued Event has been written (or has failed), for shutdown and tests. */
  async flush(): Promise<void> {
    if (this.#queue.size === 0 && this.#sending.size === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    for (const key of this.#queue) {
      if (this.#sending.size >= SEND_CONCURRENCY) break;
      if (this.#sending.has(key)) continue;   // its write in flight; the repeat goes out after it
      this.#queue.delete(key);
      const entry = this.#recent.get(key);
      if (!entry) continue;
      this.#sending.add(key);
      this.#send(key, entry).finally(() => {
        this.#sending.delete(key);
        this.#pump();
        if (this.#queue.size === 0 && this.#sending.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  async #send(key: string, entry: RecentEvent): Promise<void> {
    const count = entry.count;
    try {
      if (entry.written === 0) {
        await this.#writer.createEvent({ ...entry.body, count, firstTimestamp: entry.firstTimestamp, lastTimestamp: entry.lastTimestamp });
      } else if (count > entry.written) {
        await this.#writer.patchEvent(entry.namespace, entry.name, { count, lastTimestamp: entry.lastTimestamp });
      }
      entry.written = count;
    } catch (err) {
      // Forget it, so that the next occurrence creates a fresh Event instead of patching one that may not exist.
      if (this.#recent.get(key) === entry) this.#recent.delete(key);
      const reason = (entry.body as { reason?: string }).reason;
      this.#logger.warn({ err, reason, event: `${entry.namespace}/${entry.name}` }, "could not record Event");
    }
  }

  #prune(now: number): void {
    if (this.#recent.size < 1000) return;
    for (const [key, entry] of this.#recent) if (now - entry.at >= DEDUPE_WINDOW_MS && !this.#queue.has(key)) this.#recent.delete(key);
  }
}
