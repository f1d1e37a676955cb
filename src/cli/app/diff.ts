// `tack app diff NAME [--revision REF]` and `tack diff --local DIR --app NAME`: what a sync would change, as
// a unified diff of the live objects against what the API server predicts they would become.
//
// The desired state is made exactly as the controller makes it (render → prepareDesired); the predicted
// object comes from a server-side-apply dry run with the controller's field manager, and both sides go
// through src/diff's comparable() before they are printed as YAML, so what shows here is what the controller
// calls drift. Secret values are masked on both sides (equal values get equal masks, as Argo CD does).
// Exit status: 0 no differences, 1 differences, 2 any error.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createTwoFilesPatch } from "diff";
import { dump } from "js-yaml";
import type { KubeObject, ResourceKey } from "../../api/index.ts";
import { isOwnedBy, keyString } from "../../api/index.ts";
import { ClusterWriter, Discovery, KubeApiError, resourcePath, type ResourceType } from "../../cluster/index.ts";
import { prepareDesired } from "../../controller/desired.ts";
import { comparable, differences } from "../../diff/index.ts";
import { TackError } from "../../errors.ts";
import { RepoCache, type RepoCredentials } from "../../git/index.ts";
import { CREDENTIAL_SECRET_TYPES, pickCredentials } from "../../controller/credentials.ts";
import { findRenderTools, render, type RenderOptions } from "../../render/index.ts";
import { flag, type Parsed } from "./args.ts";
import { controllerNamespace, type CliIO, type Session } from "./context.ts";
import { CliError, explain } from "./errors.ts";
import { colourEnabled, colours, shortRevision, type Colours } from "./format.ts";

/** Argo CD's default cap on one app's manifests; the controller's default too. */
const MAX_MANIFEST_BYTES = 10 * 1024 * 1024;
const MASK = "+";

export interface DiffOptions {
  name: string;
  revision?: string;
  localDir?: string;
  /** helm and kustomize, found as the controller finds them (render/tools.ts). */
  tools?: RenderOptions;
}

export interface ResourceDiff {
  key: ResourceKey;
  /** YAML of comparable(live) ("" when missing) and of comparable(predicted) ("" when it would be pruned). */
  live: string;
  desired: string;
  changed: boolean;
}

export async function diffCommand(parsed: Parsed, session: Session, io: CliIO, options: DiffOptions): Promise<number> {
  try {
    const c = colours(colourEnabled(flag(parsed, "color"), io.stdoutIsTTY, io.env));
    const { diffs, label } = await computeDiff(session, { tools: findRenderTools({ env: io.env }), ...options }, flag(parsed, "repo-creds-namespace") ?? controllerNamespace(io.env));
    const changed = diffs.filter((d) => d.changed);
    for (const d of changed) io.stdout(formatDiff(d, label, c));
    io.stderr(changed.length === 0
      ? `No differences: ${session.namespace}/${options.name} matches ${label}.\n`
      : `${changed.length} of ${diffs.length} resource(s) differ from ${label}.\n`);
    return changed.length === 0 ? 0 : 1;
  } catch (err) {
    // 1 means "differences" here: every error, whatever its kind, is 2.
    if (err instanceof CliError) throw new CliError(err.message, 2, { cause: err });
    if (err instanceof TackError) throw new CliError(err.message, 2, { cause: err });
    throw new CliError(explain(err, { verb: "get", resource: "objects" }).message, 2, { cause: err });
  }
}

export async function computeDiff(session: Session, options: DiffOptions, credsNamespace: string): Promise<{ diffs: ResourceDiff[]; label: string }> {
  const app = await session.apps.get(session.namespace, options.name);
  const source = app.spec?.source;
  if (!source) throw new CliError(`${session.namespace}/${options.name} has no spec.source (multiple sources are not supported yet)`, 2);
  let cacheDir: string | undefined;
  try {
    let checkoutDir: string;
    let label: string;
    let renderSource = source;
    if (options.localDir) {
      const dir = resolve(options.localDir);
      const info = await stat(dir).catch(() => undefined);
      if (!info?.isDirectory()) throw new CliError(`--local ${options.localDir}: not a directory`, 2);
      checkoutDir = dir;
      // --local names the app's directory itself (the local spec.source.path), as with argocd app diff --local.
      renderSource = { ...source, path: "" };
      label = `local directory ${options.localDir}`;
    } else {
      cacheDir = await mkdtemp(join(tmpdir(), "tack-cli-"));
      const repos = new RepoCache({ cacheDir, maxCheckouts: 2 });
      const credentials = await repoCredentials(session, credsNamespace, source.repoURL);
      const wanted = options.revision ?? source.targetRevision ?? "HEAD";
      const revision = await repos.resolveRevision(source.repoURL, wanted, credentials ? { credentials } : {});
      checkoutDir = await repos.checkout(source.repoURL, revision, credentials ? { credentials } : {});
      label = `${wanted === revision ? "" : `${wanted} `}${shortRevision(revision)}`;
    }
    const discovery = new Discovery(session.client);
    await discovery.refresh();
    const rendered = await render({ checkoutDir, source: renderSource, maxBytes: MAX_MANIFEST_BYTES, appName: app.metadata.name,
      destinationNamespace: app.spec.destination?.namespace, ...(options.tools ? { options: options.tools } : {}) });
    const ref = { namespace: app.metadata.namespace, name: app.metadata.name };
    const { desired } = await prepareDesired(rendered.objects, ref, app.spec.destination?.namespace, discovery);
    const writer = new ClusterWriter(session.client);
    const diffs: ResourceDiff[] = [];
    for (const d of desired) {
      const live = await getLive(session, d.type, d.key);
      if (!live) {
        diffs.push(yamlPair(d.key, undefined, d.desired));
        continue;
      }
      let predicted: KubeObject;
      try {
        predicted = await writer.apply(d.type, d.desired, { dryRun: true });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 403) throw explain(err, { verb: "patch", resource: plural(d.type), namespace: d.key.namespace, name: d.key.name });
        if (err instanceof KubeApiError && err.status >= 400 && err.status < 500) {
          throw new CliError(`the API server refuses ${d.key.kind}/${d.key.name} from ${label}: ${err.message.replace(/^PATCH \S+: /, "")}`, 2, { cause: err });
        }
        throw explain(err, { verb: "patch", resource: plural(d.type), namespace: d.key.namespace, name: d.key.name }, session.client.server);
      }
      const pair = yamlPair(d.key, live, predicted);
      pair.changed = differences(live, predicted).length > 0;
      diffs.push(pair);
    }
    // What a sync with prune would delete: inventory entries no longer rendered, if this app still owns them.
    const wanted = new Set(desired.map((d) => keyString(d.key)));
    for (const r of app.status?.resources ?? []) {
      const key = { group: r.group ?? "", kind: r.kind, namespace: r.namespace ?? "", name: r.name };
      if (wanted.has(keyString(key))) continue;
      const type = discovery.byGroupKind(key.group, key.kind);
      if (!type) continue;
      const live = await getLive(session, type, key);
      if (live && !live.metadata.deletionTimestamp && isOwnedBy(live, ref)) diffs.push(yamlPair(key, live, undefined));
    }
    return { diffs, label };
  } finally {
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  }
}

function plural(type: ResourceType): string { return type.group ? `${type.resource}.${type.group}` : type.resource; }

async function getLive(session: Session, type: ResourceType, key: ResourceKey): Promise<KubeObject | undefined> {
  try {
    return await session.client.request<KubeObject>({ method: "GET", path: resourcePath(type, key.namespace, key.name) });
  } catch (err) {
    if (err instanceof KubeApiError && err.isNotFound) return undefined;
    throw explain(err, { verb: "get", resource: plural(type), namespace: key.namespace, name: key.name }, session.client.server);
  }
}

/** Both sides as YAML with sorted keys, Secret values masked. */
function yamlPair(key: ResourceKey, live: KubeObject | undefined, desired: KubeObject | undefined): ResourceDiff {
  const a = live ? comparable(live) : undefined;
  const b = desired ? comparable(desired) : undefined;
  if (key.group === "" && key.kind === "Secret") maskSecretValues(a, b);
  const text = (o: Record<string, unknown> | undefined) => (o ? dump(o, { sortKeys: true, lineWidth: -1, noRefs: true }) : "");
  const liveText = text(a);
  const desiredText = text(b);
  return { key, live: liveText, desired: desiredText, changed: liveText !== desiredText };
}

/**
 * Replaces every value under data and stringData by a run of "+": per key, equal values get the same mask
 * and different values different ones, so the diff still shows which keys changed and never what they hold.
 */
export function maskSecretValues(...objects: Array<Record<string, unknown> | undefined>): void {
  const masks = new Map<string, Map<string, string>>();
  const maskOf = (key: string, value: string): string => {
    let perKey = masks.get(key);
    if (!perKey) { perKey = new Map(); masks.set(key, perKey); }
    let mask = perKey.get(value);
    if (!mask) { mask = MASK.repeat(8 + perKey.size); perKey.set(value, mask); }
    return mask;
  };
  for (const obj of objects) {
    if (!obj) continue;
    // stringData is write-only (the server folds it into data): decode data so that equal values mask alike.
    for (const field of ["data", "stringData"] as const) {
      const values = obj[field];
      if (!values || typeof values !== "object") continue;
      const masked: Record<string, string> = {};
      for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
        const plain = field === "data" && typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : String(v);
        masked[k] = maskOf(k, plain);
      }
      obj[field] = masked;
    }
  }
}

export function formatDiff(d: ResourceDiff, label: string, c: Colours): string {
  const { group, kind, namespace, name } = d.key;
  const title = `===== ${group ? `${group}/` : ""}${kind} ${namespace ? `${namespace}/` : ""}${name} ======`;
  const state = !d.live ? " (missing from the cluster)" : !d.desired ? " (not in Git: a sync with prune deletes it)" : "";
  const patch = createTwoFilesPatch("live", `desired (${label})`, d.live, d.desired, undefined, undefined, { context: 3 });
  const lines = patch.split("\n").filter((l) => !/^={10,}$/.test(l) && l !== "\\ No newline at end of file");
  const body = lines.map((l) => {
    if (l.startsWith("---") || l.startsWith("+++")) return c.bold(l);
    if (l.startsWith("@@")) return c.cyan(l);
    if (l.startsWith("+")) return c.green(l);
    if (l.startsWith("-")) return c.red(l);
    return l;
  }).join("\n");
  return `${c.bold(title)}${state}\n${body.endsWith("\n") ? body : `${body}\n`}`;
}

/**
 * Repository credentials from Tack's repository and repo-creds Secrets, chosen exactly as the controller chooses
 * them (TLS settings included), when the user may read them; else none.
 */
async function repoCredentials(session: Session, namespace: string, repoURL: string): Promise<RepoCredentials | undefined> {
  try {
    const res = await session.client.request<{ items?: KubeObject[] }>({ method: "GET", path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
      query: { labelSelector: `tack.dev/secret-type in (${CREDENTIAL_SECRET_TYPES.join(",")})` } });
    return pickCredentials(res.items ?? [], repoURL);
  } catch {
    return undefined;   // no access or no such namespace: public repositories still work
  }
}
