// Where the render tools come from, decided in one place for the controller (through Config) and the CLI.
// A tool is looked up in this order, first hit wins:
//   1. a path or name given explicitly (--helm-binary, --kustomize-binary);
//   2. the environment variable naming it (TACK_HELM_BINARY, TACK_KUSTOMIZE_BINARY, TACK_JSONNET_BINARY);
//   3. PATH (the container image installs them in /usr/local/bin);
//   4. TACK_TOOLS_BIN, the directory of ready binaries the project's set-up accepts instead of building;
//   5. the pinned tools cache that the set-up (hack/tools/build.sh) fills: <build cache>/tools/, where
//      <build cache> is TACK_BUILD_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/tack. A TACK_CACHE_DIR
//      holding tools/ is also searched, because the set-up used that name before it was given to the
//      controller's own cache alone.
// When none has it, the bare name is returned: running it then fails with ToolNotFound and an install hint.
// The lookup reads the environment it is given, never process.env, and only checks files (no tool is run).
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

export type RenderTool = "helm" | "kustomize" | "jsonnet";

/** The versions the project pins (hack/tools/build.sh builds them; the Dockerfile installs them). */
export const PINNED_TOOL_VERSIONS = Object.freeze({ helm: "v3.22.0", kustomize: "v5.8.2" });
type PinnedTool = keyof typeof PINNED_TOOL_VERSIONS;

/** The environment variable that names each tool's binary. */
export const TOOL_ENV: Readonly<Record<RenderTool, string>> = Object.freeze({
  helm: "TACK_HELM_BINARY",
  kustomize: "TACK_KUSTOMIZE_BINARY",
  jsonnet: "TACK_JSONNET_BINARY",
});

export type ToolSource = "flag" | "env" | "PATH" | "TACK_TOOLS_BIN" | "pinned cache" | "not found";

export interface FoundTool {
  /** What to run: an absolute path, or what the flag or variable said, or the bare name when nothing was found. */
  readonly binary: string;
  readonly source: ToolSource;
}

type Env = Readonly<Record<string, string | undefined>>;

export function findTool(tool: RenderTool, opts: { flag?: string | undefined; env: Env }): FoundTool {
  const { env } = opts;
  if (opts.flag) return { binary: opts.flag, source: "flag" };
  const named = env[TOOL_ENV[tool]];
  if (named) return { binary: named, source: "env" };
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    // An empty or relative PATH entry means a directory relative to wherever the tool would be run: skipped.
    if (dir && isAbsolute(dir) && isExecutableFile(join(dir, tool))) return { binary: join(dir, tool), source: "PATH" };
  }
  if (env.TACK_TOOLS_BIN && isExecutableFile(join(env.TACK_TOOLS_BIN, tool))) {
    return { binary: join(env.TACK_TOOLS_BIN, tool), source: "TACK_TOOLS_BIN" };
  }
  for (const dir of pinnedToolDirs(tool, env)) {
    if (isExecutableFile(join(dir, tool))) return { binary: join(dir, tool), source: "pinned cache" };
  }
  return { binary: tool, source: "not found" };
}

/** helm and kustomize as RenderOptions take them, each found by findTool. */
export function findRenderTools(opts: { helm?: string | undefined; kustomize?: string | undefined; env: Env }): { helmBinary: string; kustomizeBinary: string } {
  return {
    helmBinary: findTool("helm", { flag: opts.helm, env: opts.env }).binary,
    kustomizeBinary: findTool("kustomize", { flag: opts.kustomize, env: opts.env }).binary,
  };
}

/**
 * The root of the set-up's build cache (pinned tools, control plane binaries): TACK_BUILD_CACHE_DIR, else
 * ${XDG_CACHE_HOME:-$HOME/.cache}/tack. Undefined when the environment has none of these.
 */
export function buildCacheDir(env: Env): string | undefined {
  if (env.TACK_BUILD_CACHE_DIR) return env.TACK_BUILD_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, ".cache") : undefined);
  return base ? join(base, "tack") : undefined;
}

/**
 * Where hack/tools/build.sh leaves a pinned tool: the directory of the whole pinned set (the one it prints),
 * then the tool's own directory (kept so that bumping one tool does not rebuild the other). A tool without a
 * pinned version (jsonnet, for now) has none.
 */
export function pinnedToolDirs(tool: RenderTool, env: Env): string[] {
  if (!isPinned(tool)) return [];
  const roots = [buildCacheDir(env), env.TACK_CACHE_DIR].filter((r, i, all): r is string => !!r && all.indexOf(r) === i);
  const { helm, kustomize } = PINNED_TOOL_VERSIONS;
  return roots.flatMap((root) => [
    join(root, "tools", `helm-${helm}-kustomize-${kustomize}`),
    join(root, "tools", `${tool}-${PINNED_TOOL_VERSIONS[tool]}`),
  ]);
}

function isPinned(tool: RenderTool): tool is PinnedTool {
  return Object.hasOwn(PINNED_TOOL_VERSIONS, tool);
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
