// Turns what isomorphic-git, the HTTP client and the file system throw into a ComparisonError whose reason
// tells the user what to fix. Only the repository's display URL, the revision and fixed phrases reach the
// message; text from the underlying error is passed through redaction first, because servers and proxies
// may echo URLs (and credentials in them) back.

import { ComparisonError, ErrorReason, TackError, errorMessage } from "../errors.ts";
import { redactSecrets } from "../redact.ts";

export interface ErrorContext {
  /** The repository URL as shown to users (credentials already masked). */
  readonly repo: string;
  readonly revision?: string;
  /** What was being done, e.g. "listing refs", "fetching". */
  readonly action: string;
  /** Secret values to mask in any text taken from the underlying error. */
  readonly secrets: readonly string[];
  /** Set when the operation ran with credentials: an auth failure then means "wrong", not "missing". */
  readonly hadCredentials: boolean;
  readonly timeoutMs?: number;
  /** Set when the credentials carried a CA: an unknown authority then means "the wrong CA", not "no CA". */
  readonly hadCustomCa?: boolean;
  /** Set when the credentials carried a client certificate. */
  readonly hadClientCert?: boolean;
}

/** Thrown by the HTTP client when a response exceeds the configured size cap. */
export class FetchTooLargeError extends Error {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`response larger than ${limitBytes} bytes`);
    this.name = "FetchTooLargeError";
    this.limitBytes = limitBytes;
  }
}

/**
 * Thrown by the HTTP client when the TLS material of a repository's credentials cannot be used. The message
 * names the Secret field and the problem only: never any of the PEM text.
 */
export class TlsConfigError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field} ${problem}`);
    this.name = "TlsConfigError";
    this.field = field;
  }
}

// The server's certificate chain does not lead to a trusted root: the fix is a CA in the repository Secret.
const UNKNOWN_AUTHORITY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
]);

// The server ended the handshake over our client certificate (or its absence). With TLS 1.3 the client sees this
// only after its handshake is done, as an alert on the first read, so it arrives as a plain socket error code.
const CLIENT_CERT_ALERTS = new Set([
  "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
  "ERR_SSL_TLSV1_ALERT_ACCESS_DENIED",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED",
]);

const CLOSED_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "server did not answer in time",
  UND_ERR_BODY_TIMEOUT: "server stopped sending data",
  UND_ERR_SOCKET: "connection closed by the server",
  CERT_HAS_EXPIRED: "TLS certificate has expired",
  CERT_NOT_YET_VALID: "TLS certificate is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate does not match the host name",
};

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  data?: unknown;
}

/** The error and its causes, outermost first (bounded: cause chains can be cyclic). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let cur: unknown = err;
  while (cur !== null && typeof cur === "object" && out.length < 8 && !out.includes(cur as ErrorLike)) {
    out.push(cur as ErrorLike);
    cur = (cur as ErrorLike).cause;
  }
  return out;
}

function httpStatus(err: ErrorLike): number | undefined {
  if (err.code !== "HttpError" || typeof err.data !== "object" || err.data === null) return undefined;
  const status = (err.data as { statusCode?: unknown }).statusCode;
  return typeof status === "number" ? status : undefined;
}

export function classifyGitError(err: unknown, ctx: ErrorContext): TackError {
  if (err instanceof TackError) return err;
  const errors = chain(err);
  const at = ctx.revision !== undefined ? ` (revision '${ctx.revision}')` : "";
  const make = (reason: ErrorReason, message: string, terminal = false): ComparisonError =>
    new ComparisonError(reason, message, { cause: err, terminal });

  for (const e of errors) {
    if (e.name === "TimeoutError" || e.name === "AbortError") {
      const limit = ctx.timeoutMs !== undefined ? ` after ${ctx.timeoutMs} ms` : "";
      return make(
        ErrorReason.RepositoryUnreachable,
        `repository ${ctx.repo} is unreachable: ${ctx.action} it timed out${limit}${at}`,
      );
    }
    if (e instanceof FetchTooLargeError) {
      return make(
        ErrorReason.GitError,
        `${ctx.action} ${ctx.repo}${at} stopped: the server sent more than ${e.limitBytes} bytes (raise the fetch size limit if the repository really is that large)`,
      );
    }
    const status = httpStatus(e);
    if (status === 401 || status === 403) {
      const hint = ctx.hadCredentials
        ? "the configured credentials were rejected"
        : "the repository needs credentials and none are configured for it";
      return make(
        ErrorReason.RepositoryAuthFailed,
        `authentication to ${ctx.repo} failed (HTTP ${status})${at}: ${hint}`,
      );
    }
    if (status === 404) {
      return make(
        ErrorReason.GitError,
        `repository ${ctx.repo} was not found (HTTP 404)${at}: check the URL${ctx.hadCredentials ? "" : ", or configure credentials if it is private"}`,
      );
    }
    if (status !== undefined) {
      return make(ErrorReason.GitError, `${ctx.action} ${ctx.repo}${at} failed: the server answered HTTP ${status}`);
    }
    if (e.code === "SmartHttpError") {
      return make(
        ErrorReason.GitError,
        `${ctx.repo} did not answer as a git smart-HTTP server${at}: check the URL (it must point at the repository itself)`,
      );
    }
    if (e.message === "bad port") {
      // Node's fetch refuses the Fetch standard's "bad ports" (e.g. 9, 25, 6000) without connecting.
      return make(
        ErrorReason.RepositoryUnreachable,
        `repository ${ctx.repo} is unreachable: its port is on the Fetch standard's list of blocked ports; serve it on another port${at}`,
      );
    }
    if (e instanceof TlsConfigError) {
      return make(ErrorReason.GitError, `repository ${ctx.repo}: ${e.message}${at}`);
    }
    if (typeof e.code === "string" && UNKNOWN_AUTHORITY_CODES.has(e.code)) {
      return make(ErrorReason.RepositoryUnreachable, `repository ${ctx.repo} is unreachable: ${unknownAuthority(e.code, ctx)}${at}`);
    }
    if (typeof e.code === "string" && CLIENT_CERT_ALERTS.has(e.code)) {
      const hint = ctx.hadClientCert
        ? "the server rejected the TLS client certificate (check that tlsClientCertData is signed by a CA the server trusts and has not expired)"
        : "the server requires a TLS client certificate: set tlsClientCertData and tlsClientCertKey in the repository Secret";
      return make(ErrorReason.RepositoryAuthFailed, `authentication to ${ctx.repo} failed (${e.code})${at}: ${hint}`);
    }
    if (typeof e.code === "string" && e.code in NETWORK_CODES) {
      // Some servers (Node's among them) check a client certificate after the handshake and just hang up.
      const hint = ctx.hadClientCert && CLOSED_CODES.has(e.code) ? " (it may have refused the TLS client certificate)" : "";
      return make(
        ErrorReason.RepositoryUnreachable,
        `repository ${ctx.repo} is unreachable: ${NETWORK_CODES[e.code]}${hint}${at}`,
      );
    }
  }
  const detail = redactSecrets(errorMessage(err), ctx.secrets);
  return make(ErrorReason.GitError, `${ctx.action} ${ctx.repo}${at} failed: ${detail}`);
}

function unknownAuthority(code: string, ctx: ErrorContext): string {
  const what = code === "DEPTH_ZERO_SELF_SIGNED_CERT"
    ? "TLS certificate is self-signed"
    : "TLS certificate signed by an unknown authority";
  const fix = ctx.hadCustomCa
    ? "the caData of the repository Secret does not include the CA that signed the server's certificate"
    : code === "DEPTH_ZERO_SELF_SIGNED_CERT"
      ? "add the server's certificate as caData in the repository Secret"
      : "add the CA as caData in the repository Secret";
  return `${what} (${code}): ${fix}`;
}

export function revisionNotFound(repo: string, revision: string): ComparisonError {
  return new ComparisonError(
    ErrorReason.RevisionNotFound,
    `revision '${revision}' not found in ${repo}: it is neither a branch, a tag nor a commit`,
  );
}
