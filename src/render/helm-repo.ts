// Helm chart repositories over HTTP(S): index.yaml (cached for a while), version resolution (exact or a semver
// range, as `helm pull --version`), and chart archives downloaded once into a cache keyed by repository,
// name and version, checked against the index's digest. Sizes and times are bounded; credentials are sent
// as Basic auth and never appear in an error.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { load } from "js-yaml";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { redactSecrets } from "../redact.ts";
import { maxSatisfying } from "./semver.ts";

export interface HelmRepoCredentials { username?: string; password?: string }

export interface HelmRepositoriesOptions {
  /** Where chart archives are kept (one file per chart version). */
  cacheDir: string;
  /** How long an index.yaml is reused before it is fetched again. Default 3 minutes. */
  indexTtlMs?: number;
  timeoutMs?: number;
  maxIndexBytes?: number;
  maxChartBytes?: number;
  credentials?: (repoURL: string) => HelmRepoCredentials | undefined;
  fetch?: typeof fetch;
}

interface IndexEntry { version?: string; urls?: string[]; digest?: string }
interface CachedIndex { fetchedAt: number; entries: Record<string, IndexEntry[]> }

export interface ResolvedChart { name: string; version: string; url: string; digest?: string }

export class HelmRepositories {
  readonly #opts: Required<Omit<HelmRepositoriesOptions, "credentials" | "fetch">> & Pick<HelmRepositoriesOptions, "credentials">;
  readonly #fetch: typeof fetch;
  readonly #indexes = new Map<string, CachedIndex>();
  readonly #inflight = new Map<string, Promise<unknown>>();

  constructor(options: HelmRepositoriesOptions) {
    this.#opts = {
      cacheDir: options.cacheDir, indexTtlMs: options.indexTtlMs ?? 180_000, timeoutMs: options.timeoutMs ?? 60_000,
      maxIndexBytes: options.maxIndexBytes ?? 64 << 20, maxChartBytes: options.maxChartBytes ?? 32 << 20, credentials: options.credentials,
    };
    this.#fetch = options.fetch ?? fetch;
  }

  credentialsFor(repoURL: string): HelmRepoCredentials | undefined {
    return this.#opts.credentials?.(repoURL);
  }

  #secrets(repoURL: string): string[] {
    const c = this.credentialsFor(repoURL);
    return [c?.password, c?.username && c.password ? `${c.username}:${c.password}` : undefined].filter((s): s is string => !!s);
  }

  async #get(url: string, repoURL: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    const creds = this.credentialsFor(repoURL);
    const headers: Record<string, string> = { "User-Agent": "tack" };
    if (creds?.username !== undefined && creds.password !== undefined && sameOrigin(url, repoURL)) {
      headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    const timeout = AbortSignal.timeout(this.#opts.timeoutMs);
    const res = await this.#fetch(url, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: "follow" })
      .catch((err: unknown) => {
        throw new ComparisonError(ErrorReason.RepositoryUnreachable,
          redactSecrets(`fetching ${url}: ${timeout.aborted ? `no answer within ${this.#opts.timeoutMs} ms` : (err as Error).message}`, this.#secrets(repoURL)));
      });
    if (res.status === 401 || res.status === 403) {
      throw new ComparisonError(ErrorReason.RepositoryAuthFailed, redactSecrets(`fetching ${url}: HTTP ${res.status} (check the repository's credentials)`, this.#secrets(repoURL)));
    }
    if (!res.ok) throw new ComparisonError(ErrorReason.RepositoryUnreachable, redactSecrets(`fetching ${url}: HTTP ${res.status}`, this.#secrets(repoURL)));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > maxBytes) {
        throw new ComparisonError(ErrorReason.ManifestTooLarge, redactSecrets(`fetching ${url}: larger than ${maxBytes} bytes`, this.#secrets(repoURL)), { terminal: true });
      }
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    return Buffer.concat(chunks);
  }

  async #index(repoURL: string, signal?: AbortSignal): Promise<CachedIndex> {
    const cached = this.#indexes.get(repoURL);
    if (cached && Date.now() - cached.fetchedAt < this.#opts.indexTtlMs) return cached;
    const key = `index:${repoURL}`;
    const running = this.#inflight.get(key) as Promise<CachedIndex> | undefined;
    if (running) return running;
    const p = (async () => {
      const url = `${repoURL.replace(/\/+$/, "")}/index.yaml`;
      const body = await this.#get(url, repoURL, this.#opts.maxIndexBytes, signal);
      let doc: unknown;
      try {
        doc = load(body.toString("utf8"), { maxAliases: 100 });
      } catch (err) {
        throw new ComparisonError(ErrorReason.RenderError, redactSecrets(`${url}: invalid index.yaml: ${(err as Error).message.split("\n", 1)[0]}`, this.#secrets(repoURL)));
      }
      const entries = (doc as { entries?: Record<string, IndexEntry[]> } | null)?.entries;
      if (!entries || typeof entries !== "object") {
        throw new ComparisonError(ErrorReason.RenderError, redactSecrets(`${url}: not a Helm repository index (no entries)`, this.#secrets(repoURL)));
      }
      const index = { fetchedAt: Date.now(), entries };
      this.#indexes.set(repoURL, index);
      return index;
    })().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  /** Picks the chart version for `constraint` (exact, range, or empty for the newest release). */
  async resolve(repoURL: string, chart: string, constraint: string, signal?: AbortSignal): Promise<ResolvedChart> {
    const index = await this.#index(repoURL, signal);
    const versions = index.entries[chart];
    const safeRepo = redactSecrets(repoURL, this.#secrets(repoURL));
    if (!Array.isArray(versions) || versions.length === 0) {
      throw new ComparisonError(ErrorReason.RevisionNotFound, `chart '${chart}' is not in the Helm repository ${safeRepo}`, { terminal: true });
    }
    let picked: string | undefined;
    try {
      picked = maxSatisfying(versions.map((v) => v.version ?? "").filter(Boolean), constraint === "HEAD" ? "" : constraint);
    } catch (err) {
      throw new ComparisonError(ErrorReason.InvalidSpec, `targetRevision '${constraint}' is neither a chart version nor a semver range: ${(err as Error).message}`, { terminal: true });
    }
    const entry = versions.find((v) => v.version === picked);
    if (!picked || !entry) {
      throw new ComparisonError(ErrorReason.RevisionNotFound,
        `no version of chart '${chart}' in ${safeRepo} matches '${constraint || "*"}' (known: ${versions.slice(0, 10).map((v) => v.version).join(", ")})`, { terminal: true });
    }
    const first = entry.urls?.[0];
    if (!first) throw new ComparisonError(ErrorReason.RenderError, `chart '${chart}' ${picked} in ${safeRepo} has no download URL`);
    return { name: chart, version: picked, url: new URL(first, `${repoURL.replace(/\/+$/, "")}/`).toString(), digest: entry.digest };
  }

  /** The chart archive's path in the cache, downloading it once. */
  async fetchChart(repoURL: string, chart: ResolvedChart, signal?: AbortSignal): Promise<string> {
    const dir = join(this.#opts.cacheDir, createHash("sha256").update(repoURL).digest("hex").slice(0, 20));
    const file = join(dir, `${chart.name}-${chart.version}.tgz`);
    const have = await readFile(file).catch(() => undefined);
    if (have && (!chart.digest || sha256(have) === chart.digest)) return file;
    const key = `chart:${file}`;
    const running = this.#inflight.get(key) as Promise<string> | undefined;
    if (running) return running;
    const p = (async () => {
      const body = await this.#get(chart.url, repoURL, this.#opts.maxChartBytes, signal);
      if (chart.digest && sha256(body) !== chart.digest) {
        throw new ComparisonError(ErrorReason.RenderError,
          `chart '${chart.name}' ${chart.version}: the archive's sha256 does not match the repository index's digest`);
      }
      await mkdir(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
      await writeFile(tmp, body);
      await rename(tmp, file);
      return file;
    })().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function sameOrigin(a: string, b: string): boolean {
  try { return new URL(a).origin === new URL(b).origin; } catch { return false; }
}
