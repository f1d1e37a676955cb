// Errors of the `tack app` commands, each carrying its exit code: 2 for usage and input problems (a bad
// flag, a missing kubeconfig, an unknown history id), 1 for everything else (not found, forbidden, an
// unreachable API server, a failed sync, a wait that timed out). Messages say what to do next.
import { KubeApiError, KubeConnectionError } from "../../cluster/index.ts";

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

export class UsageError extends CliError {
  constructor(message: string) { super(message, 2); }
}

/** What the failed request tried to do, in RBAC words, for the message. */
export interface Attempt {
  verb: "get" | "list" | "watch" | "create" | "patch" | "update" | "delete";
  /** Plural with group, as in RBAC and `kubectl auth can-i`: "applications.tack.dev", "secrets". */
  resource: string;
  namespace?: string;
  name?: string;
}

/** Turns an API or connection error into a message that names the action and the way forward. */
export function explain(err: unknown, attempt: Attempt, server?: string): CliError {
  if (err instanceof CliError) return err;
  const where = attempt.namespace ? ` in namespace '${attempt.namespace}'` : "";
  const target = `${attempt.resource}${attempt.name ? ` '${attempt.name}'` : ""}`;
  if (err instanceof KubeApiError) {
    const said = err.message.replace(/^(GET|PATCH|POST|PUT|DELETE) \S+: /, "");
    if (err.status === 403) {
      const can = `kubectl auth can-i ${attempt.verb} ${attempt.resource}${attempt.namespace ? ` -n ${attempt.namespace}` : ""}`;
      return new CliError(`forbidden: you may not ${attempt.verb} ${target}${where} (${said}).\n` +
        `Ask a cluster admin for a Role and RoleBinding granting '${attempt.verb}' on ${attempt.resource}; check with: ${can}`, 1, { cause: err });
    }
    if (err.status === 401) {
      return new CliError(`the API server rejected your credentials (401 Unauthorized) while trying to ${attempt.verb} ${target}${where}.\n` +
        "Check the user of your kubeconfig's current context (kubectl config view --minify) and renew expired tokens or certificates.", 1, { cause: err });
    }
    if (err.status === 404 && attempt.resource === "applications.tack.dev" && !attempt.name) {
      return new CliError("the API server does not serve applications.tack.dev: are Tack's CRDs installed? (kubectl apply -k deploy/ installs them)", 1, { cause: err });
    }
    return new CliError(`could not ${attempt.verb} ${target}${where}: ${said}`, 1, { cause: err });
  }
  if (err instanceof KubeConnectionError) {
    return new CliError(`cannot reach the API server${server ? ` at ${server}` : ""}: ${err.message.replace(/^(GET|PATCH|POST|PUT|DELETE) \S+: /, "")}.\n` +
      "Is the cluster running, and is your kubeconfig's current context the right one? (kubectl config current-context)", 1, { cause: err });
  }
  return new CliError(err instanceof Error ? err.message : String(err), 1, { cause: err });
}

export function notFound(namespace: string, name: string): CliError {
  return new CliError(`application '${name}' not found in namespace '${namespace}' (tack app list -n ${namespace})`, 1);
}
