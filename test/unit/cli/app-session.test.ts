// Which namespace `tack app` commands look in when -n is not given: the controller's, as argocd looks in
// Argo CD's, not the kubeconfig context's (usually "default", where no Application lives).
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseArgs } from "../../../src/cli/app/args.ts";
import { openSession, type CliIO } from "../../../src/cli/app/context.ts";

let dir = "";
let kubeconfig = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tack-cli-session-"));
  kubeconfig = join(dir, "config");
  // A context that names "default" as its namespace, as kind, minikube and most generated kubeconfigs do.
  await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: ctx, context: { cluster: c, user: u, namespace: default } }]
current-context: ctx
`);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function namespaceOf(args: string[], env: Record<string, string> = {}): string {
  const io: CliIO = { stdout: () => {}, stderr: () => {}, env: { KUBECONFIG: kubeconfig, ...env }, stdoutIsTTY: false };
  return openSession(parseArgs("list", args, {}), io).namespace;
}

test("without -n, the Applications are looked for in the controller's namespace, tack-system", () => {
  assert.equal(namespaceOf([]), "tack-system");
});

test("TACK_NAMESPACE (the controller's own setting) moves that default", () => {
  assert.equal(namespaceOf([], { TACK_NAMESPACE: "gitops" }), "gitops");
});

test("-n and --namespace win over both", () => {
  assert.equal(namespaceOf(["-n", "team-a"], { TACK_NAMESPACE: "gitops" }), "team-a");
  assert.equal(namespaceOf(["--namespace", "team-b"]), "team-b");
});
