// npm run demo: Tack end to end on this machine. Starts a local control plane (etcd + kube-apiserver built
// from the Go module proxy on first use) and a git server, pushes the example apps as a config repo, runs
// the controller (the real `tack controller` process), applies an Application, shows it reaching Synced,
// then edits a managed object behind Tack's back and shows the edit healed. In a terminal it then keeps
// everything running for kubectl until Ctrl-C; otherwise (CI, pipes) it stops and cleans up.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, readdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import type { KubeObject } from "../src/api/index.ts";
import { startControlPlane, type ControlPlane } from "../test/support/control-plane.ts";
import { startGitServer, type GitServer } from "../test/support/git-server.ts";
import { ensureTools } from "../test/support/tools.ts";
import { TestKube, eventually } from "../test/support/kube.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (text: string) => say(`\n\x1b[1m▸ ${text}\x1b[0m`);
/** The example directories, pushed at the root of the demo's config repository as examples/applications expects. */
const EXAMPLE_APPS = ["guestbook", "kustomize-guestbook", "helm-guestbook"];
/** The repoURL in examples/applications, replaced by the demo repository's URL. */
const REPO_PLACEHOLDER = "http://127.0.0.1:PORT/config.git";
const interactive = process.stdin.isTTY === true && !process.env.CI && !process.argv.includes("--exit");
/** Wait for Ctrl-C even without a terminal (tests of stopping). */
const keepRunning = process.argv.includes("--keep-running");

/** What the user can do next, printed at the end of the demo. */
function tryItYourself(kubeconfigPath: string, repoURL: string): string[] {
  return [
    `export KUBECONFIG=${kubeconfigPath}`,
    "kubectl get applications -A                # SYNC STATUS, HEALTH STATUS, REVISION",
    "kubectl -n guestbook get deploy,svc,cm",
    "",
    "alias tack='npm run --silent tack --'      # the tack command, with the Node 24 that npm ci installed",
    "tack app list                              # Applications in tack-system (the controller's namespace)",
    "tack app get guestbook                     # resources, health, conditions and sync history",
    "tack app diff guestbook                    # what a sync would change: nothing, until you edit something",
    "tack app sync guestbook --dry-run          # what a sync would apply, without applying it",
    "tack app sync guestbook                    # sync now and wait for the result",
    "",
    "# The Kustomize and Helm examples are in the same repository; their Applications point at it with:",
    ...["kustomize-guestbook", "helm-guestbook"].map((app) =>
      `sed 's#${REPO_PLACEHOLDER}#${repoURL}#' examples/applications/${app}.yaml | kubectl apply -f -`),
    "",
    `git clone ${repoURL}, edit, commit, push; then: tack app refresh guestbook (or wait for the next poll)`,
  ];
}

interface AppView { status?: { sync?: { status?: string; revision?: string }; health?: { status?: string }; resources?: Array<{ kind: string; name: string; status?: string; health?: { status?: string } }> } }

// Ctrl-C (or SIGTERM) stops the demo and cleans up, quietly. A terminal's Ctrl-C reaches the control plane's
// processes and the controller too, so what they print while going down (components "killed while running",
// the controller's failed requests with their stacks) is expected then, and is not shown. These handlers are
// installed before the control plane's own, so that `stopping` is set before anything reacts to the signal.
let stopping = false;
let stopWaiting: (() => void) | undefined;
let cleanedUp: Promise<void> | undefined;
const quietWhenStopping = (write: (text: string) => void) => (text: string) => { if (!stopping) write(text); };
function onStopSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  if (stopWaiting) return stopWaiting();   // the normal way out, at the end
  process.stdout.write(`\n${signal === "SIGINT" ? "Interrupted" : `Got ${signal}`}: stopping and cleaning up\n`);
  void (cleanedUp ??= cleanup()).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
}
process.on("SIGINT", onStopSignal);
process.on("SIGTERM", onStopSignal);

let cp: ControlPlane | undefined;
let git: GitServer | undefined;
let cacheDir: string | undefined;
let controller: ChildProcess | undefined;

async function cleanup(): Promise<void> {
  if (controller && controller.exitCode === null && controller.signalCode === null) {
    const exited = new Promise((resolve) => controller!.once("exit", resolve));
    controller.kill("SIGTERM");
    await exited;
  }
  await git?.stop();
  await cp?.stop();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
}

try {
  step("Local control plane (etcd, kube-apiserver, controller manager, scheduler, kwok nodes; the first run builds them from the Go module proxy, ~15 minutes)");
  cp = await startControlPlane({ auditLog: false, log: quietWhenStopping((line) => say(`  ${line}`)) });
  say(`  API server ${cp.server}`);
  git = await startGitServer();
  cacheDir = await mkdtemp(join(tmpdir(), "tack-demo-cache-"));

  step("Config repository: the example apps (examples/guestbook, kustomize-guestbook, helm-guestbook) pushed to a local git server");
  const files: Record<string, string> = {};
  for (const example of EXAMPLE_APPS) {
    for (const path of await readdir(join(ROOT, "examples", example), { recursive: true })) {
      const full = join(ROOT, "examples", example, path);
      if ((await stat(full)).isFile()) files[`${example}/${path}`] = await readFile(full, "utf8");
    }
  }
  const repo = await git.createRepo("config", files);
  say(`  ${repo.url} @ ${(await repo.head()).slice(0, 7)}: ${EXAMPLE_APPS.map((e) => `${e}/`).join(", ")}`);

  const kube = new TestKube(cp.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");

  step("Render tools: the pinned helm and kustomize, for the Helm and Kustomize examples (built once on first use)");
  const tools = await ensureTools();
  say(`  ${tools.dir}`);

  step("Controller: tack controller (warnings and errors are shown here)");
  controller = spawn(process.execPath, [join(ROOT, "src/cli/main.ts"), "controller", "--http-port=0", "--http-host=127.0.0.1", `--cache-dir=${cacheDir}`, "--log-level=warn"],
    { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, TACK_NAMESPACE: "tack-system", TACK_HELM_BINARY: tools.helm, TACK_KUSTOMIZE_BINARY: tools.kustomize },
      stdio: ["ignore", "pipe", "pipe"] });
  controller.stdout!.on("data", quietWhenStopping((chunk) => process.stdout.write(chunk)));
  controller.stderr!.on("data", quietWhenStopping((chunk) => process.stderr.write(chunk)));

  step("Application guestbook: automated sync with prune and selfHeal");
  const app = load((await readFile(join(ROOT, "examples/applications/guestbook.yaml"), "utf8")).replace(REPO_PLACEHOLDER, repo.url)) as KubeObject;
  await kube.apply(app, "demo-user");
  const started = Date.now();
  const synced = await eventually(async () => {
    const view = (await kube.app("tack-system", "guestbook")) as AppView | undefined;
    return view?.status?.sync?.status === "Synced" ? view : undefined;
  }, { timeoutMs: 60_000, message: "guestbook to reach Synced" });
  say(`  Synced to ${synced.status!.sync!.revision!.slice(0, 7)} in ${Date.now() - started} ms; health ${synced.status!.health?.status}`);
  for (const r of synced.status!.resources ?? []) say(`    ${r.kind.padEnd(12)} ${r.name.padEnd(18)} ${r.status?.padEnd(10)} ${r.health?.status ?? ""}`);

  step("Health: the Deployment rolls out on the simulated nodes");
  let lastHealth = synced.status!.health?.status;
  const healthy = await eventually(async () => {
    const view = (await kube.app("tack-system", "guestbook")) as AppView | undefined;
    const health = view?.status?.health?.status;
    if (health && health !== lastHealth) { say(`  health ${lastHealth} → ${health}`); lastHealth = health; }
    return health === "Healthy" ? view : undefined;
  }, { timeoutMs: 60_000, intervalMs: 50, message: "guestbook to become Healthy" });
  for (const r of healthy.status!.resources ?? []) say(`    ${r.kind.padEnd(12)} ${r.name.padEnd(18)} ${r.status?.padEnd(10)} ${r.health?.status ?? ""}`);

  step("Drift: someone edits the ConfigMap by hand");
  await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "guestbook-config", namespace: "guestbook" }, data: { greeting: "edited by hand" } }, "kubectl-edit");
  const editedAt = Date.now();
  say("  greeting = \"edited by hand\"");
  await eventually(async () => {
    const cm = await kube.get("v1", "ConfigMap", "guestbook", "guestbook-config");
    return (cm?.data as Record<string, string> | undefined)?.greeting === "Hello from Git";
  }, { timeoutMs: 30_000, intervalMs: 20, message: "the edit to be healed" });
  say(`  healed by selfHeal in ${Date.now() - editedAt} ms: greeting = "Hello from Git"`);

  step("Try it yourself");
  for (const line of tryItYourself(cp.kubeconfigPath, repo.url)) say(`  ${line}`);
  if (interactive || keepRunning) {
    say("\n  Everything keeps running until Ctrl-C.");
    await new Promise<void>((resolve) => { stopWaiting = resolve; if (stopping) resolve(); });
  }
  step("Stopping and cleaning up");
} catch (err) {
  // Once stopping, a failure is the cluster going away under a step: not news.
  if (!stopping) {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
} finally {
  await (cleanedUp ??= cleanup());
}
