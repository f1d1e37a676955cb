// Rendering: from a checkout and an Application source to the desired objects. One renderer per source
// type behind one function. Does I/O on the checkout only; never talks to the cluster or the network.
import { access, realpath } from "node:fs/promises";
import { join } from "node:path";
import type { ApplicationSource, KubeObject } from "../api/index.ts";
import { InvalidSpecError } from "../errors.ts";
import { renderDirectory } from "./directory.ts";
import { resolveInside } from "./paths.ts";

export type SourceType = "Directory" | "Kustomize" | "Helm";

export interface RenderRequest {
  checkoutDir: string;
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
}

export interface RenderResult {
  sourceType: SourceType;
  objects: KubeObject[];
}

export async function render(req: RenderRequest): Promise<RenderResult> {
  const { source } = req;
  if (source.helm || source.chart) throw new InvalidSpecError("Helm sources are not supported yet (planned): use a plain directory of manifests");
  if (source.kustomize) throw new InvalidSpecError("Kustomize sources are not supported yet (planned): use a plain directory of manifests");
  if (source.plugin) throw new InvalidSpecError("config management plugins are not supported by Tack");
  if (source.directory?.jsonnet && Object.keys(source.directory.jsonnet).length > 0) {
    throw new InvalidSpecError("directory.jsonnet is not supported by Tack");
  }
  const detected = await detectSourceType(req.checkoutDir, source.path ?? "");
  if (detected !== "Directory") {
    throw new InvalidSpecError(`${detected} source detected at '${source.path || "."}' (${detected === "Helm" ? "Chart.yaml" : "kustomization file"}); ${detected} rendering is not supported yet`);
  }
  const objects = await renderDirectory({
    root: req.checkoutDir,
    path: source.path ?? "",
    recurse: source.directory?.recurse,
    include: source.directory?.include,
    exclude: source.directory?.exclude,
    maxBytes: req.maxBytes,
  });
  return { sourceType: "Directory", objects };
}

export { parseManifests } from "./manifests.ts";

/** As Argo CD decides: a kustomization file makes it Kustomize, a Chart.yaml Helm, anything else a directory. */
export async function detectSourceType(checkoutDir: string, path: string): Promise<SourceType> {
  const dir = await resolveInside(await realpath(checkoutDir), path, "path");
  const has = (name: string) => access(join(dir, name)).then(() => true, () => false);
  for (const name of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) if (await has(name)) return "Kustomize";
  if (await has("Chart.yaml")) return "Helm";
  return "Directory";
}
