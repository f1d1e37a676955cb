// The README's main job: `npm run demo` (here non-interactively) reaches Synced and Healthy, heals a live edit,
// prints how to point kubectl and tack at the cluster, and leaves no process or temp dir behind; stopped with
// Ctrl-C, at the end or halfway, it cleans up without printing stack traces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { access } from "node:fs/promises";
import { eventually } from "../support/kube.ts";

const DEMO = new URL("../../scripts/demo.ts", import.meta.url).pathname;

interface Run { child: ChildProcess; output: () => string; exited: Promise<number | null> }

/** Runs the demo in a process group of its own, as a shell runs a foreground job, so that a test can Ctrl-C it. */
function runDemo(args: string[]): Run {
  const child = spawn(process.execPath, [DEMO, ...args], { env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => { output += d.toString(); });
  child.stderr!.on("data", (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, output: () => output, exited };
}

/** What a terminal does on Ctrl-C: SIGINT to every process of the foreground group (the demo, its control plane, the controller). */
const ctrlC = (run: Run) => process.kill(-run.child.pid!, "SIGINT");

const groupGone = (run: Run) => { try { process.kill(-run.child.pid!, 0); return false; } catch { return true; } };

function assertQuiet(output: string): void {
  assert.doesNotMatch(output, /^\s+at /m, "no stack frame");
  assert.doesNotMatch(output, /"stack"|killed by SIG|while running|demo failed/, "no error output from the parts being stopped");
}

test("the demo syncs the sample app, watches it become Healthy, heals drift and cleans up", async () => {
  const run = runDemo(["--exit"]);
  const code = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.match(output, /Synced to [0-9a-f]{7} in \d+ ms/);
  assert.match(output, /health Progressing → Healthy|Deployment\s+guestbook\s+Synced\s+Healthy/);
  assert.match(output, /healed by selfHeal in \d+ ms/);
  assert.match(output, /export KUBECONFIG=\S+admin\.kubeconfig/);
  // "Try it yourself" shows the tack commands, not only kubectl's.
  for (const command of ["tack app list", "tack app get guestbook", "tack app diff guestbook", "tack app sync guestbook --dry-run", "tack app sync guestbook"]) {
    assert.match(output, new RegExp(`^  ${command.replace(/[.-]/g, "\\$&")}\\s`, "m"), command);
  }
  assert.match(output, /examples\/applications\/helm-guestbook\.yaml \| kubectl apply -f -/);
  // The control plane's directory (holding the kubeconfig it printed) is gone, and so are its processes.
  const clusterDir = /export KUBECONFIG=(\S+)\/admin\.kubeconfig/.exec(output)![1]!;
  assert.equal(await access(clusterDir).then(() => true, () => false), false, `${clusterDir} removed`);
  assert.ok(groupGone(run), "no process of the demo left");
});

test("Ctrl-C at the end stops everything quietly and exits 0", async () => {
  const run = runDemo(["--keep-running"]);
  await eventually(() => run.output().includes("Everything keeps running until Ctrl-C."), { timeoutMs: 120_000, message: "the demo waiting for Ctrl-C" });
  ctrlC(run);
  const code = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.match(output, /Stopping and cleaning up/);
  assertQuiet(output);
  const clusterDir = /export KUBECONFIG=(\S+)\/admin\.kubeconfig/.exec(output)![1]!;
  assert.equal(await access(clusterDir).then(() => true, () => false), false, `${clusterDir} removed`);
  await eventually(() => groupGone(run), { timeoutMs: 10_000, message: "every process of the demo gone" });
});

test("Ctrl-C halfway stops and cleans up quietly, exiting 130 as an interrupted command does", async () => {
  const run = runDemo(["--keep-running"]);
  await eventually(() => run.output().includes("Controller: tack controller"), { timeoutMs: 120_000, message: "the demo starting the controller" });
  ctrlC(run);
  const code = await run.exited;
  const output = run.output();
  assert.equal(code, 130, output);
  assert.match(output, /Interrupted: stopping and cleaning up/);
  assertQuiet(output);
  await eventually(() => groupGone(run), { timeoutMs: 10_000, message: "every process of the demo gone" });
});
