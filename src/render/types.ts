// The render module's request and result types, in a file of their own: the render cache (cache.ts) needs
// them and index.ts needs the cache, so the types cannot live in index.ts without an import cycle.
import type { ApplicationSource, KubeObject } from "../api/index.ts";
import type { HelmRepositories } from "./helm-repo.ts";

export type SourceType = "Directory" | "Kustomize" | "Helm";

/** How renders run: binaries, limits, remote access. One object for the process (from Config), shared by all renders. */
export interface RenderOptions {
  /** helm binary: a path, or a name looked up on PATH. Default "helm". */
  helmBinary?: string;
  /** kustomize binary. Default "kustomize". */
  kustomizeBinary?: string;
  /** kubectl binary, used when kustomizeBuildWith is "kubectl". Default "kubectl". */
  kubectlBinary?: string;
  /** Build with `kustomize build` (default) or `kubectl kustomize`. `kustomize edit` (spec overrides) needs kustomize either way. */
  kustomizeBuildWith?: "kustomize" | "kubectl";
  /** Extra `kustomize build` flags (Argo CD's kustomize.buildOptions). */
  kustomizeBuildOptions?: string[];
  /** Let kustomizations use remote bases (they leave the repository; results are then never cached). Default false. */
  allowRemoteBases?: boolean;
  /** Time limit of each tool run. Default 90 s. */
  timeoutMs?: number;
  /** Cache of chart archives and built dependencies. Default: <os tmp>/tack-render-cache. */
  cacheDir?: string;
  /** Where workspaces are made. Default: the OS temp dir. */
  tmpDir?: string;
  /** Charts from Helm repositories and chart dependencies. Default: one shared instance per cacheDir, no credentials. */
  helmRepositories?: HelmRepositories;
}

export interface RenderRequest {
  /** The checkout (read-only, never written). Required unless source.chart names a chart of a Helm repository. */
  checkoutDir?: string;
  source: ApplicationSource;
  /** Bound on the rendered manifest size, in bytes. */
  maxBytes: number;
  /** The Application's name: Helm's default release name. */
  appName: string;
  destinationNamespace: string | undefined;
  /** The destination's version and served API versions (from discovery), for Helm's capabilities. */
  kubeVersion?: string;
  apiVersions?: string[];
  signal?: AbortSignal;
  /** Binaries, timeouts, caches (see RenderOptions). */
  options?: RenderOptions;
  /** The Application's namespace and the resolved revision: $ARGOCD_APP_NAMESPACE / $ARGOCD_APP_REVISION in kustomize images and labels. */
  appNamespace?: string;
  revision?: string;
}

export interface RenderResult {
  sourceType: SourceType;
  objects: KubeObject[];
  /**
   * Repo-relative paths (posix; "" is the root) whose content the render depended on: the render cache's key
   * covers exactly these (git tree hashes). Absent for charts from a Helm repository.
   */
  reads?: string[];
  /** false: the render depended on something outside the repository (a remote kustomize base); do not cache. */
  cacheable?: boolean;
  /** For a chart from a Helm repository: the version targetRevision resolved to (the app's revision). */
  chartVersion?: string;
}
