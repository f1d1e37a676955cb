// The README's main job: `npm run demo` (here non-interactively) reaches Synced and Healthy, heals a live edit,
// prints how to point kubectl at the cluster, and leaves no process or temp dir behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access } from "node:fs/promises";

const DEMO = new URL("../../scripts/demo.ts", import.meta.url).pathname;

test("the demo syncs the sample app, watches it become Healthy, heals drift and cleans up", async () => {
  const child = spawn(process.execPath, [DEMO, "--exit"], { env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => { output += d.toString(); });
  child.stderr.on("data", (d: Buffer) => { output += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, output);
  assert.match(output, /Synced to [0-9a-f]{7} in \d+ ms/);
  assert.match(output, /health Progressing → Healthy|Deployment\s+guestbook\s+Synced\s+Healthy/);
  assert.match(output, /healed by selfHeal in \d+ ms/);
  assert.match(output, /export KUBECONFIG=\S+admin\.kubeconfig/);
  // The control plane's directory (holding the kubeconfig it printed) is gone, and so are its processes.
  const clusterDir = /export KUBECONFIG=(\S+)\/admin\.kubeconfig/.exec(output)![1]!;
  assert.equal(await access(clusterDir).then(() => true, () => false), false, `${clusterDir} removed`);
});
