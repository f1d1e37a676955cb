// The thread that runs jq for src/jq/index.ts. It hosts one instance of jq-web (jq 1.7.1 compiled to
// WebAssembly) and answers one request at a time: a jq program and its newline-separated JSON inputs in,
// jq's stdout out. Its bounds are enforced from both sides: the parent terminates this thread when a
// request outlives its deadline, V8's resourceLimits bound the JavaScript heap, and the WebAssembly heap
// cannot grow past `maxMemoryBytes` (the growth import refuses, malloc fails, jq aborts and is re-created).
import { parentPort, workerData } from "node:worker_threads";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { compileFunction } from "node:vm";

/** The WebAssembly API, typed here because the project's lib (es2024, no DOM) does not declare it. */
export interface Wasm {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<WasmInstance>;
}
export type WasmModule = { readonly __brand: "WebAssembly.Module" };
type WasmInstance = { readonly exports: object };
export const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

export interface WorkerInit {
  /** jq.wasm compiled once by the parent and shared with every worker it starts. */
  wasmModule: WasmModule;
  maxMemoryBytes: number;
}
export interface WorkerRequest { id: number; program: string; input: string }
export type WorkerReply =
  | { id: number; ok: true; stdout: string }
  | { id: number; ok: false; kind: "compile" | "runtime" | "memory"; message: string };

interface JqModule {
  raw(input: string, filter: string, flags: string[]): string | undefined;
}
type JqFactory = (moduleArg: Record<string, unknown>) => Promise<JqModule>;

const require = createRequire(import.meta.url);

/** The marker after which jq-web's glue creates a default instance (2 GB heap, no hooks): cut there. */
const EAGER_INSTANCE_MARKER = "\njq = jq().then(";

/** Loads jq-web's Emscripten factory without letting the package create its own unbounded instance. */
function loadFactory(): JqFactory {
  const gluePath = require.resolve("jq-web/jq.js");
  const source = readFileSync(gluePath, "utf8");
  const cut = source.indexOf(EAGER_INSTANCE_MARKER);
  if (cut < 0) throw new Error(`unexpected layout of ${gluePath}: jq-web was upgraded without updating src/jq/worker.ts`);
  const body = `${source.slice(0, cut)}\nreturn jq;`;
  const fn = compileFunction(body, ["require", "module", "exports", "__filename", "__dirname"], { filename: gluePath });
  const module = { exports: {} as unknown };
  return fn(require, module, module.exports, gluePath, dirname(gluePath)) as JqFactory;
}

const init = workerData as WorkerInit;
const factory = loadFactory();

function instantiate(): Promise<JqModule> {
  return factory({
    // jq-web prints jq's stderr (debug, warnings) with console.warn: never into the controller's log.
    printErr: () => {},
    instantiateWasm(imports: Record<string, Record<string, unknown>>, receive: (instance: WasmInstance, module: WasmModule) => void) {
      const env = imports.env ?? {};
      const grow = env.emscripten_resize_heap as (size: number) => number;
      env.emscripten_resize_heap = (size: number): number => ((size >>> 0) > init.maxMemoryBytes ? 0 : grow(size));
      void wasm.instantiate(init.wasmModule, imports).then((instance) => receive(instance, init.wasmModule));
      return {};
    },
  });
}

console.warn = () => {};
let jq = await instantiate();

parentPort?.on("message", (request: WorkerRequest) => {
  void handle(request);
});
parentPort?.postMessage({ ready: true });

async function handle({ id, program, input }: WorkerRequest): Promise<void> {
  let reply: WorkerReply;
  try {
    reply = { id, ok: true, stdout: jq.raw(input, program, ["-c"]) ?? "" };
  } catch (err) {
    const e = err as { exitCode?: number; stderr?: string; message?: string };
    if (typeof e.exitCode === "number") {
      // jq exits 3 on a compile error, 5 on an uncaught runtime error (our programs catch their own).
      reply = { id, ok: false, kind: e.exitCode === 3 ? "compile" : "runtime", message: e.stderr ?? e.message ?? String(err) };
    } else {
      // An Emscripten abort: jq ran out of the heap we allow (or crashed). The instance is unusable now.
      reply = { id, ok: false, kind: "memory", message: e.message ?? String(err) };
      jq = await instantiate();
    }
  }
  parentPort?.postMessage(reply);
}
