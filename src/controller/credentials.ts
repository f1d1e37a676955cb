// Repository credentials from Secrets labelled tack.dev/secret-type=repository in Tack's namespace (the
// same layout as Argo CD's repository Secrets: url, username, password; or a token as the password).
import type { KubeObject } from "../api/index.ts";
import type { Informer } from "../cluster/index.ts";
import { normalizeRepoURL, type RepoCredentials } from "../git/index.ts";

function field(secret: KubeObject, name: string): string | undefined {
  const data = secret.data as Record<string, string> | undefined;
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (data?.[name] !== undefined) return Buffer.from(data[name], "base64").toString("utf8");
  return stringData?.[name];
}

/** The credentials of the Secret whose url matches the repoURL (normalised), if any. */
export function repoCredentials(secrets: Informer, repoURL: string): RepoCredentials | undefined {
  const wanted = normalizeRepoURL(repoURL);
  for (const secret of secrets.list()) {
    const url = field(secret, "url");
    if (!url || normalizeRepoURL(url) !== wanted) continue;
    const username = field(secret, "username");
    // A personal access token goes in as the basic-auth password (GitHub, GitLab, Gitea); bearerToken is sent
    // as an Authorization: Bearer header (Bitbucket Data Center), as in Argo CD's repository Secrets.
    const password = field(secret, "password") ?? field(secret, "token");
    const token = field(secret, "bearerToken");
    return {
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(token ? { bearerToken: token } : {}),
    };
  }
  return undefined;
}
