// The import graph of src/ has no cycles, type-only imports included: a cycle makes two modules one in all but
// name (neither can be read, tested or moved without the other), and a type-only one is where a runtime one
// starts. The graph is read from the source text: static `import … from` and `export … from` of relative .ts
// paths (dynamic import() is left out: it is how a module defers a dependency on purpose).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";

const SRC = new URL("../../src/", import.meta.url).pathname;

// `import x from "./a.ts"`, `import type { T } from "./a.ts"`, `export * from "./a.ts"`, `export { a } from "./a.ts"`,
// `import "./a.ts"`; across lines, as long as no string literal containing a quote sits inside the braces.
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(full)));
    else if (entry.name.endsWith(".ts")) files.push(full);
  }
  return files.sort();
}

/** Module (path relative to src/) → the src/ modules it imports statically. */
async function importGraph(root: string): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of await sourceFiles(root)) {
    const text = await readFile(file, "utf8");
    const targets = new Set<string>();
    for (const match of text.matchAll(STATIC_IMPORT)) {
      targets.add(relative(root, resolve(dirname(file), match[1]!)));
    }
    graph.set(relative(root, file), [...targets].sort());
  }
  return graph;
}

/** The cycles a depth-first search meets (none exactly when the graph has none), each from its smallest member, sorted. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join(" -> "), rotated);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.keys()].sort().map((key) => cycles.get(key)!);
}

test("the import graph reader sees type-only imports and re-exports, and the cycle finder reports each cycle", () => {
  const text = [
    `import type { A } from "./a.ts";`,
    `import {\n  type B,\n  c,\n} from "../b.ts";`,
    `export { d } from "./d.ts";`,
    `export * from "./e.ts";`,
    `import "./f.ts";`,
    `import { x } from "node:fs";`,
    `const later = await import("./g.ts");`,
  ].join("\n");
  const found = [...text.matchAll(STATIC_IMPORT)].map((m) => m[1]);
  assert.deepEqual(found, ["./a.ts", "../b.ts", "./d.ts", "./e.ts", "./f.ts"]);
  const graph = new Map([["a", ["b"]], ["b", ["c", "a"]], ["c", ["c"]], ["d", ["a"]]]);
  assert.deepEqual(findCycles(graph), [["a", "b"], ["c"]]);
});

test("src/ has no import cycle, type-only imports included", async () => {
  const graph = await importGraph(SRC);
  assert.ok(graph.size > 50, `read ${graph.size} modules from ${SRC}`);
  for (const [module, targets] of graph) {
    for (const target of targets) assert.ok(graph.has(target), `${module} imports ${target}, which is not a module of src/`);
  }
  const cycles = findCycles(graph).map((c) => [...c, c[0]].join(" -> "));
  assert.deepEqual(cycles, [], `import cycles in src/:\n  ${cycles.join("\n  ")}`);
});
