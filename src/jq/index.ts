// A bounded jq evaluator for `ignoreDifferences.jqPathExpressions`: given an expression and a JSON value,
// the paths the expression selects, as jq's `path(expr)` reports them. The expression is user input, so
// every evaluation is bounded in time (default 1 s) and memory (default 256 MB); an expression that never
// ends or explodes is stopped with an error naming it, and the evaluator stays usable.
//
// jq itself (jq-web: jq 1.7.1 compiled to WebAssembly) runs in one worker thread, reused across
// evaluations. jq's start-up (binding its builtins) dominates the cost of a small evaluation, so requests
// that arrive while the worker is busy are evaluated together in one jq run (one input line each); when
// such a batch fails on a bound, each of its requests is run alone so that only the culprit fails.
// Results are cached per (expression, input) in a bounded LRU.
import { Worker } from "node:worker_threads";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { WasmModule, WorkerInit, WorkerReply, WorkerRequest, Wasm } from "./worker.ts";

export type JqPath = Array<string | number>;

export const JqErrorKind = {
  /** The expression does not compile: retrying cannot help until the spec changes. */
  Invalid: "invalid",
  /** The expression failed on this input (for example `.a[]` where `.a` is null). */
  Runtime: "runtime",
  Timeout: "timeout",
  Memory: "memory",
  /** The evaluator was closed, or its worker could not start. */
  Unavailable: "unavailable",
} as const;
export type JqErrorKind = (typeof JqErrorKind)[keyof typeof JqErrorKind];

export class JqError extends Error {
  readonly kind: JqErrorKind;
  readonly expression: string;
  constructor(kind: JqErrorKind, expression: string, message: string) {
    super(message);
    this.name = "JqError";
    this.kind = kind;
    this.expression = expression;
  }
}

export interface JqEvaluatorOptions {
  /** Wall-clock bound of one evaluation (default 1000 ms). */
  timeoutMs?: number;
  /** Bound of jq's WebAssembly heap and of the worker's JavaScript heap, each (default 256 MB). */
  maxMemoryMb?: number;
  /** Cached results, per (expression, input) (default 4096). */
  cacheSize?: number;
  /** Requests evaluated together in one jq run at most (default 64; 1 disables batching). */
  maxBatch?: number;
  /** How long the worker may take to start (default 10 s). */
  startTimeoutMs?: number;
}

type Outcome = { paths: JqPath[] } | { error: JqError };

interface Job {
  expression: string;
  /** The input as JSON text, and its parsed form for expanding slice paths. */
  json: string;
  input: unknown;
  cacheKey: string;
  /** Run without other requests (after its batch failed on a bound). */
  alone: boolean;
  resolve(outcome: Outcome): void;
}

const require = createRequire(import.meta.url);
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
let wasmModule: Promise<WasmModule> | undefined;
/** jq.wasm compiled once per process; each worker instantiates it (no recompilation on restart). */
function compiledJq(): Promise<WasmModule> {
  wasmModule ??= wasm.compile(readFileSync(require.resolve("jq-web/jq.wasm")));
  return wasmModule;
}

/**
 * Builtins an ignore rule has no use for and that would reach outside the one input: reading further
 * inputs (which, in a batch, belong to other requests), stopping jq, writing to stderr, the environment.
 */
const PRELUDE = [
  'def input: error("input is not available here");',
  'def inputs: error("inputs is not available here");',
  'def halt: error("halt is not available here");',
  'def halt_error: error("halt_error is not available here");',
  'def halt_error($code): error("halt_error is not available here");',
  "def debug: .; def debug(msg): .; def stderr: .;",
  "def input_filename: null; def env: {};",
  "{} as $ENV |",
].join("\n");

/** The expression wrapped so that a comment or an unbalanced fragment in it cannot reach our code. */
function wrap(expression: string, name: string): string {
  return `def ${name}: [path(\n${expression}\n)];`;
}

/**
 * The expression alone as the program: run on no input at all, it is compiled and never executed. An
 * expression that compiles alone also compiles, unchanged in meaning, inside wrap()'s parentheses.
 */
function checkProgram(expression: string): string {
  return `${PRELUDE}\n${expression}`;
}

/** One input line `[index, document]` per request; one output line `{"p": paths}` or `{"e": message}` each. */
function batchProgram(expressions: string[]): string {
  const defs = expressions.map((e, i) => wrap(e, `__tack_e${i}`)).join("\n");
  const dispatch = expressions.map((_, i) => `${i === 0 ? "if" : "elif"} $i == ${i} then __tack_e${i}`).join(" ");
  return `${PRELUDE}\n${defs}\n. as [$i, $d] | $d | try {"p": (${dispatch} else error("no expression") end)} catch {"e": tostring}`;
}

/** jq's compile diagnostics without our wrapper's program text. */
function compileMessage(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.startsWith("jq: error:")).map((l) => l.replace(/^jq: error: /, "").replace(/ at <top-level>, line \d+:$/, ""));
  return lines.length > 0 ? lines.join("; ") : stderr.trim();
}

class LruMap<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) { this.#max = max; }
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) { this.#map.delete(key); this.#map.set(key, value); }
    return value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }
}

interface RunResult { ok: true; stdout: string }
interface RunFailure { ok: false; kind: "compile" | "runtime" | "memory" | "timeout" | "unavailable"; message: string }

/** Owns one worker at a time: starts it on demand, runs one program at a time, kills it on a bound. */
class JqWorker {
  readonly #timeoutMs: number;
  readonly #maxMemoryMb: number;
  readonly #startTimeoutMs: number;
  #worker: Worker | undefined;
  #ready: Promise<Worker> | undefined;
  #nextId = 1;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(timeoutMs: number, maxMemoryMb: number, startTimeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#maxMemoryMb = maxMemoryMb;
    this.#startTimeoutMs = startTimeoutMs;
  }

  #start(): Promise<Worker> {
    this.#ready ??= (async () => {
      const init: WorkerInit = { wasmModule: await compiledJq(), maxMemoryBytes: this.#maxMemoryMb * 1024 * 1024 };
      const worker = new Worker(new URL("./worker.ts", import.meta.url), {
        workerData: init,
        resourceLimits: { maxOldGenerationSizeMb: this.#maxMemoryMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
        stdout: true, stderr: true,
      });
      worker.unref();
      worker.stdout.resume();
      worker.stderr.resume();
      this.#worker = worker;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`jq worker did not start within ${this.#startTimeoutMs} ms`)), this.#startTimeoutMs);
        const done = (err?: Error): void => {
          clearTimeout(timer);
          worker.off("message", onMessage).off("error", onError).off("exit", onExit);
          if (err) reject(err); else resolve();
        };
        const onMessage = (): void => done();
        const onError = (err: Error): void => done(new Error(`jq worker failed to start: ${err.message}`));
        const onExit = (code: number): void => done(new Error(`jq worker exited with code ${code} while starting`));
        worker.on("message", onMessage).on("error", onError).on("exit", onExit);
      }).catch(async (err: unknown) => { await this.stop(); throw err; });
      return worker;
    })();
    return this.#ready;
  }

  /** Runs one program at a time: a request's deadline starts when the worker takes it up. */
  run(program: string, input: string): Promise<RunResult | RunFailure> {
    const result = this.#tail.then(() => this.#runNow(program, input));
    this.#tail = result;
    return result;
  }

  async #runNow(program: string, input: string): Promise<RunResult | RunFailure> {
    let worker: Worker;
    try {
      worker = await this.#start();
    } catch (err) {
      return { ok: false, kind: "unavailable", message: (err as Error).message };
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const finish = (result: RunResult | RunFailure, kill: boolean): void => {
        clearTimeout(timer);
        worker.off("message", onMessage).off("error", onError).off("exit", onExit);
        if (kill) void this.stop();
        resolve(result);
      };
      const timer = setTimeout(() => finish({ ok: false, kind: "timeout", message: "timeout" }, true), this.#timeoutMs);
      const onMessage = (reply: WorkerReply): void => {
        if (reply.id !== id) return;
        finish(reply.ok ? { ok: true, stdout: reply.stdout } : { ok: false, kind: reply.kind, message: reply.message }, false);
      };
      const onError = (err: Error & { code?: string }): void => {
        const memory = err.code === "ERR_WORKER_OUT_OF_MEMORY";
        finish({ ok: false, kind: memory ? "memory" : "unavailable", message: err.message }, true);
      };
      const onExit = (code: number): void => finish({ ok: false, kind: "unavailable", message: `jq worker exited with code ${code}` }, true);
      worker.on("message", onMessage).on("error", onError).on("exit", onExit);
      worker.postMessage({ id, program, input } satisfies WorkerRequest);
    });
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    if (worker) await worker.terminate();
  }
}

export class JqEvaluator {
  readonly #timeoutMs: number;
  readonly #maxMemoryMb: number;
  readonly #maxBatch: number;
  readonly #worker: JqWorker;
  readonly #results: LruMap<Outcome>;
  /** Per expression: undefined = not checked yet, null = compiles, JqError = does not. */
  readonly #compiled: LruMap<JqError | null>;
  readonly #checking = new Map<string, Promise<JqError | null>>();
  readonly #queue: Job[] = [];
  #busy = false;
  #scheduled = false;
  #closed = false;

  constructor(opts: JqEvaluatorOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 1000;
    this.#maxMemoryMb = opts.maxMemoryMb ?? 256;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 64);
    this.#results = new LruMap(opts.cacheSize ?? 4096);
    this.#compiled = new LruMap(1024);
    this.#worker = new JqWorker(this.#timeoutMs, this.#maxMemoryMb, opts.startTimeoutMs ?? 10_000);
  }

  /** The paths `expression` selects in `input`, as `[path(expression)]` would list them. */
  async paths(expression: string, input: unknown): Promise<JqPath[]> {
    if (this.#closed) throw new JqError(JqErrorKind.Unavailable, expression, `jq expression '${expression}' not evaluated: the evaluator is closed`);
    const json = JSON.stringify(input) ?? "null";
    const cacheKey = createHash("sha256").update(expression).update("\0").update(json).digest("base64url");
    const cached = this.#results.get(cacheKey);
    if (cached) return unwrap(cached);

    const invalid = await this.#check(expression);
    if (invalid) throw invalid;
    const outcome = await new Promise<Outcome>((resolve) => {
      this.#queue.push({ expression, json, input, cacheKey, alone: false, resolve });
      this.#schedule();
    });
    if (!("error" in outcome) || outcome.error.kind !== JqErrorKind.Unavailable) this.#results.set(cacheKey, outcome);
    return unwrap(outcome);
  }

  /** Stops the worker; later calls fail with kind "unavailable". */
  async close(): Promise<void> {
    this.#closed = true;
    this.#rejectQueued();
    await this.#worker.stop();
  }

  #rejectQueued(): void {
    for (const job of this.#queue.splice(0)) {
      job.resolve({ error: new JqError(JqErrorKind.Unavailable, job.expression, `jq expression '${job.expression}' not evaluated: the evaluator is closed`) });
    }
  }

  async #check(expression: string): Promise<JqError | null> {
    const known = this.#compiled.get(expression);
    if (known !== undefined) return known;
    let pending = this.#checking.get(expression);
    if (!pending) {
      pending = (async () => {
        const result = await this.#worker.run(checkProgram(expression), "");
        if (result.ok) return null;
        if (result.kind === "compile") return new JqError(JqErrorKind.Invalid, expression, `invalid jq expression '${expression}': ${compileMessage(result.message)}`);
        // A bound hit while compiling (pathological source): report it, do not remember it.
        throw this.#boundError(result, expression);
      })();
      this.#checking.set(expression, pending);
      pending.then((r) => this.#compiled.set(expression, r), () => {}).finally(() => this.#checking.delete(expression));
    }
    return pending;
  }

  /** Starts the queue on the next turn of the event loop, so that concurrent requests share one jq run. */
  #schedule(): void {
    if (this.#busy || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#busy || this.#queue.length === 0) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        if (this.#closed) { this.#rejectQueued(); break; }
        const batch = this.#takeBatch();
        await this.#runBatch(batch);
      }
    } finally {
      this.#busy = false;
    }
  }

  #takeBatch(): Job[] {
    const first = this.#queue.shift() as Job;
    if (first.alone || this.#maxBatch === 1) return [first];
    const batch = [first];
    let bytes = first.json.length;
    while (batch.length < this.#maxBatch && this.#queue.length > 0) {
      const next = this.#queue[0] as Job;
      if (next.alone || bytes + next.json.length > 8 * 1024 * 1024) break;
      bytes += next.json.length;
      batch.push(this.#queue.shift() as Job);
    }
    return batch;
  }

  async #runBatch(batch: Job[]): Promise<void> {
    const expressions = [...new Set(batch.map((j) => j.expression))];
    const index = new Map(expressions.map((e, i) => [e, i]));
    const input = batch.map((j) => `[${index.get(j.expression)},${j.json}]`).join("\n");
    const result = await this.#worker.run(batchProgram(expressions), input);
    const lines = result.ok ? result.stdout.split("\n").filter((l) => l.length > 0) : [];
    if (result.ok && lines.length === batch.length) {
      batch.forEach((job, i) => job.resolve(parseLine(lines[i] as string, job)));
      return;
    }
    if (batch.length > 1) {
      // Find the culprit: each request alone, ahead of anything queued since.
      this.#queue.unshift(...batch.map((j) => ({ ...j, alone: true })));
      return;
    }
    const job = batch[0] as Job;
    const error = result.ok
      ? new JqError(JqErrorKind.Runtime, job.expression, `jq expression '${job.expression}' produced no result`)
      : this.#boundError(result, job.expression);
    job.resolve({ error });
  }

  #boundError(result: RunFailure, expression: string): JqError {
    switch (result.kind) {
      case "timeout": return new JqError(JqErrorKind.Timeout, expression, `jq expression '${expression}' exceeded ${this.#timeoutMs} ms`);
      case "memory": return new JqError(JqErrorKind.Memory, expression, `jq expression '${expression}' exceeded ${this.#maxMemoryMb} MB of memory`);
      case "compile": return new JqError(JqErrorKind.Invalid, expression, `invalid jq expression '${expression}': ${compileMessage(result.message)}`);
      case "runtime": return new JqError(JqErrorKind.Runtime, expression, `jq expression '${expression}' failed: ${result.message}`);
      case "unavailable": return new JqError(JqErrorKind.Unavailable, expression, `jq expression '${expression}' not evaluated: ${result.message}`);
    }
  }
}

function unwrap(outcome: Outcome): JqPath[] {
  if ("error" in outcome) throw outcome.error;
  return outcome.paths.map((p) => [...p]);
}

function parseLine(line: string, job: Job): Outcome {
  const parsed = JSON.parse(line) as { p?: unknown[]; e?: string };
  if (parsed.p === undefined) {
    return { error: new JqError(JqErrorKind.Runtime, job.expression, `jq expression '${job.expression}' failed: ${parsed.e ?? "unknown error"}`) };
  }
  const paths: JqPath[] = [];
  for (const p of parsed.p) paths.push(...expandSlices(p as unknown[], job.input));
  return { paths };
}

/** jq reports `.[2:4]` as `{"start":2,"end":4}`: expand to the indices it covers in this input. */
function expandSlices(path: unknown[], input: unknown): JqPath[] {
  let results: Array<{ path: JqPath; at: unknown }> = [{ path: [], at: input }];
  for (const component of path) {
    const next: Array<{ path: JqPath; at: unknown }> = [];
    for (const { path: prefix, at } of results) {
      if (typeof component === "string") {
        next.push({ path: [...prefix, component], at: isRecord(at) ? at[component] : undefined });
      } else if (typeof component === "number") {
        next.push({ path: [...prefix, component], at: Array.isArray(at) ? at[component] : undefined });
      } else if (isRecord(component) && Array.isArray(at)) {
        const len = at.length;
        const clamp = (v: unknown, dflt: number): number => {
          if (typeof v !== "number") return dflt;
          const n = Math.floor(v < 0 ? len + v : v);
          return Math.min(Math.max(n, 0), len);
        };
        for (let i = clamp(component.start, 0); i < clamp(component.end, len); i++) next.push({ path: [...prefix, i], at: at[i] });
      }
      // null or other components select nothing removable.
    }
    results = next;
  }
  return results.map((r) => r.path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
