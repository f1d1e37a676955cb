// isomorphic-git's HTTP client, on Node's fetch, so that every request of one git operation shares one
// AbortSignal (the operation's deadline also cuts a stalled body stream, which the bundled simple-get client
// cannot do) and response bodies are size-capped as they stream in.
//
// A repository with its own TLS settings (custom CA, client certificate, no verification) gets its own undici
// Agent as fetch's dispatcher: fetch has no other way to take per-request TLS options. The `undici` package is
// pinned to the version Node bundles, so the Agent speaks the same dispatcher protocol as the global fetch.

import { createHash, createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { getCACertificates } from "node:tls";
import type { GitHttpRequest, GitHttpResponse, HttpClient } from "isomorphic-git";
import { Agent, buildConnector } from "undici";
import { FetchTooLargeError, TlsConfigError } from "./errors.ts";
import type { RepoTls } from "./types.ts";

export interface HttpClientOptions {
  readonly signal: AbortSignal;
  /** Total response bytes allowed for the whole operation. */
  readonly maxBytes: number;
  /** TLS settings of the repository's credentials; without them the global dispatcher (Node's defaults) is used. */
  readonly tls?: RepoTls | undefined;
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  // Validated here, before any request, so bad PEMs fail the operation with a TlsConfigError and no network I/O.
  const tls = usesTls(opts.tls) ? { settings: opts.tls, key: tlsFingerprint(opts.tls) } : undefined;
  if (tls) tlsAgent(tls.settings, tls.key);
  let received = 0;
  const count = (n: number): void => {
    received += n;
    if (received > opts.maxBytes) throw new FetchTooLargeError(opts.maxBytes);
  };

  async function* capped(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      count(chunk.byteLength);
      yield chunk;
    }
  }

  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      opts.signal.throwIfAborted();
      const method = req.method ?? "GET";
      let payload: Buffer | undefined;
      if (req.body) {
        const parts: Uint8Array[] = [];
        for await (const part of req.body) parts.push(part);
        payload = Buffer.concat(parts);
      }
      const res = await fetch(req.url, {
        method,
        headers: req.headers ?? {},
        ...(payload ? { body: payload } : {}),
        signal: opts.signal,
        // Looked up per request: an Agent evicted from the cache mid-operation is closed, and a closed Agent
        // refuses new requests (the ones already running on it finish).
        ...(tls ? { dispatcher: tlsAgent(tls.settings, tls.key) } : {}),
        // Node's fetch drops Authorization on cross-origin redirects, so following them cannot leak credentials.
        redirect: "follow",
      }).catch((err: unknown) => {
        const alert = tlsAlerts.get((err as { cause?: object } | undefined)?.cause ?? {});
        throw alert ? new TypeError("fetch failed", { cause: alert }) : err;
      });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, key) => {
        headers[key] = value;
      });
      return {
        url: res.url,
        method,
        statusCode: res.status,
        statusMessage: res.statusText,
        headers,
        body: res.body ? capped(res.body) : emptyBody(),
      };
    },
  };
}

/** isomorphic-git reads every body as an async iterable of chunks: an empty response is one that yields none. */
async function* emptyBody(): AsyncGenerator<Uint8Array> {}

// ---- TLS -------------------------------------------------------------------------------------------------

/** Distinct TLS settings kept with an open connection pool; the least recently used beyond this is closed. */
const MAX_TLS_AGENTS = 64;
const agents = new Map<string, Agent>();

function usesTls(tls: RepoTls | undefined): tls is RepoTls {
  return !!tls && (!!tls.caData || !!tls.certData || !!tls.keyData || tls.insecure === true);
}

/** A digest of the settings: keys of caches that must tell them apart without holding another copy of the key. */
export function tlsFingerprint(tls: RepoTls): string {
  return createHash("sha256")
    .update(JSON.stringify([tls.caData ?? "", tls.certData ?? "", tls.keyData ?? "", tls.insecure === true]))
    .digest("hex");
}

function tlsAgent(tls: RepoTls, key: string): Agent {
  const cached = agents.get(key);
  if (cached) {
    agents.delete(key);
    agents.set(key, cached);
    return cached;
  }
  const agent = new Agent({ connect: alertKeepingConnector(tlsConnectOptions(tls)) });
  agents.set(key, agent);
  for (const [oldKey, old] of agents) {
    if (agents.size <= MAX_TLS_AGENTS) break;
    agents.delete(oldKey);
    old.close().catch(() => undefined);
  }
  return agent;
}

/** The TLS alert a server sent before closing, by the error undici reported in its place. */
const tlsAlerts = new WeakMap<object, Error>();

/**
 * undici's own connector, watching each socket for a TLS alert. With TLS 1.3 a server checks the client
 * certificate after the client's side of the handshake is done; its alert ("certificate required", "unknown
 * CA") reaches the socket just before the close, and undici then reports the close ("other side closed") and
 * drops the alert, which is the one thing that tells the user what to fix.
 */
function alertKeepingConnector(options: TlsConnectOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (target, callback) => {
    connect(target, (err, socket) => {
      if (err) {
        callback(err, null);
        return;
      }
      let alert: Error | undefined;
      socket.on("error", (e: Error & { code?: unknown }) => {
        if (alert) tlsAlerts.set(e, alert);
        else if (typeof e.code === "string" && e.code.startsWith("ERR_SSL_")) alert = e;
      });
      callback(null, socket);
    });
  };
}

export interface TlsConnectOptions {
  ca?: string[];
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

/**
 * undici's connect options for the settings, after checking each PEM (a TlsConfigError names the bad field).
 * A custom CA is added to Node's default CA list (bundled roots plus NODE_EXTRA_CA_CERTS and, when enabled,
 * the system store), because a `ca` option replaces that list: one Secret for a prefix may cover repositories
 * on public hosts too.
 */
export function tlsConnectOptions(tls: RepoTls): TlsConnectOptions {
  const options: TlsConnectOptions = { rejectUnauthorized: tls.insecure !== true };
  if (tls.caData) {
    certificates(tls.caData, "caData (or ca.crt)");
    options.ca = [...getCACertificates("default"), tls.caData];
  }
  if (tls.certData || tls.keyData) {
    if (!tls.certData) throw new TlsConfigError("tlsClientCertData", "is missing: tlsClientCertKey needs the certificate it belongs to");
    if (!tls.keyData) throw new TlsConfigError("tlsClientCertKey", "is missing: tlsClientCertData needs its private key");
    const [leaf] = certificates(tls.certData, "tlsClientCertData");
    if (!leaf!.checkPrivateKey(privateKey(tls.keyData))) {
      throw new TlsConfigError("tlsClientCertKey", "does not match the certificate in tlsClientCertData");
    }
    options.cert = tls.certData;
    options.key = tls.keyData;
  }
  return options;
}

// base64 has no "-", so a block cannot run into the next one.
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle, in order. */
function certificates(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE);
  if (!blocks) throw new TlsConfigError(field, "is not a valid PEM certificate: it has no BEGIN CERTIFICATE block");
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      const which = blocks.length > 1 ? ` (certificate ${i + 1} of ${blocks.length})` : "";
      throw new TlsConfigError(field, `is not a valid PEM certificate${which}`);
    }
  });
}

// PKCS#8 and the traditional OpenSSL format mark encryption in the text; OpenSSL's own error for a missing
// passphrase varies between versions ("interrupted or cancelled" in OpenSSL 3).
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,\s*ENCRYPTED/;

function privateKey(pem: string): KeyObject {
  if (ENCRYPTED_KEY.test(pem)) {
    throw new TlsConfigError("tlsClientCertKey", "is an encrypted private key: Tack needs it unencrypted");
  }
  try {
    return createPrivateKey(pem);
  } catch {
    throw new TlsConfigError("tlsClientCertKey", "is not a valid PEM private key");
  }
}
