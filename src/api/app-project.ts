// The AppProject resource: the policy an Application runs under. Fields follow Argo CD's AppProject. The
// enforcement of each rule lives in src/project (pure predicates); this file only describes the shape.
import { z } from "zod";

const GroupKindSchema = z.object({ group: z.string(), kind: z.string() });

export const ProjectDestinationSchema = z.object({
  server: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
});

export const SyncWindowSchema = z.object({
  kind: z.enum(["allow", "deny"]),
  schedule: z.string().min(1).describe("Cron schedule of the window's start, e.g. '0 22 * * *'."),
  duration: z.string().min(1).describe("How long the window lasts, e.g. 1h."),
  applications: z.array(z.string()).optional(),
  namespaces: z.array(z.string()).optional(),
  clusters: z.array(z.string()).optional(),
  manualSync: z.boolean().optional(),
  timeZone: z.string().optional(),
});

export const AppProjectSpecSchema = z.object({
  description: z.string().optional(),
  sourceRepos: z.array(z.string()).optional().describe("Glob patterns of allowed repository URLs; '!' negates."),
  destinations: z.array(ProjectDestinationSchema).optional(),
  clusterResourceWhitelist: z.array(GroupKindSchema).optional(),
  clusterResourceBlacklist: z.array(GroupKindSchema).optional(),
  namespaceResourceWhitelist: z.array(GroupKindSchema).optional(),
  namespaceResourceBlacklist: z.array(GroupKindSchema).optional(),
  syncWindows: z.array(SyncWindowSchema).optional(),
  sourceNamespaces: z.array(z.string()).optional(),
});
export type AppProjectSpec = z.infer<typeof AppProjectSpecSchema>;

export const AppProjectStatusSchema = z.object({
  conditions: z.array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional(), lastTransitionTime: z.string().optional() })).optional(),
});

export interface AppProject {
  apiVersion: string;
  kind: "AppProject";
  metadata: { name: string; namespace: string; uid?: string; generation?: number; resourceVersion?: string };
  spec: AppProjectSpec;
}
