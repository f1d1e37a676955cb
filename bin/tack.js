#!/usr/bin/env node
// The installed `tack` command. Node 24 runs the TypeScript sources directly (type stripping), so there is
// no build step. An older Node cannot load a .ts file at all, and would stop with ERR_UNKNOWN_FILE_EXTENSION
// and a stack trace: so this file is plain JavaScript that any Node parses, checks the version first, and
// loads the sources only then (a static import would be loaded before any check could run).
import { readFileSync } from "node:fs";

const engines = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).engines?.node ?? "";
const minimum = Number(/>=\s*(\d+)/.exec(engines)?.[1] ?? 0);
const major = Number(process.versions.node.split(".")[0]);

if (major < minimum) {
  process.stderr.write(
    `tack needs Node.js ${engines} (it runs its TypeScript sources directly); this is Node.js ${process.version} (${process.execPath}).\n` +
    "Install Node.js 24, or run tack from its checkout with the Node that npm ci installs: npm run tack -- ARGS\n",
  );
  process.exit(1);
}

const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
