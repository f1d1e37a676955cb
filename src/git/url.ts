// Repository URLs: the one spelling used to match Secrets and webhooks, and the check that keeps Tack on
// the transport it supports (isomorphic-git speaks smart HTTP only).

import { createHash } from "node:crypto";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { redactUrlCredentials } from "../redact.ts";

// user@host:path, the scp-like form ssh accepts without a scheme.
const SCP_LIKE = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.*)$/;

/**
 * Lower-case scheme and host, no credentials, default port, query or fragment, no trailing "/" or ".git".
 * Two spellings of one repository give the same string; the path keeps its case (most servers are
 * case-sensitive there).
 */
export function normalizeRepoURL(url: string): string {
  const input = url.trim();
  let parsed: URL | undefined;
  if (URL.canParse(input)) {
    parsed = new URL(input);
  } else {
    const scp = SCP_LIKE.exec(input);
    if (scp?.[1] !== undefined && URL.canParse(`ssh://${scp[1]}/${scp[2] ?? ""}`)) {
      parsed = new URL(`ssh://${scp[1]}/${(scp[2] ?? "").replace(/^\/+/, "")}`);
    }
  }
  if (!parsed || !parsed.host) return stripSuffixes(input);
  // Only http(s) and other "special" schemes get their host lower-cased by URL; ssh:// does not.
  return stripSuffixes(`${parsed.protocol}//${parsed.host.toLowerCase()}${parsed.pathname}`);
}

function stripSuffixes(url: string): string {
  let out = url.replace(/\/+$/, "");
  if (out.toLowerCase().endsWith(".git")) out = out.slice(0, -4);
  return out.replace(/\/+$/, "");
}

/** The URL as it may appear in messages and logs: credentials masked. */
export function displayURL(url: string): string {
  return redactUrlCredentials(url.trim());
}

export interface ParsedRepoURL {
  /** What isomorphic-git is given: the URL without userinfo (credentials go through onAuth only). */
  readonly fetchURL: string;
  readonly normalized: string;
  readonly display: string;
  /** Credentials found in the URL's userinfo, used when no explicit credentials are given. */
  readonly urlCredentials?: { username: string; password: string };
}

/** Accepts http(s) URLs only; anything else is a spec error that retrying cannot fix. */
export function parseRepoURL(url: string): ParsedRepoURL {
  const input = url.trim();
  const display = displayURL(input);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input)?.[1]?.toLowerCase();
  if (scheme === "ssh" || scheme === "git+ssh" || (scheme === undefined && SCP_LIKE.test(input))) {
    throw new ComparisonError(
      ErrorReason.InvalidSpec,
      `repository ${display}: SSH URLs are not supported: use an HTTPS URL`,
      { terminal: true },
    );
  }
  if ((scheme !== "http" && scheme !== "https") || !URL.canParse(input)) {
    throw new ComparisonError(
      ErrorReason.InvalidSpec,
      `repository '${display}' is not a valid repository URL: use an HTTPS URL such as https://host/org/repo.git`,
      { terminal: true },
    );
  }
  const parsed = new URL(input);
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  parsed.hash = "";
  const fetchURL = parsed.href.replace(/\/+$/, "");
  return {
    fetchURL,
    normalized: normalizeRepoURL(input),
    display,
    ...(username || password ? { urlCredentials: { username, password } } : {}),
  };
}

/** A readable, collision-free directory name for a repository's object store and checkouts. */
export function repoDirName(normalized: string): string {
  const readable = normalized
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._]+/, "")
    .slice(0, 80);
  const hash = createHash("sha256").update(normalized).digest("hex").slice(0, 12);
  return `${readable || "repo"}-${hash}`;
}
