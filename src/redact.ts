// Credentials must never reach logs, status, Events or metrics. Anything that builds a message from text
// that may contain a URL or a secret passes it through here.

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s:]+(?::[^/@\s]*)?@/gi;

/** Removes user:password@ from every URL in the text. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, "$1***@");
}

/** Replaces each known secret value (longer than 3 characters, to avoid masking common words) with ***. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = redactUrlCredentials(text);
  for (const secret of secrets) {
    if (secret.length > 3) out = out.split(secret).join("***");
  }
  return out;
}
