// Which credentials a git operation runs with, how they reach the server, and what an error may say about them.
import { createHash } from "node:crypto";
import type { GitAuth } from "isomorphic-git";
import type { ErrorContext } from "./errors.ts";
import { tlsFingerprint } from "./http-client.ts";
import type { RepoState } from "./store.ts";
import type { RepoCredentials } from "./types.ts";

/**
 * The credentials an operation runs with. The URL's user:pass@ stands in when none are given, and also when
 * the given ones carry only TLS settings (a Secret holding just a CA must not drop the URL's login).
 */
export function effectiveCredentials(repo: RepoState, credentials: RepoCredentials | undefined): RepoCredentials | undefined {
  const fromURL = repo.url.urlCredentials;
  if (!credentials) return fromURL;
  const hasLogin = credentials.username !== undefined || credentials.password !== undefined || !!credentials.bearerToken;
  return hasLogin || !fromURL ? credentials : { ...fromURL, ...credentials };
}

// TLS settings are part of the key: a client certificate is a credential, and a listing that needed a custom CA
// must not answer a caller that would have failed verification.
export function credentialKey(creds: RepoCredentials | undefined): string {
  if (!creds) return "anonymous";
  return createHash("sha256")
    .update(JSON.stringify([creds.username ?? "", creds.password ?? "", creds.bearerToken ?? "", creds.tls ? tlsFingerprint(creds.tls) : ""]))
    .digest("hex");
}

/** isomorphic-git's onAuth for the operation: basic auth, or a bearer token as an Authorization header. */
export function authFor(repo: RepoState, credentials: RepoCredentials | undefined): () => GitAuth | undefined {
  const creds = effectiveCredentials(repo, credentials);
  // Answering only the first 401 (isomorphic-git asks again through onAuthFailure, which we do not pass)
  // turns wrong credentials into one HTTP 401 error instead of a retry loop.
  return () => {
    if (!creds) return undefined;
    if ("bearerToken" in creds && creds.bearerToken) {
      return { headers: { Authorization: `Bearer ${creds.bearerToken}` } };
    }
    if (creds.password === undefined && creds.username === undefined) return undefined;
    return { username: creds.username || "git", password: creds.password ?? "" };
  };
}

/** What an error of the operation may say: the secrets to mask and which kinds of credentials were in play. */
/** The values of a credential that must never appear in a message: the password or token and the client key. */
export function credentialSecrets(creds: RepoCredentials | undefined): string[] {
  return [creds?.password, creds?.bearerToken, creds?.tls?.keyData].filter((s): s is string => typeof s === "string" && s.length > 0);
}

export function errorContext(
  repo: RepoState,
  action: string,
  timeoutMs: number,
  credentials?: RepoCredentials,
  revision?: string,
): ErrorContext {
  const creds = effectiveCredentials(repo, credentials);
  const login = [creds?.password, creds?.bearerToken].filter((s): s is string => typeof s === "string" && s.length > 0);
  return {
    repo: repo.url.display,
    action,
    secrets: credentialSecrets(creds),
    // An HTTP 401 answers the login, not the client certificate, so only the login counts here.
    hadCredentials: login.length > 0,
    hadCustomCa: !!creds?.tls?.caData,
    hadClientCert: !!creds?.tls?.certData,
    timeoutMs,
    ...(revision !== undefined ? { revision } : {}),
  };
}
