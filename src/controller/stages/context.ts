// What every stage of one reconcile shares: the dependencies, the Application as read, its memory, the status as
// stored (replaced after each write of ours), the Events to record and the secrets to redact once it is over.
// Stages take the context and return their output, or throw a typed error (src/errors.ts); the reconciler turns
// that error into a condition, an Event, a log line and a requeue (docs/architecture.md).
import type { Logger } from "pino";
import type { Application, ApplicationStatus, AppRef } from "../../api/index.ts";
import type { ClusterWriter, Informer, ObjectStore } from "../../cluster/index.ts";
import type { Config } from "../../config.ts";
import { TackError } from "../../errors.ts";
import type { RepoCache } from "../../git/index.ts";
import type { CustomHealthRules } from "../../health/index.ts";
import type { JqEvaluator } from "../../jq/index.ts";
import type { Metrics } from "../../metrics/index.ts";
import type { RenderCache, RenderOptions } from "../../render/index.ts";
import type { AppMemory } from "../app-memory.ts";
import type { ClusterRegistry } from "../clusters.ts";
import type { EventReason, EventRecorder } from "../events.ts";
import type { OwnWrites } from "../own-writes.ts";

export interface ReconcilerDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Destination clusters: discovery, live cache, writer, ownership and comparisons of each. */
  clusters: ClusterRegistry;
  /** Writes to Applications, AppProjects and Events, in the cluster Tack runs in. */
  writer: ClusterWriter;
  repos: RepoCache;
  events: EventRecorder;
  applications: ObjectStore;
  projects: ObjectStore;
  repoSecrets: Informer;
  healthRules: () => CustomHealthRules | undefined;
  /** Evaluates ignoreDifferences' jqPathExpressions, bounded in time and memory. */
  jq: JqEvaluator;
  renderCache: RenderCache;
  renderOptions: Readonly<RenderOptions>;
  resyncDelayMs: () => number;
  signal: AbortSignal;
  now?: () => Date;
}

export type PendingEvent = [type: "Normal" | "Warning", reason: EventReason, message: string];

export interface ReconcileContext {
  readonly deps: ReconcilerDeps;
  readonly key: string;
  readonly ref: AppRef;
  /** The Application as the informer holds it (never mutated). */
  readonly app: Application;
  readonly log: Logger;
  readonly memory: AppMemory;
  readonly ownWrites: OwnWrites;
  /** The status as stored: replaced after each of our own writes, so later stages build on it. */
  previous: ApplicationStatus;
  /** Events recorded once the reconcile is over (redacted then). */
  readonly events: PendingEvent[];
  /** Credential values to redact from every message this reconcile produces. */
  readonly secrets: string[];
  /** Asks for the next reconcile no later than `ms` from now (the earliest request wins). */
  requeue(ms: number): void;
  now(): Date;
}

export type StageName = "spec" | "project" | "source" | "compare" | "operate" | "status" | "finalize";

/** Runs one stage; a typed error it throws is marked with the stage's name, for the log line that reports it. */
export async function stage<T>(name: StageName, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof TackError && err.stage === undefined) err.stage = name;
    throw err;
  }
}
