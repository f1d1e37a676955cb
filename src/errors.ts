// Typed errors. Each carries the condition reason it becomes on the Application and whether retrying can
// help; the controller turns them into a condition, an Event, a log line and a requeue. Messages name the
// object and the cause, and never carry credentials (see redact.ts).

export const ConditionType = {
  ComparisonError: "ComparisonError",
  InvalidSpecError: "InvalidSpecError",
  SyncError: "SyncError",
  SharedResourceWarning: "SharedResourceWarning",
  /** Cascade deletion of the Application's objects failed (Argo CD's name). */
  DeletionError: "DeletionError",
  Ready: "Ready",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Machine-readable causes, used as condition reasons and as the `reason` label of error metrics. */
export const ErrorReason = {
  InvalidSpec: "InvalidSpec",
  ProjectNotFound: "ProjectNotFound",
  ProjectPolicyViolation: "ProjectPolicyViolation",
  /** An object lies outside the namespaces (or cluster scope) Tack may manage on its destination cluster. */
  OutsideManagedScope: "OutsideManagedScope",
  RepositoryUnreachable: "RepositoryUnreachable",
  RepositoryAuthFailed: "RepositoryAuthFailed",
  RevisionNotFound: "RevisionNotFound",
  GitError: "GitError",
  PathNotFound: "PathNotFound",
  ManifestInvalid: "ManifestInvalid",
  /** A symlink (or a path through one) points outside the repository: refused, never followed or skipped. */
  PathEscapesRepository: "PathEscapesRepository",
  ManifestTooLarge: "ManifestTooLarge",
  RenderError: "RenderError",
  /** A render tool (helm, kustomize, kubectl) is not installed where configured or on PATH. */
  ToolNotFound: "ToolNotFound",
  /** A render outlasted its time limit. */
  RenderTimeout: "RenderTimeout",
  /** A kustomization refers to a base outside the repository (remote bases are refused unless allowed). */
  RemoteBaseRefused: "RemoteBaseRefused",
  ClusterError: "ClusterError",
  /** Not a failure Tack knows (a bug, such as a RangeError): retried with backoff, its stack logged once. */
  InternalError: "InternalError",
  UnknownResourceType: "UnknownResourceType",
  SyncFailed: "SyncFailed",
  /** A hook's delete policy could not be carried out: the API server refused the delete; the object stays. */
  HookDeletionFailed: "HookDeletionFailed",
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

export abstract class TackError extends Error {
  /** The condition type this error is reported under. */
  abstract readonly conditionType: ConditionType;
  /** Why, in one word: the condition's reason. */
  abstract readonly reason: ErrorReason;
  /** true: retrying with the same spec and revision cannot help; wait for a change. */
  readonly terminal: boolean = false;
  /** The reconcile stage that failed (src/controller/stages), set when the error leaves it. */
  stage?: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Something stopped Tack from knowing the desired or the live state: comparison is Unknown, nothing is pruned. */
export class ComparisonError extends TackError {
  readonly conditionType = ConditionType.ComparisonError;
  readonly reason: ErrorReason;
  override readonly terminal: boolean;
  constructor(reason: ErrorReason, message: string, options?: { cause?: unknown; terminal?: boolean }) {
    super(message, options);
    this.reason = reason;
    this.terminal = options?.terminal ?? false;
  }
}

export class InvalidSpecError extends TackError {
  readonly conditionType = ConditionType.InvalidSpecError;
  readonly reason: ErrorReason;
  override readonly terminal = true;
  constructor(message: string, reason: ErrorReason = ErrorReason.InvalidSpec) {
    super(message);
    this.reason = reason;
  }
}

/**
 * An error no stage classified: a bug rather than a cluster or Git failure. Retrying may help (a transient state
 * that tripped it), so it backs off like any other non-terminal error; the comparison is Unknown meanwhile.
 */
export class InternalError extends TackError {
  readonly conditionType = ConditionType.ComparisonError;
  readonly reason = ErrorReason.InternalError;
}

export class SyncError extends TackError {
  readonly conditionType = ConditionType.SyncError;
  readonly reason = ErrorReason.SyncFailed;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
