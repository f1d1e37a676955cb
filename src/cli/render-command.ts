// `tack render [DIR] [flags]`: prints the manifests of a local directory exactly as the controller renders them
// (the same render() with the same options; Tack's tracking annotation is not added), as multi-document YAML in
// a stable order. Flags mirror spec.source; --app takes spec.source from an Application manifest.
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { dump, load } from "js-yaml";
import type { ApplicationSource, KubeObject } from "../api/index.ts";
import { ApplicationSourceSchema } from "../api/index.ts";
import { TackError, errorMessage } from "../errors.ts";
import { DEFAULT_RENDER_TIMEOUT_MS, findRenderTools, render, type RenderOptions } from "../render/index.ts";

export interface RenderCommandIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Where helm and kustomize are looked up when no flag names them (render/tools.ts). Without it: PATH only, at run time. */
  env?: Readonly<Record<string, string | undefined>>;
}

const USAGE = `Usage: tack render [DIR] [flags]

Prints the manifests the controller would render from DIR (default: the current directory), as multi-document
YAML sorted by group, kind, namespace and name. The source type is detected as the controller detects it
(kustomization file → Kustomize, Chart.yaml → Helm, else a directory of manifests). Paths are confined to the
Git repository that holds DIR (or to DIR when it is in none), as the controller confines them to the checkout.

Source flags (mirror spec.source):
  --app FILE                 take spec.source from an Application manifest; DIR is then the repository checkout
                             and spec.source.path is read inside it (flags below override the manifest's)
  --name NAME                the Application's name (Helm's default release name; default: DIR's name)
  --namespace NS             the destination namespace (helm --namespace)
  --release-name NAME        helm.releaseName
  --values-file FILE         helm.valueFiles, relative to the chart (repeatable)
  --values YAML              helm.values
  --set key=value            helm.parameters (repeatable)
  --set-string key=value     helm.parameters with forceString (repeatable)
  --skip-crds                helm.skipCrds
  --recurse                  directory.recurse
  --include GLOB             directory.include
  --exclude GLOB             directory.exclude
  --kustomize-image IMAGE    kustomize.images, e.g. nginx=nginx:1.27 (repeatable)
  --name-prefix PREFIX       kustomize.namePrefix
  --name-suffix SUFFIX       kustomize.nameSuffix
  --kustomize-namespace NS   kustomize.namespace

Render flags (as the controller's settings):
  --kube-version V           the cluster's version for Helm's .Capabilities (e.g. 1.36.0)
  --api-versions LIST        comma-separated API versions for .Capabilities.APIVersions (repeatable)
  --helm-binary PATH         default: $TACK_HELM_BINARY, else helm on PATH, else TACK_TOOLS_BIN, else the pinned
                             helm that hack/tools/build.sh built into its cache (see 'tack controller --help')
  --kustomize-binary PATH    default: the same lookup for kustomize ($TACK_KUSTOMIZE_BINARY first)
  --allow-remote-bases       let kustomizations use remote bases
  --timeout SECONDS          per tool run (default ${DEFAULT_RENDER_TIMEOUT_MS / 1000})
  --max-manifest-bytes N     bound on the rendered output (default 10485760)
  -h, --help                 this text

Exit status: 0 rendered, 2 on a usage error or a render error (the reason and message go to stderr).
`;

class UsageError extends Error {}

interface Parsed {
  dir: string;
  appFile?: string;
  name?: string;
  namespace?: string;
  helm: NonNullable<ApplicationSource["helm"]>;
  directory: NonNullable<ApplicationSource["directory"]>;
  kustomize: NonNullable<ApplicationSource["kustomize"]>;
  kubeVersion?: string;
  apiVersions: string[];
  options: RenderOptions;
  maxBytes: number;
  help: boolean;
}

function parseArgs(args: string[]): Parsed {
  const p: Parsed = { dir: ".", helm: {}, directory: {}, kustomize: {}, apiVersions: [], options: {}, maxBytes: 10 * 1024 * 1024, help: false };
  let dirSeen = false;
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    let inline: string | undefined;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    if (eq > 0) { inline = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const keyValue = (): { name: string; value: string } => {
      const v = value();
      const at = v.indexOf("=");
      if (at <= 0) throw new UsageError(`${arg} takes key=value, got '${v}'`);
      return { name: v.slice(0, at), value: v.slice(at + 1) };
    };
    switch (arg) {
      case "-h": case "--help": p.help = true; break;
      case "--app": p.appFile = value(); break;
      case "--name": p.name = value(); break;
      case "--namespace": p.namespace = value(); break;
      case "--release-name": p.helm.releaseName = value(); break;
      case "--values-file": (p.helm.valueFiles ??= []).push(value()); break;
      case "--values": p.helm.values = value(); break;
      case "--set": (p.helm.parameters ??= []).push(keyValue()); break;
      case "--set-string": (p.helm.parameters ??= []).push({ ...keyValue(), forceString: true }); break;
      case "--skip-crds": p.helm.skipCrds = true; break;
      case "--recurse": p.directory.recurse = true; break;
      case "--include": p.directory.include = value(); break;
      case "--exclude": p.directory.exclude = value(); break;
      case "--kustomize-image": (p.kustomize.images ??= []).push(value()); break;
      case "--name-prefix": p.kustomize.namePrefix = value(); break;
      case "--name-suffix": p.kustomize.nameSuffix = value(); break;
      case "--kustomize-namespace": p.kustomize.namespace = value(); break;
      case "--kube-version": p.kubeVersion = value(); break;
      case "--api-versions": p.apiVersions.push(...value().split(",").map((s) => s.trim()).filter(Boolean)); break;
      case "--helm-binary": p.options.helmBinary = value(); break;
      case "--kustomize-binary": p.options.kustomizeBinary = value(); break;
      case "--allow-remote-bases": p.options.allowRemoteBases = true; break;
      case "--timeout": {
        const s = Number(value());
        if (!(s > 0)) throw new UsageError("--timeout takes a positive number of seconds");
        p.options.timeoutMs = s * 1000;
        break;
      }
      case "--max-manifest-bytes": {
        const n = Number(value());
        if (!Number.isInteger(n) || n <= 0) throw new UsageError("--max-manifest-bytes takes a positive integer");
        p.maxBytes = n;
        break;
      }
      default:
        if (arg.startsWith("-")) throw new UsageError(`unknown flag ${arg}`);
        if (dirSeen) throw new UsageError(`one directory only (got '${p.dir}' and '${arg}')`);
        p.dir = arg;
        dirSeen = true;
    }
  }
  return p;
}

/** The Git repository holding dir (the nearest parent with .git), or dir itself. */
async function repositoryRoot(dir: string): Promise<string> {
  let current = dir;
  for (;;) {
    if (await stat(join(current, ".git")).then(() => true, () => false)) return current;
    const parent = dirname(current);
    if (parent === current) return dir;
    current = parent;
  }
}

function nonEmpty<T extends object>(o: T): T | undefined {
  return Object.keys(o).length > 0 ? o : undefined;
}

async function sourceFromApp(file: string): Promise<{ source: ApplicationSource; name?: string; namespace?: string }> {
  const text = await readFile(file, "utf8").catch((err: unknown) => { throw new UsageError(`cannot read ${file}: ${errorMessage(err)}`); });
  if (text.length > 1 << 20) throw new UsageError(`${file} is larger than 1 MiB`);
  let doc: { metadata?: { name?: string }; spec?: { source?: unknown; destination?: { namespace?: string } } };
  try {
    doc = load(text, { maxAliases: 100 }) as typeof doc;
  } catch (err) {
    throw new UsageError(`${file}: invalid YAML: ${errorMessage(err).split("\n", 1)[0]}`);
  }
  const parsed = ApplicationSourceSchema.safeParse(doc?.spec?.source);
  if (!parsed.success) throw new UsageError(`${file}: spec.source is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { source: parsed.data, name: doc.metadata?.name, namespace: doc.spec?.destination?.namespace };
}

export function sortObjects(objects: KubeObject[]): KubeObject[] {
  const key = (o: KubeObject) => {
    const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0]! : "";
    return [group, o.kind, o.metadata.namespace ?? "", o.metadata.name ?? o.metadata.generateName ?? ""];
  };
  return [...objects].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    return 0;
  });
}

export function toYamlStream(objects: KubeObject[]): string {
  return objects.map((o) => `---\n${dump(o, { noRefs: true, lineWidth: -1 })}`).join("");
}

export async function runRenderCommand(args: string[], io: RenderCommandIO): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(args);
  } catch (err) {
    if (err instanceof UsageError) { io.stderr(`tack render: ${err.message}\n\n${USAGE}`); return 2; }
    throw err;
  }
  if (p.help) { io.stdout(USAGE); return 0; }
  try {
    const dirReal = await realpath(resolve(p.dir)).catch(() => { throw new UsageError(`${p.dir}: no such directory`); });
    let source: ApplicationSource;
    let checkoutDir: string;
    let name = p.name;
    let namespace = p.namespace;
    if (p.appFile) {
      const app = await sourceFromApp(p.appFile);
      source = app.source;
      name ??= app.name;
      namespace ??= app.namespace;
      checkoutDir = dirReal;
    } else {
      checkoutDir = await repositoryRoot(dirReal);
      source = { repoURL: "file://local", path: relative(checkoutDir, dirReal).split(sep).join("/") };
    }
    // Flags override (or add to) the source's settings.
    const helm = nonEmpty(p.helm);
    const kustomize = nonEmpty(p.kustomize);
    const directory = nonEmpty(p.directory);
    if (helm) source.helm = { ...source.helm, ...helm };
    if (kustomize) source.kustomize = { ...source.kustomize, ...kustomize };
    if (directory) source.directory = { ...source.directory, ...directory };
    const options = io.env
      ? { ...p.options, ...findRenderTools({ helm: p.options.helmBinary, kustomize: p.options.kustomizeBinary, env: io.env }) }
      : p.options;
    const result = await render({
      checkoutDir: source.chart ? undefined : checkoutDir, source, maxBytes: p.maxBytes,
      appName: name ?? (dirReal.split(sep).pop() || "app"), destinationNamespace: namespace,
      kubeVersion: p.kubeVersion, apiVersions: p.apiVersions.length ? p.apiVersions : undefined, options,
    });
    io.stdout(toYamlStream(sortObjects(result.objects)));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) { io.stderr(`tack render: ${err.message}\n`); return 2; }
    if (err instanceof TackError) { io.stderr(`tack render: ${err.reason}: ${err.message}\n`); return 2; }
    throw err;
  }
}
