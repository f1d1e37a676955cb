// npm run demo: Tack end to end on this machine. Starts a local control plane (etcd + kube-apiserver built
// from the Go module proxy on first use) and a git server, pushes examples/guestbook as a config repo, runs
// the controller (the real `tack controller` process), applies an Application, shows it reaching Synced,
// then edits a managed object behind Tack's back and shows the edit healed. In a terminal it then keeps
// everything running for kubectl until Ctrl-C; otherwise (CI, pipes) it stops and cleans up.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, readdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import type { KubeObject } from "../src/api/index.ts";
import { ensureControlPlaneBinaries, startControlPlane } from "../test/support/control-plane.ts";
import { startGitServer } from "../test/support/git-server.ts";
import { TestKube, eventually } from "../test/support/kube.ts";
import { ensureTools } from "../test/support/tools.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (text: string) => say(`\n\x1b[1m▸ ${text}\x1b[0m`);
const interactive = process.stdin.isTTY === true && !process.env.CI && !process.argv.includes("--exit");

interface AppView { status?: { sync?: { status?: string; revision?: string }; health?: { status?: string }; resources?: Array<{ kind: string; name: string; status?: string; health?: { status?: string } }> } }

step("Local control plane (etcd, kube-apiserver, controller manager, scheduler, kwok nodes; the first run builds them from the Go module proxy, ~15 minutes)");
await ensureControlPlaneBinaries((line) => say(`  ${line}`));
// Built (or found) here so that the controller below and a later `tack render` both find the pinned helm and
// kustomize in the set-up's tools cache (src/render/tools.ts), with nothing added to PATH. The sample app is a
// plain directory, so the demo goes on without them.
say(`  helm and kustomize: ${await ensureTools().then((t) => t.dir, (err: unknown) => `not available, Kustomize and Helm sources will fail (${(err as Error).message.split("\n", 1)[0]})`)}`);
const cp = await startControlPlane({ auditLog: false });
say(`  API server ${cp.server}`);
const git = await startGitServer();
const cacheDir = await mkdtemp(join(tmpdir(), "tack-demo-cache-"));
let controller: ChildProcess | undefined;

async function cleanup(): Promise<void> {
  if (controller && controller.exitCode === null) {
    controller.kill("SIGTERM");
    await new Promise((resolve) => controller!.once("exit", resolve));
  }
  await git.stop();
  await cp.stop();
  await rm(cacheDir, { recursive: true, force: true });
}

try {
  step("Config repository: examples/guestbook pushed to a local git server");
  const files: Record<string, string> = {};
  for (const name of await readdir(join(ROOT, "examples/guestbook"))) {
    if (name === "application.yaml") continue;
    files[`guestbook/${name}`] = await readFile(join(ROOT, "examples/guestbook", name), "utf8");
  }
  const repo = await git.createRepo("config", files);
  say(`  ${repo.url} @ ${(await repo.head()).slice(0, 7)}: ${Object.keys(files).join(", ")}`);

  const kube = new TestKube(cp.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");

  step("Controller: tack controller (warnings and errors are shown here)");
  controller = spawn(process.execPath, [join(ROOT, "src/cli/main.ts"), "controller", "--http-port=0", "--http-host=127.0.0.1", `--cache-dir=${cacheDir}`, "--log-level=warn"],
    { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, TACK_NAMESPACE: "tack-system" }, stdio: ["ignore", "inherit", "inherit"] });

  step("Application guestbook: automated sync with prune and selfHeal");
  const app = load((await readFile(join(ROOT, "examples/guestbook/application.yaml"), "utf8")).replace("http://127.0.0.1:PORT/config.git", repo.url)) as KubeObject;
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
  say(`  export KUBECONFIG=${cp.kubeconfigPath}`);
  say("  kubectl get applications -A          # SYNC STATUS, HEALTH STATUS, REVISION");
  say("  kubectl -n guestbook get deploy,svc,cm");
  say(`  git clone ${repo.url} && edit, commit, push; then: kubectl -n tack-system annotate app guestbook tack.dev/refresh=normal`);
  if (interactive) {
    say("\n  Everything keeps running until Ctrl-C.");
    await new Promise<void>((resolve) => { process.once("SIGINT", () => resolve()); process.once("SIGTERM", () => resolve()); });
  }
  step("Stopping and cleaning up");
} catch (err) {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
