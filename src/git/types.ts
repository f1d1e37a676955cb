// The git module's public types, in a file of their own: the HTTP client needs the TLS settings and the repo
// cache needs the HTTP client, so the types cannot live with either without an import cycle.
import type { Logger } from "pino";

export interface RepoCredentials {
  username?: string;
  password?: string;
  bearerToken?: string;
  tls?: RepoTls;
}

/** TLS settings of a repository's credentials (PEM text, as in the Secret). */
export interface RepoTls {
  /** CA certificates trusted in addition to Node's defaults. */
  caData?: string;
  /** Client certificate (and any intermediates) for mutual TLS, with its unencrypted private key. */
  certData?: string;
  keyData?: string;
  /** Skip verification of the server's certificate. */
  insecure?: boolean;
}

export interface GitRequestEvent {
  repo: string;
  type: "ls-remote" | "fetch" | "checkout";
  durationMs: number;
  ok: boolean;
}

export interface RepoCacheOptions {
  cacheDir: string;
  /** Deadline of one ref listing or fetch, all HTTP round trips included. Default 60 s. */
  fetchTimeoutMs?: number;
  /** How long a resolved ref is reused without asking the server; default 0 = ask every time but dedupe concurrent calls. */
  lsRemoteTtlMs?: number;
  /** Checkout directories kept on disk (least recently used beyond this are removed). Default 64. */
  maxCheckouts?: number;
  /** A checkout handed out this recently is never evicted, so a renderer is not pulled from under. Default 60 s. */
  checkoutGraceMs?: number;
  /** Cap on the bytes one ref listing or fetch may download. Default 1 GiB. */
  maxFetchBytes?: number;
  onRequest?: (e: GitRequestEvent) => void;
  logger?: Logger;
}
