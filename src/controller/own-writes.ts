// Our own writes to Applications come back through the informer some milliseconds later, on a different watch
// stream from the live objects'. A reconcile woken by a Job's status in that gap would read the Application as
// it was before our last status write and act on it: resume a sync from results already superseded (re-running
// a hook, losing a finished step's results) or run a manual operation we had just cleared. Remembering each
// write lets the reconcile wait the few milliseconds until the informer has delivered it.
//
// resourceVersions are opaque (Kubernetes API conventions): they are compared for equality only. The informer
// delivers an object's versions in order, so once it has delivered ours (observed) or holds it, it is caught up.
// A relist can skip our version when a newer write followed it, but holds every write that completed before the
// list began (listedSince); a bound on how long a write is waited for covers anything else (after it, the object
// is taken as current, which is the behaviour without this guard).
import type { KubeObject } from "../api/index.ts";

interface Written { uid: string; resourceVersion: string; writtenAt: number; staleReads: number }

/** The first look again comes soon (our write is usually milliseconds away); a watch that is down backs it off. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 5_000;
/** Longer than a healthy watch's delay by orders of magnitude; short enough that a skipped version costs little. */
const GIVE_UP_MS = 30_000;

/** Versions of each app the informer delivered last: a write's event can arrive before the write's own response. */
const RECENT_VERSIONS = 4;

export class OwnWrites {
  readonly #written = new Map<string, Written>();
  readonly #delivered = new Map<string, string[]>();
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) { this.#clock = clock; }

  /** Remembers the object a write of ours returned (the last write wins). */
  record(key: string, written: KubeObject | undefined): void {
    const uid = written?.metadata.uid;
    const resourceVersion = written?.metadata.resourceVersion;
    if (!uid || !resourceVersion) return;
    if (this.#delivered.get(key)?.includes(`${uid}/${resourceVersion}`)) {
      this.#written.delete(key);   // the informer was quicker than the response: already caught up
      return;
    }
    this.#written.set(key, { uid, resourceVersion, writtenAt: this.#clock(), staleReads: 0 });
  }

  /** The informer delivered this version of the app: once it is ours, the informer has caught up. */
  observed(key: string, app: KubeObject): void {
    const version = `${app.metadata.uid}/${app.metadata.resourceVersion}`;
    const recent = this.#delivered.get(key) ?? [];
    recent.push(version);
    if (recent.length > RECENT_VERSIONS) recent.shift();
    this.#delivered.set(key, recent);
    const known = this.#written.get(key);
    if (known && `${known.uid}/${known.resourceVersion}` === version) this.#written.delete(key);
  }

  /** A list that began at `listStartedAt` holds every write that completed before it (or something newer). */
  listedSince(listStartedAt: number): void {
    for (const [key, written] of this.#written) if (written.writtenAt <= listStartedAt) this.#written.delete(key);
  }

  /**
   * True while `app` (the informer's copy) may be older than a write of ours: it is not our version, the informer
   * has not delivered ours yet, and the write is recent. Otherwise the entry is dropped, so the map holds only apps
   * written in the last moments.
   */
  isStale(key: string, app: KubeObject): boolean {
    const known = this.#written.get(key);
    if (!known) return false;
    const caughtUp = known.uid !== app.metadata.uid || known.resourceVersion === app.metadata.resourceVersion;
    if (caughtUp || this.#clock() - known.writtenAt > GIVE_UP_MS) {
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

  forget(key: string): void {
    this.#written.delete(key);
    this.#delivered.delete(key);
  }

  get size(): number { return this.#written.size; }
}
