// What every `tack app` command starts from: the user's kubeconfig (as kubectl finds it), the namespace
// the Applications live in, and a small client for the Application resource whose errors name the action
// and the next step.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { Application } from "../../api/index.ts";
import { API_GROUP, API_VERSION } from "../../api/index.ts";
import { KubeApiError, KubeClient } from "../../cluster/index.ts";
import { flag, type Parsed } from "./args.ts";
import { CliError, explain, notFound, type Attempt } from "./errors.ts";

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Colour and live progress only on a terminal. */
  stdoutIsTTY: boolean;
  /** Asks a yes/no question; undefined when stdin is not a terminal (then nothing is asked). */
  confirm?: (question: string) => Promise<boolean>;
  /** Injected by tests to make waits fast; default 1000 ms. */
  pollIntervalMs?: number;
}

export const APPS = "applications.tack.dev";
const BASE = `/apis/${API_GROUP}/${API_VERSION}`;

export interface Session {
  client: KubeClient;
  kubeConfig: KubeConfig;
  namespace: string;
  /** The kubeconfig user, recorded as operation.initiatedBy.username. */
  username: string;
  apps: AppClient;
}

/**
 * The kubeconfig as kubectl finds it: --kubeconfig, else KUBECONFIG (a list, merged), else ~/.kube/config,
 * else the in-cluster service account. Missing files are a usage error naming what was tried.
 */
export function loadKubeConfig(parsed: Parsed, env: CliIO["env"]): KubeConfig {
  const kc = new KubeConfig();
  const explicit = flag(parsed, "kubeconfig");
  const load = (file: string): KubeConfig => {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new CliError(`cannot read kubeconfig '${file}': ${(err as Error).message}`, 2, { cause: err });
    }
    return one;
  };
  if (explicit) {
    if (!existsSync(explicit)) throw new CliError(`kubeconfig '${explicit}' not found: pass --kubeconfig with an existing file, or set KUBECONFIG`, 2);
    kc.mergeConfig(load(explicit));
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter(Boolean);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) {
      throw new CliError(`KUBECONFIG names no existing file (${env.KUBECONFIG}): fix KUBECONFIG or pass --kubeconfig FILE`, 2);
    }
    // As kubectl: the first file to set a current context wins; every file contributes its clusters and users.
    let first = true;
    for (const file of present) {
      const one = load(file);
      kc.mergeConfig(one, !first && kc.getCurrentContext() !== "");
      if (!kc.getCurrentContext() && one.getCurrentContext()) kc.setCurrentContext(one.getCurrentContext());
      first = false;
    }
  } else {
    const home = join(env.HOME ?? homedir(), ".kube", "config");
    if (existsSync(home)) kc.mergeConfig(load(home));
    else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else throw new CliError(`no kubeconfig found (looked at KUBECONFIG, --kubeconfig and ${home}): set KUBECONFIG or pass --kubeconfig FILE`, 2);
  }
  const context = flag(parsed, "context");
  if (context) {
    if (!kc.getContextObject(context)) throw new CliError(`context '${context}' not found in the kubeconfig (kubectl config get-contexts lists them)`, 2);
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentContext() || !kc.getCurrentCluster()) {
    throw new CliError("the kubeconfig has no current context: choose one with kubectl config use-context NAME, or pass --context NAME", 2);
  }
  return kc;
}

/** The controller's namespace when TACK_NAMESPACE does not name another: the controller's own default. */
export const DEFAULT_CONTROLLER_NAMESPACE = "tack-system";

/** Where the controller runs, its repository Secrets live and, by default, its Applications. */
export function controllerNamespace(env: CliIO["env"]): string {
  return env.TACK_NAMESPACE || DEFAULT_CONTROLLER_NAMESPACE;
}

export function openSession(parsed: Parsed, io: CliIO): Session {
  const kubeConfig = loadKubeConfig(parsed, io.env);
  const client = new KubeClient(kubeConfig, { userAgent: "tack-cli" });
  // -n, else the controller's namespace, as argocd defaults to Argo CD's own. Not kubectl's rule (the context's
  // namespace, else "default"): that is "default" for most users, where no Application lives, so a first
  // `tack app list` would find nothing.
  const namespace = flag(parsed, "namespace") || controllerNamespace(io.env);
  const username = kubeConfig.getCurrentUser()?.name || "unknown";
  return { client, kubeConfig, namespace, username, apps: new AppClient(client) };
}

/** The Application resource, with errors explained. */
export class AppClient {
  readonly client: KubeClient;
  constructor(client: KubeClient) { this.client = client; }

  #path(namespace: string | undefined, name?: string): string {
    const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${BASE}${ns}/applications${name ? `/${encodeURIComponent(name)}` : ""}`;
  }

  async #call<T>(attempt: Attempt, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404 && attempt.name && attempt.namespace) {
        // A 404 naming the object means the app is missing; without details, the type itself is not served.
        const details = err.details as { name?: string } | undefined;
        if (details?.name === attempt.name) throw notFound(attempt.namespace, attempt.name);
        throw new CliError(`the API server does not serve ${APPS}: are Tack's CRDs installed? (kubectl apply -k deploy/ installs them)`, 1, { cause: err });
      }
      throw explain(err, attempt, this.client.server);
    }
  }

  async get(namespace: string, name: string): Promise<Application> {
    return this.#call({ verb: "get", resource: APPS, namespace, name },
      () => this.client.request<Application>({ method: "GET", path: this.#path(namespace, name) }));
  }

  /** namespace undefined: all namespaces. */
  async list(namespace: string | undefined, labelSelector?: string): Promise<Application[]> {
    const res = await this.#call({ verb: "list", resource: APPS, ...(namespace ? { namespace } : {}) },
      () => this.client.request<{ items?: Application[] }>({ method: "GET", path: this.#path(namespace), query: { labelSelector } }));
    return res.items ?? [];
  }

  async mergePatch(namespace: string, name: string, patch: Record<string, unknown>): Promise<Application> {
    return this.#call({ verb: "patch", resource: APPS, namespace, name }, () => this.client.request<Application>({
      method: "PATCH", path: this.#path(namespace, name), contentType: "application/merge-patch+json", body: patch,
    }));
  }

  async delete(namespace: string, name: string, propagationPolicy: "Foreground" | "Background"): Promise<void> {
    await this.#call({ verb: "delete", resource: APPS, namespace, name }, () => this.client.request({
      method: "DELETE", path: this.#path(namespace, name), body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy },
    }));
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
