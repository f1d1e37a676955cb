// The Application resource, written once in zod: the controller parses specs with it, and the CRD's OpenAPI
// schema in crds/ is generated from it (scripts/gen-crds.ts). Field names and meanings follow Argo CD's
// Application so that a manifest migrates by changing apiVersion.
import { z } from "zod";

export const API_GROUP = "tack.dev";
export const API_VERSION = "v1alpha1";
export const APPLICATION_API_VERSION = `${API_GROUP}/${API_VERSION}`;

/** Free-form YAML kept as written (Helm valuesObject, unsupported Argo fields we must not silently drop). */
const preserved = () => z.record(z.string(), z.unknown()).meta({ "x-kubernetes-preserve-unknown-fields": true });

export const DirectorySourceSchema = z.object({
  recurse: z.boolean().optional().describe("Read manifests from subdirectories too."),
  include: z.string().optional().describe("Glob (braces allowed) of files to read, relative to the path, e.g. '{*.yaml,*.json}'."),
  exclude: z.string().optional().describe("Glob of files to skip, relative to the path."),
  jsonnet: preserved().optional().describe("Not supported by Tack; refused with InvalidSpecError when set."),
});

const HelmParameterSchema = z.object({
  name: z.string().min(1),
  value: z.string(),
  forceString: z.boolean().optional(),
});

export const HelmSourceSchema = z.object({
  releaseName: z.string().optional(),
  valueFiles: z.array(z.string()).optional(),
  values: z.string().optional(),
  valuesObject: preserved().optional(),
  parameters: z.array(HelmParameterSchema).optional(),
  skipCrds: z.boolean().optional(),
  passCredentials: z.boolean().optional(),
  ignoreMissingValueFiles: z.boolean().optional(),
  namespace: z.string().optional(),
  version: z.string().optional(),
});

export const KustomizeSourceSchema = z.object({
  namePrefix: z.string().optional(),
  nameSuffix: z.string().optional(),
  images: z.array(z.string()).optional(),
  commonLabels: z.record(z.string(), z.string()).optional(),
  commonAnnotations: z.record(z.string(), z.string()).optional(),
  namespace: z.string().optional(),
  replicas: z.array(z.object({ name: z.string(), count: z.union([z.number().int(), z.string()]) })).optional(),
  patches: z.array(preserved()).optional(),
  components: z.array(z.string()).optional(),
});

export const ApplicationSourceSchema = z.object({
  repoURL: z.string().min(1).describe("Git repository URL (HTTPS or HTTP)."),
  targetRevision: z.string().optional().describe("Branch, tag, full commit SHA or HEAD (the default)."),
  path: z.string().optional().describe("Directory inside the repository; the root when empty."),
  chart: z.string().optional().describe("Helm chart name when repoURL is a Helm repository."),
  directory: DirectorySourceSchema.optional(),
  helm: HelmSourceSchema.optional(),
  kustomize: KustomizeSourceSchema.optional(),
  plugin: preserved().optional().describe("Not supported by Tack; refused with InvalidSpecError when set."),
});
export type ApplicationSource = z.infer<typeof ApplicationSourceSchema>;

export const ApplicationDestinationSchema = z.object({
  server: z.string().optional().describe("API server URL; https://kubernetes.default.svc is the cluster Tack runs in."),
  name: z.string().optional().describe("Cluster name, instead of server."),
  namespace: z.string().optional().describe("Namespace given to namespaced objects that have none."),
});
export type ApplicationDestination = z.infer<typeof ApplicationDestinationSchema>;

const DurationSchema = z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, "a duration such as 5s, 2m or 1h30m");

export const RetryStrategySchema = z.object({
  limit: z.number().int().optional().describe("Attempts; negative means unlimited."),
  backoff: z.object({
    duration: DurationSchema.optional(),
    factor: z.number().int().min(1).optional(),
    maxDuration: DurationSchema.optional(),
  }).optional(),
});

export const SyncPolicySchema = z.object({
  automated: z.object({
    prune: z.boolean().optional(),
    selfHeal: z.boolean().optional(),
    allowEmpty: z.boolean().optional(),
    enabled: z.boolean().optional().describe("false turns automated sync off while keeping its settings."),
  }).optional(),
  syncOptions: z.array(z.string()).optional(),
  retry: RetryStrategySchema.optional(),
  managedNamespaceMetadata: z.object({
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }).optional(),
});
export type SyncPolicy = z.infer<typeof SyncPolicySchema>;

export const ResourceIgnoreDifferencesSchema = z.object({
  group: z.string().optional(),
  kind: z.string().min(1),
  name: z.string().optional(),
  namespace: z.string().optional(),
  jsonPointers: z.array(z.string()).optional(),
  jqPathExpressions: z.array(z.string()).optional(),
  managedFieldsManagers: z.array(z.string()).optional(),
});

export const ApplicationSpecSchema = z.object({
  project: z.string().optional().describe("AppProject name; 'default' when empty."),
  source: ApplicationSourceSchema.optional(),
  sources: z.array(preserved()).optional().describe("Multiple sources: not supported yet, refused with InvalidSpecError."),
  destination: ApplicationDestinationSchema,
  syncPolicy: SyncPolicySchema.optional(),
  ignoreDifferences: z.array(ResourceIgnoreDifferencesSchema).optional(),
  revisionHistoryLimit: z.number().int().min(0).optional(),
  info: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
});
export type ApplicationSpec = z.infer<typeof ApplicationSpecSchema>;

export const SyncOperationSchema = z.object({
  revision: z.string().optional(),
  prune: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  syncOptions: z.array(z.string()).optional(),
  resources: z.array(z.object({ group: z.string().optional(), kind: z.string(), name: z.string(), namespace: z.string().optional() })).optional(),
  source: ApplicationSourceSchema.optional(),
});
export type SyncOperation = z.infer<typeof SyncOperationSchema>;

export const OperationSchema = z.object({
  sync: SyncOperationSchema.optional(),
  initiatedBy: z.object({ username: z.string().optional(), automated: z.boolean().optional() }).optional(),
  info: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  retry: RetryStrategySchema.optional(),
});
export type Operation = z.infer<typeof OperationSchema>;

export const SyncStatusCode = { Synced: "Synced", OutOfSync: "OutOfSync", Unknown: "Unknown" } as const;
export type SyncStatusCode = (typeof SyncStatusCode)[keyof typeof SyncStatusCode];

export const OperationPhase = {
  Running: "Running", Succeeded: "Succeeded", Failed: "Failed", Error: "Error", Terminating: "Terminating",
} as const;
export type OperationPhase = (typeof OperationPhase)[keyof typeof OperationPhase];

const HealthSchema = z.object({ status: z.string(), message: z.string().optional() });

export const ResourceStatusSchema = z.object({
  group: z.string().optional(),
  version: z.string().optional(),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  status: z.string().optional().describe("Synced, OutOfSync or Unknown."),
  health: HealthSchema.optional(),
  requiresPruning: z.boolean().optional(),
  message: z.string().optional(),
});
export type ResourceStatus = z.infer<typeof ResourceStatusSchema>;

export const ResourceResultSchema = z.object({
  group: z.string().optional(),
  version: z.string().optional(),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  status: z.string().describe("Synced, SyncFailed, Pruned, PruneSkipped or Skipped."),
  message: z.string().optional(),
  syncPhase: z.string().optional().describe("PreSync, Sync, PostSync, SyncFail or PostDelete."),
  wave: z.number().int().optional(),
  hookType: z.string().optional().describe("Set for hooks: the phase the hook runs in."),
  hookPhase: z.string().optional().describe("Set for hooks: Running, Succeeded or Failed."),
  hookName: z.string().optional().describe("Set for hooks: the manifest's name or generateName."),
});
export type ResourceResult = z.infer<typeof ResourceResultSchema>;

export const ConditionSchema = z.object({
  type: z.string(),
  status: z.string().describe("True, False or Unknown."),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof ConditionSchema>;

export const OperationStateSchema = z.object({
  operation: OperationSchema.optional(),
  phase: z.string(),
  message: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  retryCount: z.number().int().optional(),
  syncResult: z.object({
    revision: z.string().optional(),
    source: ApplicationSourceSchema.optional(),
    resources: z.array(ResourceResultSchema).optional(),
  }).optional(),
});
export type OperationState = z.infer<typeof OperationStateSchema>;

export const HistoryEntrySchema = z.object({
  id: z.number().int(),
  revision: z.string(),
  deployedAt: z.string(),
  deployStartedAt: z.string().optional(),
  source: ApplicationSourceSchema.optional(),
  initiatedBy: z.object({ username: z.string().optional(), automated: z.boolean().optional() }).optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

export const ApplicationStatusSchema = z.object({
  sync: z.object({
    status: z.string(),
    revision: z.string().optional(),
    comparedTo: z.object({ source: ApplicationSourceSchema.optional(), destination: ApplicationDestinationSchema.optional() }).optional(),
  }).optional(),
  health: HealthSchema.optional(),
  resources: z.array(ResourceStatusSchema).optional(),
  conditions: z.array(ConditionSchema).optional(),
  operationState: OperationStateSchema.optional(),
  history: z.array(HistoryEntrySchema).optional(),
  reconciledAt: z.string().optional().describe("When the comparison result last changed (Tack writes no status when nothing changed)."),
  observedGeneration: z.number().int().optional(),
  sourceType: z.string().optional(),
});
export type ApplicationStatus = z.infer<typeof ApplicationStatusSchema>;

export interface Application {
  apiVersion: string;
  kind: "Application";
  metadata: {
    name: string; namespace: string; uid?: string; generation?: number; resourceVersion?: string;
    annotations?: Record<string, string>; labels?: Record<string, string>; finalizers?: string[];
    deletionTimestamp?: string; creationTimestamp?: string;
  };
  spec: ApplicationSpec;
  operation?: Operation;
  status?: ApplicationStatus;
}
