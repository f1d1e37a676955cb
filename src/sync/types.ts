// The engine's inputs and outputs. The controller builds an EngineRequest from its comparison and the
// operation recorded in status, and writes the outcome's results back there; everything the engine touches in
// the cluster goes through the request's writer, discovery and live-state lookup, so tests give it fakes.
import type { Logger } from "pino";
import type { AppRef, KubeObject, ResourceKey, ResourceResult } from "../api/index.ts";
import type { ClusterWriter, Discovery, ResourceType } from "../cluster/index.ts";
import type { ResourceIgnoreDifferences } from "../diff/ignore.ts";
import type { HealthStatus } from "../health/index.ts";
import type { JqEvaluator } from "../jq/index.ts";
import type { HookSpec } from "./plan.ts";
import type { ChangeSet, HookDeletionFailure } from "./results.ts";

/** One object of the app as the comparison found it. */
export interface SyncItem {
  key: ResourceKey;
  type: ResourceType;
  desired: KubeObject | undefined;
  live: KubeObject | undefined;
  inSync: boolean;
  requiresPruning: boolean;
  message?: string;
}

export interface HookItem {
  /** group/kind/namespace/name-or-generateName of the manifest: a hook's identity across reconciles. */
  id: string;
  key: ResourceKey;
  type: ResourceType;
  desired: KubeObject;
  spec: HookSpec;
}

export interface EngineRequest<T extends SyncItem> {
  app: AppRef;
  items: T[];
  hooks: HookItem[];
  /** Results recorded so far in this operation (empty on its first call). */
  results: ResourceResult[];
  /**
   * The operation's message as the previous call left it in status. Only read to resume a failed sync whose
   * SyncFail hooks are still running: their phase carries the original failure in it.
   */
  message?: string | undefined;
  prune: boolean;
  dryRun: boolean;
  allowEmpty: boolean;
  emptyRender: boolean;
  /** App-wide and operation sync options together. */
  syncOptions: string[];
  destinationNamespace: string | undefined;
  managedNamespaceMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Largest share of the app's objects one sync may prune without AllowMassPrune=true (0–100). */
  pruneGuardPercent: number;
  now: number;
  deadline: number;
  health: (obj: KubeObject) => HealthStatus | undefined;
  live: (type: ResourceType, namespace: string, name: string) => KubeObject | undefined;
  writer: ClusterWriter;
  discovery: Discovery;
  onApplied?: (key: ResourceKey, desired: KubeObject, applied: KubeObject) => void;
  /** spec.ignoreDifferences: with RespectIgnoreDifferences=true, ignored fields keep their live values. */
  ignore?: { rules: ResourceIgnoreDifferences[]; jq: JqEvaluator };
  signal: AbortSignal;
  logger: Logger;
  applyConcurrency?: number;
}

export type EnginePhase = "Running" | "Succeeded" | "Failed";

export interface EngineOutcome<T extends SyncItem> {
  phase: EnginePhase;
  message: string;
  /** Every record of the operation so far: what status.operationState.syncResult.resources holds next. */
  results: ResourceResult[];
  /** The same records grouped by what happened: what Events and summaries are made of. */
  changes: ChangeSet;
  /** Hook objects this call was to delete (by their delete policy) and could not: the controller reports them. */
  hookDeletionFailures: HookDeletionFailure[];
  /** The comparisons as they stand now (applied objects in sync, pruned ones gone). */
  after: T[];
  requeueAfterMs?: number;
}

/** What one step (a phase and wave) applies, prunes and runs. */
export interface StepItems<T> { applies: T[]; prunes: T[]; hooks: HookItem[] }
