// Which unexpected errors were already reported: a bug that fails every reconcile of many apps logs its stack
// once, not once per retry per app.
import { errorMessage } from "../errors.ts";

export function errorName(err: unknown): string { return err instanceof Error ? err.name : typeof err; }

export function errorStack(err: unknown): string { return err instanceof Error ? err.stack ?? `${err.name}: ${err.message}` : String(err); }

/** Remembers which errors were seen (by name, message and first stack frame), up to a bound. */
export class DistinctErrors {
  readonly #seen = new Set<string>();
  readonly #max: number;
  constructor(max = 256) { this.#max = max; }

  /** true the first time an error like this one is seen. */
  firstSeen(err: unknown): boolean {
    const frame = err instanceof Error ? (err.stack ?? "").split("\n").find((line) => line.trimStart().startsWith("at ")) ?? "" : "";
    const id = `${errorName(err)}|${errorMessage(err)}|${frame.trim()}`;
    if (this.#seen.has(id)) return false;
    if (this.#seen.size >= this.#max) this.#seen.delete(this.#seen.values().next().value!);
    this.#seen.add(id);
    return true;
  }
}
