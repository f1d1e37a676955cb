// Configuration: flags and environment parsed once with zod into a frozen object. Nothing else reads
// process.env; every module gets what it needs from here, passed down explicitly.
import { z } from "zod";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NAMESPACE_NAME } from "./cluster/scope.ts";
import { findTool } from "./render/tools.ts";

const seconds = (def: number) => z.coerce.number().positive().default(def);
const list = z.string().transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean));
const namespaceList = list.pipe(z.array(z.string().regex(NAMESPACE_NAME, "each entry must be a namespace name (lower-case DNS label)")));

export const ConfigSchema = z.object({
  /** Path to a kubeconfig; when absent, the in-cluster service account (or KUBECONFIG / ~/.kube/config). */
  kubeconfig: z.string().optional(),
  /** Namespace Tack runs in: where repository Secrets and its own ConfigMaps live. */
  namespace: z.string().min(1).default("tack-system"),
  /** Namespaces whose Applications are reconciled; empty means all. */
  applicationNamespaces: namespaceList.default([]),
  /**
   * Namespaces of the cluster Tack runs in that it may manage; empty means the whole cluster. When set, live
   * state is watched in each of them only (so namespaced Roles suffice), and an object outside them is refused
   * before any write. Remote clusters take the same setting from their Secret's `namespaces` field.
   */
  managedNamespaces: namespaceList.default([]),
  /** With managedNamespaces, whether cluster-scoped objects may be managed too (Argo CD's clusterResources). */
  manageClusterResources: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  /** Full re-compare period, with jitter: the poll interval for Git. */
  resyncSeconds: seconds(180),
  resyncJitter: z.coerce.number().min(0).max(1).default(0.2),
  /** Reconciles in parallel. */
  workers: z.coerce.number().int().min(1).max(256).default(16),
  /** HTTP port for /metrics, /healthz, /readyz (0 picks a free port). */
  httpPort: z.coerce.number().int().min(0).max(65535).default(8080),
  httpHost: z.string().default("0.0.0.0"),
  /**
   * The controller's own cache: Git object stores, checkouts and the render cache (TACK_CACHE_DIR). Not the
   * set-up's build cache of helm, kustomize and the control plane, which is TACK_BUILD_CACHE_DIR.
   */
  cacheDir: z.string().default(join(tmpdir(), "tack-cache")),
  /** Largest rendered manifest per app, in bytes (Argo CD's default is 10 MB too). */
  maxManifestBytes: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  gitTimeoutSeconds: seconds(60),
  /**
   * How long one listing of a repository's refs answers the revision lookups of every app on that repository
   * (Argo CD's repo-server keeps resolved revisions for 3 minutes). Webhooks and the refresh annotation always ask
   * the server; capped at half the resync period. 0 asks on every lookup (concurrent ones still share one request).
   */
  revisionCacheSeconds: z.coerce.number().min(0).max(3600).default(10),
  /** Per-request timeout for API server calls other than watches. */
  apiTimeoutSeconds: seconds(30),
  /** Base and cap of the exponential backoff for failed reconciles. */
  retryBaseSeconds: seconds(1),
  retryMaxSeconds: seconds(300),
  /** Deadline of a sync operation, waits for health and hooks included. */
  syncTimeoutSeconds: seconds(300),
  /** Largest share (percent) of an app's objects one sync may prune without AllowMassPrune=true. */
  pruneGuardPercent: z.coerce.number().min(0).max(100).default(50),
  /** Grace period for in-flight work on SIGTERM before exiting anyway. */
  shutdownGraceSeconds: seconds(25),
  /**
   * helm and kustomize: a path, or a name looked up on PATH. When neither flag nor environment names one,
   * loadConfig finds it as `tack render` does (render/tools.ts: PATH, TACK_TOOLS_BIN, the pinned tools cache).
   */
  helmBinary: z.string().min(1).default("helm"),
  kustomizeBinary: z.string().min(1).default("kustomize"),
  /** Build kustomizations with `kustomize build` or `kubectl kustomize`. */
  kustomizeBuildWith: z.enum(["kustomize", "kubectl"]).default("kustomize"),
  /** Extra `kustomize build` flags, comma-separated (Argo CD's kustomize.buildOptions). */
  kustomizeBuildOptions: list.default([]),
  /** Remote kustomize bases leave the repository: refused unless this is true. */
  kustomizeAllowRemoteBases: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  /** Time limit of one helm or kustomize run. */
  renderTimeoutSeconds: seconds(90),
  /** Run as one of several replicas: only the holder of the Lease `tack-controller` reconciles. */
  leaderElect: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  leaseDurationSeconds: seconds(15),
  leaseRenewDeadlineSeconds: seconds(10),
  leaseRetryPeriodSeconds: seconds(2),
  /** This replica's identity in the Lease (the Pod name in a cluster). */
  podName: z.string().default(`tack-${process.pid}`),
  /** Largest webhook body accepted, in bytes; larger ones get 413 unread. */
  webhookMaxBodyBytes: z.coerce.number().int().positive().default(1024 * 1024),
  /**
   * Argo CD Lua health rules laid out as Argo CD's resource_customizations (`<group>/<Kind>/health.lua`), read at
   * start; the `tack-health-rules` ConfigMap's Lua keys win over them.
   */
  healthLuaDir: z.string().min(1).optional(),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/** Environment variable → config key. Flags (--resync-seconds=60) map the same way in kebab-case. */
const ENV_KEYS: Record<string, keyof z.infer<typeof ConfigSchema>> = {
  KUBECONFIG: "kubeconfig",
  TACK_NAMESPACE: "namespace",
  TACK_APPLICATION_NAMESPACES: "applicationNamespaces",
  TACK_MANAGED_NAMESPACES: "managedNamespaces",
  TACK_MANAGE_CLUSTER_RESOURCES: "manageClusterResources",
  TACK_RESYNC_SECONDS: "resyncSeconds",
  TACK_RESYNC_JITTER: "resyncJitter",
  TACK_WORKERS: "workers",
  TACK_HTTP_PORT: "httpPort",
  TACK_HTTP_HOST: "httpHost",
  TACK_CACHE_DIR: "cacheDir",
  TACK_MAX_MANIFEST_BYTES: "maxManifestBytes",
  TACK_GIT_TIMEOUT_SECONDS: "gitTimeoutSeconds",
  TACK_REVISION_CACHE_SECONDS: "revisionCacheSeconds",
  TACK_API_TIMEOUT_SECONDS: "apiTimeoutSeconds",
  TACK_RETRY_BASE_SECONDS: "retryBaseSeconds",
  TACK_RETRY_MAX_SECONDS: "retryMaxSeconds",
  TACK_SHUTDOWN_GRACE_SECONDS: "shutdownGraceSeconds",
  TACK_SYNC_TIMEOUT_SECONDS: "syncTimeoutSeconds",
  TACK_PRUNE_GUARD_PERCENT: "pruneGuardPercent",
  TACK_LOG_LEVEL: "logLevel",
  TACK_HEALTH_LUA_DIR: "healthLuaDir",
  TACK_WEBHOOK_MAX_BODY_BYTES: "webhookMaxBodyBytes",
  TACK_LEADER_ELECT: "leaderElect",
  TACK_HELM_BINARY: "helmBinary",
  TACK_KUSTOMIZE_BINARY: "kustomizeBinary",
  TACK_KUSTOMIZE_BUILD_WITH: "kustomizeBuildWith",
  TACK_KUSTOMIZE_BUILD_OPTIONS: "kustomizeBuildOptions",
  TACK_KUSTOMIZE_ALLOW_REMOTE_BASES: "kustomizeAllowRemoteBases",
  TACK_RENDER_TIMEOUT_SECONDS: "renderTimeoutSeconds",
  TACK_LEASE_DURATION_SECONDS: "leaseDurationSeconds",
  TACK_LEASE_RENEW_DEADLINE_SECONDS: "leaseRenewDeadlineSeconds",
  TACK_LEASE_RETRY_PERIOD_SECONDS: "leaseRetryPeriodSeconds",
  POD_NAME: "podName",
};

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export class ConfigError extends Error {
  constructor(message: string) { super(message); this.name = "ConfigError"; }
}

/** Flags win over environment. Unknown flags and invalid values are errors that name the setting. */
export function loadConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Config {
  const raw: Record<string, string> = {};
  for (const [envKey, key] of Object.entries(ENV_KEYS)) {
    const value = env[envKey];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  const byFlag = new Map(Object.keys(ConfigSchema.shape).map((k) => [kebab(k), k]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const key = match ? byFlag.get(match[1]!) : undefined;
    if (!match || !key) throw new ConfigError(`unknown flag ${arg}: see tack controller --help`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`flag --${match[1]} needs a value`);
    raw[key] = value;
  }
  // Found here, once, so that the controller runs the same binaries `tack render` would.
  raw.helmBinary ??= findTool("helm", { env }).binary;
  raw.kustomizeBinary ??= findTool("kustomize", { env }).binary;
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${kebab(String(issue.path[0] ?? ""))}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return Object.freeze(parsed.data);
}

/** How long a repository's ref listing is reused: the setting, capped at half the resync period (the poll interval). */
export function revisionCacheMs(config: Pick<Config, "revisionCacheSeconds" | "resyncSeconds">): number {
  return Math.min(config.revisionCacheSeconds, config.resyncSeconds / 2) * 1000;
}

export function configHelp(): string {
  const lines = Object.entries(ENV_KEYS).map(([envKey, key]) => `  --${kebab(key).padEnd(32)} ${envKey}`);
  return [
    "Settings (flag, or environment variable):", ...lines, "",
    "helm and kustomize, when no flag or variable names them: PATH, then TACK_TOOLS_BIN, then the pinned tools",
    "that hack/tools/build.sh builds into ${TACK_BUILD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tack}/tools.",
  ].join("\n");
}
