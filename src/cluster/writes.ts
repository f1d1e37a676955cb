// Every write Tack makes to the API server: server-side apply (real and dry run), delete with a uid
// precondition, Application patches and status, and Events. Bodies are raw JSON.
import type { KubeObject } from "../api/index.ts";
import { API_GROUP, API_VERSION, FIELD_MANAGER } from "../api/index.ts";
import { KubeApiError, type KubeClient, type KubeRequest } from "./kube-client.ts";
import { resourcePath, type ResourceType } from "./discovery.ts";

export type PropagationPolicy = "Foreground" | "Background" | "Orphan";

export interface WriteOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
  /** false: unknown or duplicate fields are ignored (Validate=false); otherwise the server refuses them. */
  validate?: boolean;
}

function writeQuery(options: WriteOptions): Record<string, string | undefined> {
  return { dryRun: options.dryRun ? "All" : undefined, fieldValidation: options.validate === false ? "Ignore" : "Strict" };
}

const APPLICATIONS_PATH = `/apis/${API_GROUP}/${API_VERSION}`;

/** Refused before sending: this replica is not (or no longer) the leader. */
export class NotLeaderError extends Error {
  constructor() { super("not the leader: writes are refused until this replica leads again"); this.name = "NotLeaderError"; }
}

export class ClusterWriter {
  readonly #client: KubeClient;
  readonly #leadership: (() => AbortSignal) | undefined;

  /**
   * `leadership` returns the current term's signal: every write is refused once it aborts, and writes in
   * flight are cancelled, so a replica that lost its Lease stops writing at once.
   */
  constructor(client: KubeClient, options: { leadership?: () => AbortSignal } = {}) {
    this.#client = client;
    this.#leadership = options.leadership;
  }

  #request<T>(req: KubeRequest): Promise<T> {
    const term = this.#leadership?.();
    if (term?.aborted) return Promise.reject(new NotLeaderError());
    const signal = term && req.signal ? AbortSignal.any([term, req.signal]) : term ?? req.signal;
    return this.#client.request<T>({ ...req, signal });
  }

  /** Server-side apply with force: Tack's field manager takes the fields Git declares. Returns the result. */
  async apply(type: ResourceType, obj: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return this.#request<KubeObject>({
      method: "PATCH",
      path: resourcePath(type, obj.metadata.namespace, obj.metadata.name),
      query: { fieldManager: FIELD_MANAGER, force: true, ...writeQuery(options) },
      contentType: "application/apply-patch+yaml",
      body: obj,
      signal: options.signal,
    });
  }

  /** Replace=true: PUT over the live object (at its resourceVersion), or create it. */
  async replace(type: ResourceType, obj: KubeObject, live: KubeObject | undefined, options: WriteOptions = {}): Promise<KubeObject> {
    if (!live) return this.create(type, obj, options);
    return this.#request<KubeObject>({
      method: "PUT",
      path: resourcePath(type, obj.metadata.namespace, obj.metadata.name),
      query: { fieldManager: FIELD_MANAGER, ...writeQuery(options) },
      body: { ...obj, metadata: { ...obj.metadata, resourceVersion: live.metadata.resourceVersion } },
      signal: options.signal,
    });
  }

  /** ServerSideApply=false: a JSON merge patch of the manifest (fields removed from Git stay), or create. */
  async mergeUpdate(type: ResourceType, obj: KubeObject, live: KubeObject | undefined, options: WriteOptions = {}): Promise<KubeObject> {
    if (!live) return this.create(type, obj, options);
    return this.#request<KubeObject>({
      method: "PATCH",
      path: resourcePath(type, obj.metadata.namespace, obj.metadata.name),
      query: { fieldManager: FIELD_MANAGER, ...writeQuery(options) },
      contentType: "application/merge-patch+json",
      body: obj,
      signal: options.signal,
    });
  }

  /** Deletes exactly the object that was judged (uid precondition), never a namesake created since. */
  async delete(type: ResourceType, namespace: string | undefined, name: string, uid: string, propagationPolicy: PropagationPolicy = "Background"): Promise<void> {
    await this.#request({
      method: "DELETE",
      path: resourcePath(type, namespace, name),
      body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy, preconditions: { uid } },
    });
  }

  async patchApplication(namespace: string, name: string, mergePatch: Record<string, unknown>): Promise<KubeObject> {
    return this.#request<KubeObject>({
      method: "PATCH",
      path: `${APPLICATIONS_PATH}/namespaces/${encodeURIComponent(namespace)}/applications/${encodeURIComponent(name)}`,
      contentType: "application/merge-patch+json",
      body: mergePatch,
    });
  }

  /**
   * Clears the Application's `operation` only if it is still the one that ran (a JSON Patch `test` guards it),
   * so a newer operation set meanwhile by a user is never lost. Returns the updated Application, or undefined when
   * the operation had changed.
   */
  async clearOperation(namespace: string, name: string, ran: unknown): Promise<KubeObject | undefined> {
    try {
      return await this.#request<KubeObject>({
        method: "PATCH",
        path: `${APPLICATIONS_PATH}/namespaces/${encodeURIComponent(namespace)}/applications/${encodeURIComponent(name)}`,
        contentType: "application/json-patch+json",
        body: [{ op: "test", path: "/operation", value: ran }, { op: "remove", path: "/operation" }],
      });
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 422 || err.status === 409)) return undefined;
      throw err;
    }
  }

  /** Replaces status wholesale through the status subresource (a merge patch of {status}). */
  async patchApplicationStatus(namespace: string, name: string, status: unknown): Promise<KubeObject> {
    return this.#request<KubeObject>({
      method: "PATCH",
      path: `${APPLICATIONS_PATH}/namespaces/${encodeURIComponent(namespace)}/applications/${encodeURIComponent(name)}/status`,
      contentType: "application/merge-patch+json",
      body: { status },
    });
  }

  async createProject(namespace: string, name: string, spec: unknown): Promise<void> {
    await this.#request({
      method: "POST",
      path: `${APPLICATIONS_PATH}/namespaces/${encodeURIComponent(namespace)}/appprojects`,
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: "AppProject", metadata: { name, namespace }, spec },
    });
  }

  async createEvent(event: KubeObject): Promise<void> {
    await this.#request({
      method: "POST",
      path: `/api/v1/namespaces/${encodeURIComponent(event.metadata.namespace ?? "default")}/events`,
      body: event,
    });
  }

  async patchEvent(namespace: string, name: string, mergePatch: Record<string, unknown>): Promise<void> {
    await this.#request({
      method: "PATCH",
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events/${encodeURIComponent(name)}`,
      contentType: "application/merge-patch+json",
      body: mergePatch,
    });
  }

  async create(type: ResourceType, obj: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return this.#request<KubeObject>({
      method: "POST", path: resourcePath(type, obj.metadata.namespace), body: obj,
      query: { fieldManager: FIELD_MANAGER, ...writeQuery(options) }, signal: options.signal,
    });
  }
}
