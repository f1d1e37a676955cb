// A work queue of Application keys: a key is queued at most once, never processed by two workers at once
// (a key added while it is processed runs again afterwards), concurrency is bounded, and failures come back
// with exponential backoff and jitter. Delayed adds keep only the earliest due time per key.

export interface WorkQueueOptions {
  workers: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Called for each key; a thrown error or a returned { retry: true } requeues it with backoff. */
  process: (key: string) => Promise<ProcessResult | void>;
  onError?: (key: string, err: unknown) => void;
  /** Observes how long a key waited between being queued and being picked up. */
  onDequeue?: (key: string, waitedMs: number) => void;
  random?: () => number;
}

export interface ProcessResult {
  /** Come back after this many ms (resync, a wait for health); earliest request wins. */
  requeueAfterMs?: number;
  /** Retry with backoff (counts as a failure for the backoff). */
  retry?: boolean;
}

export class WorkQueue {
  readonly #options: WorkQueueOptions;
  readonly #queue: string[] = [];
  readonly #queued = new Map<string, number>();      // key → time it was queued
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();               // added while processing
  readonly #delayed = new Map<string, { due: number; timer: NodeJS.Timeout }>();
  readonly #failures = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #shuttingDown = false;
  #paused = false;
  #idleWaiters: Array<() => void> = [];
  readonly #settleWaiters = new Set<{ pending: Set<string>; done: () => void }>();

  constructor(options: WorkQueueOptions) { this.#options = options; }

  get length(): number { return this.#queue.length; }
  get active(): number { return this.#processing.size; }

  /** Queues the key (once); `front` puts it ahead of the waiting keys (an app a webhook says changed). */
  add(key: string, options: { front?: boolean } = {}): void {
    if (this.#shuttingDown) return;
    this.#cancelDelay(key);
    if (this.#processing.has(key)) { this.#dirty.add(key); return; }
    if (this.#queued.has(key)) {
      if (!options.front) return;
      this.#queue.splice(this.#queue.indexOf(key), 1);
    } else {
      this.#queued.set(key, Date.now());
    }
    if (options.front) this.#queue.unshift(key); else this.#queue.push(key);
    this.#pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const due = Date.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => { this.#delayed.delete(key); this.add(key); }, delayMs);
    timer.unref();
    this.#delayed.set(key, { due, timer });
  }

  /** Removes every trace of a key (the Application is gone). */
  forget(key: string): void {
    this.#cancelDelay(key);
    this.#failures.delete(key);
    this.#dirty.delete(key);
  }

  failures(key: string): number { return this.#failures.get(key) ?? 0; }

  backoffMs(failures: number): number {
    const random = this.#options.random ?? Math.random;
    const exp = Math.min(this.#options.retryMaxMs, this.#options.retryBaseMs * 2 ** Math.max(0, failures - 1));
    return Math.round(exp * (0.8 + 0.4 * random()));
  }

  /** Keeps queueing keys but starts none (a standby replica); keys in flight finish. */
  pause(): void { this.#paused = true; }

  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  get paused(): boolean { return this.#paused; }

  /** Stops taking work and waits for the keys being processed (up to graceMs). Returns false on timeout. */
  async shutdown(graceMs: number): Promise<boolean> {
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#queue.length = 0;
    this.#queued.clear();
    this.#checkSettled();
    if (this.#inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); });
    const done = Promise.allSettled([...this.#inFlight]).then(() => true);
    const result = await Promise.race([done, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Resolves when nothing is queued or processing (tests and benchmarks). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Resolves once none of the keys is queued or being processed (a later delayed requeue does not count), or
   * after timeoutMs.
   */
  settled(keys: Iterable<string>, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#settleWaiters.delete(waiter); resolve(); }, timeoutMs);
      timer.unref();
      const waiter = { pending: new Set(keys), done: () => { clearTimeout(timer); resolve(); } };
      this.#settleWaiters.add(waiter);
      this.#checkSettled();
    });
  }

  #checkSettled(): void {
    for (const waiter of this.#settleWaiters) {
      for (const key of waiter.pending) if (!this.#queued.has(key) && !this.#processing.has(key)) waiter.pending.delete(key);
      if (waiter.pending.size === 0) { this.#settleWaiters.delete(waiter); waiter.done(); }
    }
  }

  #cancelDelay(key: string): void {
    const delayed = this.#delayed.get(key);
    if (delayed) { clearTimeout(delayed.timer); this.#delayed.delete(key); }
  }

  #pump(): void {
    while (!this.#shuttingDown && !this.#paused && this.#processing.size < this.#options.workers && this.#queue.length > 0) {
      const key = this.#queue.shift()!;
      const queuedAt = this.#queued.get(key) ?? Date.now();
      this.#queued.delete(key);
      this.#processing.add(key);
      this.#options.onDequeue?.(key, Date.now() - queuedAt);
      const run = this.#run(key).finally(() => this.#inFlight.delete(run));
      this.#inFlight.add(run);
    }
    if ((this.#queue.length === 0 || this.#paused) && this.#processing.size === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  async #run(key: string): Promise<void> {
    let result: ProcessResult | void = undefined;
    let failed = false;
    try {
      result = await this.#options.process(key);
      failed = result?.retry === true;
    } catch (err) {
      failed = true;
      this.#options.onError?.(key, err);
    }
    this.#processing.delete(key);
    if (failed) {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      this.addAfter(key, this.backoffMs(failures));
    } else {
      this.#failures.delete(key);
    }
    if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    if (this.#dirty.delete(key)) this.add(key);
    this.#pump();
    if (this.#settleWaiters.size > 0) this.#checkSettled();
  }
}
