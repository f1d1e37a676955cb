// What the controller remembers about one Application between its reconciles, in one place: the revision last
// resolved (so a watch-triggered reconcile need not ask Git), since when it is OutOfSync (a metric), whether it was
// Degraded (for HealthRecovered), and which PostDelete hooks this process created. All of it is an optimisation or
// a report: a restarted controller starts with none of it and reaches the same state (status is the record).

export interface ResolvedRevision {
  /** repoURL#targetRevision the revision was resolved for. */
  sourceKey: string;
  revision: string;
  resolvedAt: number;
}

export interface AppMemory {
  resolved?: ResolvedRevision;
  /** When this process first saw the app OutOfSync (status keeps no such time). */
  outOfSyncSince?: Date;
  /** Degraded since it was last Healthy. */
  degraded: boolean;
  /** PostDelete hooks created by this process for the app being deleted (generateName hooks cannot be found by name). */
  readonly postDeleteCreated: Set<string>;
}

export class AppMemories {
  readonly #apps = new Map<string, AppMemory>();

  /** The app's memory, created empty on first use. */
  of(key: string): AppMemory {
    let memory = this.#apps.get(key);
    if (!memory) {
      memory = { degraded: false, postDeleteCreated: new Set() };
      this.#apps.set(key, memory);
    }
    return memory;
  }

  /** The app is gone: nothing of it is kept. */
  forget(key: string): void { this.#apps.delete(key); }

  get size(): number { return this.#apps.size; }
}
