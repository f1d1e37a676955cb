// Writes crds/<plural>.tack.dev.yaml from the zod schemas. `--check` exits 1 when the committed files differ.
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dump } from "js-yaml";
import { buildCrds } from "../src/api/crds.ts";

export async function renderCrdFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const crd of buildCrds()) {
    const name = (crd.metadata as { name: string }).name;
    const header = "# Generated from src/api by `npm run gen:crds`. Do not edit.\n";
    files.set(`crds/${name}.yaml`, header + dump(crd, { lineWidth: -1, noRefs: true, sortKeys: false }));
  }
  return files;
}

if (import.meta.main) {
  const check = process.argv.includes("--check");
  let stale = 0;
  await mkdir("crds", { recursive: true });
  for (const [path, text] of await renderCrdFiles()) {
    if (check) {
      const current = await readFile(path, "utf8").catch(() => "");
      if (current !== text) { stale++; console.error(`${path} differs from a fresh generation: run npm run gen:crds`); }
    } else {
      await writeFile(path, text);
      console.log(`wrote ${path}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
