// Repository credentials from Secrets in Tack's namespace, in Argo CD's layout: a `repository` Secret
// (label tack.dev/secret-type: repository) names one repository by its exact URL; a `repo-creds` Secret
// (label tack.dev/secret-type: repo-creds) is a template whose `url` is a prefix, for every repository under
// it. An exact `repository` match wins; among templates, the longest prefix wins. Fields: `url`, `username`,
// `password` (a personal access token goes here too, as `token` is read as a password), `bearerToken`; for
// HTTPS, `tlsClientCertData` and `tlsClientCertKey` (a client certificate), `insecure: "true"` (no server
// certificate verification) and `caData` (a CA trusted in addition to the defaults; Flux's `ca.crt` is read
// too, so a Secret written for Flux works unchanged). The PEMs are checked where they are used, in git/, so a
// bad one becomes a condition on the Application rather than a Secret silently ignored.
import type { KubeObject } from "../api/index.ts";
import { Label } from "../api/index.ts";
import type { Informer } from "../cluster/index.ts";
import { normalizeRepoURL, type RepoCredentials } from "../git/index.ts";

type RepoTls = NonNullable<RepoCredentials["tls"]>;

/** The secret-type label values read as repository credentials. */
export const CREDENTIAL_SECRET_TYPES = ["repository", "repo-creds"] as const;

function field(secret: KubeObject, name: string): string | undefined {
  const data = secret.data as Record<string, string> | undefined;
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (data?.[name] !== undefined) return Buffer.from(data[name], "base64").toString("utf8");
  return stringData?.[name];
}

// Go's strconv.ParseBool, which Argo CD reads `insecure` with, minus its "false" spellings (absent = false).
const TRUE = /^(1|t|true)$/i;

function credentialsOf(secret: KubeObject): RepoCredentials {
  const username = field(secret, "username");
  const password = field(secret, "password") ?? field(secret, "token");
  const bearerToken = field(secret, "bearerToken");
  const tls: RepoTls = {};
  const caData = field(secret, "caData") ?? field(secret, "ca.crt");
  const certData = field(secret, "tlsClientCertData");
  const keyData = field(secret, "tlsClientCertKey");
  if (caData) tls.caData = caData;
  if (certData) tls.certData = certData;
  if (keyData) tls.keyData = keyData;
  if (TRUE.test(field(secret, "insecure")?.trim() ?? "")) tls.insecure = true;
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(bearerToken ? { bearerToken } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
  };
}

/** Pure choice among credential Secrets for a repository URL (see the header for the rules). */
export function pickCredentials(secrets: Iterable<KubeObject>, repoURL: string): RepoCredentials | undefined {
  const wanted = normalizeRepoURL(repoURL);
  let template: { prefix: string; secret: KubeObject } | undefined;
  for (const secret of secrets) {
    const url = field(secret, "url");
    if (!url) continue;
    const type = secret.metadata.labels?.[Label.SecretType];
    if (type === "repository" && normalizeRepoURL(url) === wanted) return credentialsOf(secret);
    if (type !== "repo-creds") continue;
    const prefix = url.trim().replace(/\/+$/, "");
    const matches = repoURL.startsWith(prefix) || wanted.startsWith(normalizeRepoURL(prefix));
    if (matches && (!template || prefix.length > template.prefix.length)) template = { prefix, secret };
  }
  return template ? credentialsOf(template.secret) : undefined;
}

export function repoCredentials(secrets: Informer, repoURL: string): RepoCredentials | undefined {
  return pickCredentials(secrets.list(), repoURL);
}
