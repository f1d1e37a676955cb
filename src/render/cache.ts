// The render cache: a render is reused while the content it read and the parameters it ran with are unchanged,
// so a commit touching other folders of a monorepo renders nothing again (and needs no checkout).
//
// Key = parameters (repoURL, the source without targetRevision, app name, namespaces, kube version, API
// versions, manifest bound, render options that change the output) + the git tree hash of every path the
// render read (RenderResult.reads: the app's directory, kustomize bases such as ../base, value files, file://
// charts, in-repo symlink targets). The paths are known only after a render, so each entry remembers them and
// a lookup recomputes their hashes at the new revision (RepoCache.treeHash: no checkout needed). Charts from a
// Helm repository are keyed by the resolved chart version instead. Bounded by entry count and by an estimate
// of the bytes held (LRU); a few variants per parameter set are kept so switching between two revisions hits.
import { createHash } from "node:crypto";
import { stringify } from "safe-stable-stringify";
import type { KubeObject } from "../api/index.ts";
import type { RenderRequest, RenderResult } from "./types.ts";

/** The git tree hash (object id) of a repo-relative path at the revision being rendered; undefined when absent. */
export type TreeHash = (repoRelativePath: string) => Promise<string | undefined>;

export interface RenderCacheOptions {
  /** Most entries kept. Default 1000. */
  maxEntries?: number;
  /** Most bytes of rendered objects kept (estimated from their JSON). Default 256 MiB. */
  maxBytes?: number;
  /** Variants (revisions) kept per parameter set. Default 4. */
  variantsPerKey?: number;
  /** Called on each lookup (the lead's tack_render_cache_requests_total{result}). */
  onLookup?: (hit: boolean) => void;
}

export interface RenderCacheStats { hits: number; misses: number; entries: number; bytes: number }

interface Entry {
  params: string;
  /** path → tree hash at render time ("" when the path did not exist). */
  hashes: Array<[string, string]>;
  result: RenderResult;
  bytes: number;
}

/** The parameter part of the key: everything but the repository's content. */
export function renderCacheKey(req: Omit<RenderRequest, "checkoutDir" | "signal">, chartVersion?: string): string {
  const { targetRevision, ...source } = req.source;
  const o = req.options ?? {};
  return createHash("sha256").update(stringify({
    source, chart: source.chart ? { version: chartVersion ?? targetRevision } : undefined,
    appName: req.appName, appNamespace: req.appNamespace, ns: req.destinationNamespace,
    kubeVersion: req.kubeVersion, apiVersions: req.apiVersions ? [...req.apiVersions].sort() : undefined, maxBytes: req.maxBytes,
    // Only what changes the output: binaries by name (a new version is a new process), kustomize flags.
    tools: { helm: o.helmBinary, kustomize: o.kustomizeBinary, with: o.kustomizeBuildWith, flags: o.kustomizeBuildOptions, remote: o.allowRemoteBases },
    // $ARGOCD_APP_REVISION in kustomize images/labels makes the revision an input.
    revision: source.kustomize && /ARGOCD_APP_REVISION/.test(stringify(source.kustomize) ?? "") ? req.revision : undefined,
  }) ?? "").digest("hex");
}

function sizeOf(objects: KubeObject[]): number {
  let n = 0;
  for (const o of objects) n += (JSON.stringify(o)?.length ?? 0) + 64;
  return n;
}

export class RenderCache {
  readonly #entries = new Map<string, Entry>();      // full key → entry, in LRU order (oldest first)
  readonly #variants = new Map<string, string[]>();  // params → full keys, newest last
  readonly #opts: Required<Omit<RenderCacheOptions, "onLookup">> & Pick<RenderCacheOptions, "onLookup">;
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(options: RenderCacheOptions = {}) {
    this.#opts = {
      maxEntries: options.maxEntries ?? 1000, maxBytes: options.maxBytes ?? 256 << 20, variantsPerKey: options.variantsPerKey ?? 4,
      onLookup: options.onLookup,
    };
  }

  stats(): RenderCacheStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#entries.size, bytes: this.#bytes };
  }

  /** A cached result for these parameters whose read paths still have the same tree hashes, or undefined. Counts a hit or a miss. */
  async get(params: string, treeHash: TreeHash): Promise<RenderResult | undefined> {
    const memo = new Map<string, Promise<string>>();
    const hashOf = (path: string) => {
      let p = memo.get(path);
      if (!p) { p = treeHash(path).then((h) => h ?? ""); memo.set(path, p); }
      return p;
    };
    for (const full of [...(this.#variants.get(params) ?? [])].reverse()) {
      const entry = this.#entries.get(full);
      if (!entry) continue;
      let same = true;
      for (const [path, hash] of entry.hashes) {
        if ((await hashOf(path)) !== hash) { same = false; break; }
      }
      if (same) {
        this.#entries.delete(full);
        this.#entries.set(full, entry);   // most recently used
        this.#count(true);
        return entry.result;
      }
    }
    this.#count(false);
    return undefined;
  }

  /** Stores a result under the parameters and the tree hashes of its reads (computed here). */
  async set(params: string, result: RenderResult, treeHash: TreeHash): Promise<void> {
    if (result.cacheable === false || result.reads === undefined) return;
    const hashes: Array<[string, string]> = [];
    for (const path of result.reads) hashes.push([path, (await treeHash(path)) ?? ""]);
    const full = `${params}\0${hashes.map(([p, h]) => `${p}=${h}`).join("\0")}`;
    const bytes = sizeOf(result.objects);
    if (bytes > this.#opts.maxBytes) return;
    this.#remove(full);
    this.#entries.set(full, { params, hashes, result, bytes });
    this.#bytes += bytes;
    const variants = (this.#variants.get(params) ?? []).filter((k) => k !== full);
    variants.push(full);
    this.#variants.set(params, variants);
    // #remove stores a new list for the key, so the oldest variants are taken off this one as they go.
    while (variants.length > this.#opts.variantsPerKey) this.#remove(variants.shift()!);
    while (this.#entries.size > this.#opts.maxEntries || this.#bytes > this.#opts.maxBytes) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#remove(oldest);
    }
  }

  /**
   * The controller's entry point: a hit returns the cached result without a checkout; a miss checks out,
   * renders and stores. For a chart of a Helm repository, `resolveChart` gives the version targetRevision
   * resolves to now (the key), and no tree hash is read.
   */
  async render(req: Omit<RenderRequest, "checkoutDir">, io: {
    treeHash: TreeHash;
    checkout: () => Promise<string>;
    render: (req: RenderRequest) => Promise<RenderResult>;
    resolveChart?: () => Promise<string>;
    /** Render again even when a cached result would do (a hard refresh); the new result replaces it. */
    fresh?: boolean;
  }): Promise<RenderResult & { cacheHit: boolean }> {
    const chartVersion = req.source.chart && io.resolveChart ? await io.resolveChart() : undefined;
    const treeHash: TreeHash = req.source.chart ? async () => "" : io.treeHash;
    const params = renderCacheKey(req, chartVersion);
    const cached = io.fresh ? undefined : await this.get(params, treeHash);
    if (cached) return { ...cached, cacheHit: true };
    const result = await io.render({ ...req, checkoutDir: req.source.chart ? undefined : await io.checkout() });
    await this.set(params, result, treeHash);
    return { ...result, cacheHit: false };
  }

  clear(): void {
    this.#entries.clear();
    this.#variants.clear();
    this.#bytes = 0;
  }

  #remove(full: string): void {
    const entry = this.#entries.get(full);
    if (!entry) return;
    this.#entries.delete(full);
    this.#bytes -= entry.bytes;
    const variants = this.#variants.get(entry.params);
    if (variants) {
      const left = variants.filter((k) => k !== full);
      if (left.length) this.#variants.set(entry.params, left); else this.#variants.delete(entry.params);
    }
  }

  #count(hit: boolean): void {
    if (hit) this.#hits++; else this.#misses++;
    this.#opts.onLookup?.(hit);
  }
}
