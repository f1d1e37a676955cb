// Kubernetes Events on the Application. A repeat of the same reason and message within the dedupe window
// bumps the existing Event's count instead of creating another, so a flapping app does not flood the
// namespace.
import type { Logger } from "pino";
import type { ClusterWriter } from "../cluster/index.ts";
import type { Application } from "../api/index.ts";
import { APPLICATION_API_VERSION } from "../api/index.ts";

export type EventType = "Normal" | "Warning";

export const EventReason = {
  SyncStarted: "SyncStarted",
  SyncSucceeded: "SyncSucceeded",
  SyncFailed: "SyncFailed",
  OutOfSync: "OutOfSync",
  Synced: "Synced",
  Pruned: "Pruned",
  ComparisonError: "ComparisonError",
  InvalidSpec: "InvalidSpec",
  HealthDegraded: "HealthDegraded",
  HealthRecovered: "HealthRecovered",
  SyncWindowClosed: "SyncWindowClosed",
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

const DEDUPE_WINDOW_MS = 10 * 60_000;
const MAX_MESSAGE = 1024;

export class EventRecorder {
  readonly #writer: ClusterWriter;
  readonly #logger: Logger;
  readonly #recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();

  constructor(writer: ClusterWriter, logger: Logger) {
    this.#writer = writer;
    this.#logger = logger;
  }

  /** Never throws: an Event that cannot be written is logged, and the reconcile goes on. */
  async record(app: Application, type: EventType, reason: EventReason, message: string): Promise<void> {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
    const dedupeKey = `${app.metadata.namespace}/${app.metadata.name}/${reason}/${text}`;
    const now = Date.now();
    const timestamp = new Date(now).toISOString();
    const recent = this.#recent.get(dedupeKey);
    try {
      if (recent && now - recent.at < DEDUPE_WINDOW_MS) {
        recent.count++;
        recent.at = now;
        await this.#writer.patchEvent(recent.namespace, recent.name, { count: recent.count, lastTimestamp: timestamp });
        return;
      }
      const name = `${app.metadata.name}.${now.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
      await this.#writer.createEvent({
        apiVersion: "v1", kind: "Event",
        metadata: { name, namespace: app.metadata.namespace },
        involvedObject: { apiVersion: APPLICATION_API_VERSION, kind: "Application", name: app.metadata.name,
          namespace: app.metadata.namespace, uid: app.metadata.uid, resourceVersion: app.metadata.resourceVersion },
        reason, message: text, type, count: 1, firstTimestamp: timestamp, lastTimestamp: timestamp,
        source: { component: "tack-controller" }, reportingComponent: "tack.dev/controller", reportingInstance: "tack-controller",
      });
      this.#recent.set(dedupeKey, { name, namespace: app.metadata.namespace, count: 1, at: now });
      this.#prune(now);
    } catch (err) {
      this.#recent.delete(dedupeKey);
      this.#logger.warn({ err, reason, application: `${app.metadata.namespace}/${app.metadata.name}` }, "could not record Event");
    }
  }

  #prune(now: number): void {
    if (this.#recent.size < 1000) return;
    for (const [key, entry] of this.#recent) if (now - entry.at >= DEDUPE_WINDOW_MS) this.#recent.delete(key);
  }
}
