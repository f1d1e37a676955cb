// How each git operation runs: under the fetch deadline, over an HTTP client with the repository's TLS settings
// and the download cap, and reported (duration, outcome) to the logger and the onRequest callback.
import type { HttpClient } from "isomorphic-git";
import type { Logger } from "pino";
import { errorContext } from "./credentials.ts";
import type { ErrorContext } from "./errors.ts";
import { createHttpClient } from "./http-client.ts";
import type { RepoState } from "./store.ts";
import type { GitRequestEvent, RepoCredentials } from "./types.ts";

export interface GitOperationsOptions {
  readonly fetchTimeoutMs: number;
  readonly maxFetchBytes: number;
  readonly onRequest: ((e: GitRequestEvent) => void) | undefined;
  readonly log: Logger | undefined;
}

export class GitOperations {
  readonly log: Logger | undefined;
  readonly #fetchTimeoutMs: number;
  readonly #maxBytes: number;
  readonly #onRequest: ((e: GitRequestEvent) => void) | undefined;
  /** Repositories already warned about running without server certificate verification. */
  readonly #insecureWarned = new Set<string>();

  constructor(opts: GitOperationsOptions) {
    this.#fetchTimeoutMs = opts.fetchTimeoutMs;
    this.#maxBytes = opts.maxFetchBytes;
    this.#onRequest = opts.onRequest;
    this.log = opts.log;
  }

  /** Runs one timed network or disk operation, reports it, and gives it the fetch deadline. */
  async timed<T>(repo: RepoState, type: GitRequestEvent["type"], op: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const started = performance.now();
    let ok = false;
    try {
      const result = await op(AbortSignal.timeout(this.#fetchTimeoutMs));
      ok = true;
      return result;
    } finally {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const event: GitRequestEvent = { repo: repo.store.normalized, type, durationMs, ok };
      this.log?.debug(event, `git ${type}`);
      try {
        this.#onRequest?.(event);
      } catch (err) {
        this.log?.warn({ err }, "onRequest callback failed");
      }
    }
  }

  http(repo: RepoState, credentials: RepoCredentials | undefined, signal: AbortSignal): HttpClient {
    const tls = credentials?.tls;
    if (tls?.insecure && !this.#insecureWarned.has(repo.store.normalized)) {
      this.#insecureWarned.add(repo.store.normalized);
      this.log?.warn(
        { repo: repo.url.display },
        "TLS certificate verification is off for this repository (insecure: \"true\" in its Secret): anyone on the path can impersonate the server",
      );
    }
    return createHttpClient({ signal, maxBytes: this.#maxBytes, tls });
  }

  /** The context an error of this operation is classified with (see errorContext). */
  context(repo: RepoState, action: string, credentials?: RepoCredentials, revision?: string): ErrorContext {
    return errorContext(repo, action, this.#fetchTimeoutMs, credentials, revision);
  }
}
