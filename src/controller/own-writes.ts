// Our own writes to Applications come back through the informer some milliseconds later, on a different watch
// stream from the live objects'. A reconcile woken by a Job's status in that gap would read the Application as
// it was before our last status write and act on it: resume a sync from results already superseded (re-running
// a hook, losing a finished step's results) or run a manual operation we had just cleared. Remembering the
// resourceVersion of each write lets the reconcile wait the few milliseconds until the informer has caught up.
import type { KubeObject } from "../api/index.ts";

interface Written { uid: string; resourceVersion: bigint; staleReads: number }

/** The first look again comes soon (our write is usually milliseconds away); a watch that is down backs it off. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 5_000;

export class OwnWrites {
  readonly #written = new Map<string, Written>();

  /** Remembers the object a write of ours returned (the newest, when several writes were made). */
  record(key: string, written: KubeObject | undefined): void {
    const uid = written?.metadata.uid;
    const version = orderable(written?.metadata.resourceVersion);
    if (!uid || version === undefined) return;
    const known = this.#written.get(key);
    if (known && known.uid === uid && known.resourceVersion >= version) return;
    this.#written.set(key, { uid, resourceVersion: version, staleReads: 0 });
  }

  /**
   * True when `app` is older than a write of ours. etcd's resourceVersions are increasing integers; a value that
   * is not one cannot be ordered, and the object is then taken as current (the behaviour without this guard).
   * Once the informer has caught up the entry is dropped, so the map holds only apps written in the last moments.
   */
  isStale(key: string, app: KubeObject): boolean {
    const known = this.#written.get(key);
    if (!known) return false;
    const version = orderable(app.metadata.resourceVersion);
    if (known.uid !== app.metadata.uid || version === undefined || version >= known.resourceVersion) {
      this.#written.delete(key);
      return false;
    }
    known.staleReads++;
    return true;
  }

  /** How long to wait before reading the app again, after isStale said it is stale: doubles with each stale read. */
  retryDelayMs(key: string): number {
    const reads = this.#written.get(key)?.staleReads ?? 1;
    return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, reads - 1), MAX_RETRY_MS);
  }

  forget(key: string): void { this.#written.delete(key); }

  get size(): number { return this.#written.size; }
}

function orderable(resourceVersion: string | undefined): bigint | undefined {
  return resourceVersion && /^[0-9]{1,30}$/.test(resourceVersion) ? BigInt(resourceVersion) : undefined;
}
