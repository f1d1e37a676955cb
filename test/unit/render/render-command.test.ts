// `tack render`: flags mirror spec.source, output is stable multi-document YAML, errors exit 2 with the reason.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { runRenderCommand } from "../../../src/cli/render-command.ts";
import { ensureTools, type Tools } from "../../support/tools.ts";

const FIXTURES = new URL("../../fixtures/render/", import.meta.url).pathname;
let tools: Tools;
let repo: string;

before(async () => {
  tools = await ensureTools();
  repo = await mkdtemp(join(tmpdir(), "tack-render-cli-"));
  await cp(join(FIXTURES, "repo"), repo, { recursive: true });
  await mkdir(join(repo, ".git"));   // the repository root: ../base resolves inside it
});
after(async () => { await rm(repo, { recursive: true, force: true }); });

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runRenderCommand([...args, "--helm-binary", tools.helm, "--kustomize-binary", tools.kustomize], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; } });
  return { code, out, err };
}

const names = (yaml: string) => (loadAll(yaml) as Array<{ kind: string; metadata: { name: string } }>).map((o) => `${o.kind}/${o.metadata.name}`);

test("renders a kustomize overlay with flags, sorted by group, kind, namespace, name", async () => {
  const { code, out, err } = await run([join(repo, "kustomize/overlay"), "--kustomize-image", "nginx=nginx:1.27", "--name-prefix", "cli-"]);
  assert.equal(code, 0, err);
  // As Argo CD (kustomize edit set nameprefix): the flag replaces the overlay's own prefix (prod-).
  assert.deepEqual(names(out), ["ConfigMap/cli-web-config-k6cm94h6ch", "Service/cli-web", "Deployment/cli-web"]);
  assert.match(out, /image: nginx:1.27/);
  assert.ok(out.startsWith("---\n"));
});

test("renders a chart with values files, --set, --set-string, --release-name, --namespace", async () => {
  const { code, out, err } = await run([join(repo, "helm/app"), "--values-file", "values/prod.yaml", "--set", "replicas=7",
    "--set-string", "extra.port=80", "--release-name", "rel", "--namespace", "ns", "--skip-crds"]);
  assert.equal(code, 0, err);
  assert.deepEqual(names(out), ["ConfigMap/rel-done", "ConfigMap/rel-config", "Deployment/rel", "Job/rel-migrate"], "no namespace sorts first");
  assert.match(out, /replicas: 7/);
  assert.match(out, /port: '80'/);
  assert.match(out, /greeting: hello from prod/);
});

test("--app takes spec.source from an Application manifest; flags override it", async () => {
  const app = join(repo, "app.yaml");
  await writeFile(app, `apiVersion: tack.dev/v1alpha1
kind: Application
metadata: {name: from-app}
spec:
  destination: {namespace: dest}
  source:
    repoURL: https://git.example/repo.git
    path: directory/app
    directory: {include: "*.yaml"}
`);
  const { code, out, err } = await run([repo, "--app", app]);
  assert.equal(code, 0, err);
  assert.deepEqual(names(out), ["ConfigMap/settings"]);
  const all = await run([repo, "--app", app, "--include", "*"]);
  assert.deepEqual(names(all.out), ["ConfigMap/settings", "Service/web"]);
});

test("a render error exits 2 with the reason; bad usage exits 2", async () => {
  const bad = await run([join(repo, "helm/app"), "--values-file", "../../../../../../etc/passwd"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^tack render: InvalidSpec: valueFiles '.*' leaves the repository/);
  assert.equal(bad.out, "");
  const remote = await run([join(repo, "kustomize/remote")]);
  assert.equal(remote.code, 2);
  assert.match(remote.err, /RemoteBaseRefused/);
  const usage = await run(["--set", "novalue"]);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--set takes key=value/);
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: tack render/);
});
