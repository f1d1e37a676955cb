// The examples render, through `tack render` (the controller's render code), to exactly the objects they are
// meant to deploy: an example directory holds no Application manifest of its own (it would be applied as one
// of the app's objects), and each Application in examples/applications renders its directory as documented.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { loadAll } from "js-yaml";
import { runRenderCommand } from "../../../src/cli/render-command.ts";
import { ensureTools, type Tools } from "../../support/tools.ts";

const EXAMPLES = new URL("../../../examples/", import.meta.url).pathname;
let tools: Tools;

before(async () => {
  tools = await ensureTools();
});

interface Rendered { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: { replicas?: number } }

async function render(args: string[]): Promise<Rendered[]> {
  let out = "";
  let err = "";
  const code = await runRenderCommand([...args, "--helm-binary", tools.helm, "--kustomize-binary", tools.kustomize],
    { stdout: (s) => { out += s; }, stderr: (s) => { err += s; } });
  assert.equal(code, 0, err);
  return loadAll(out) as Rendered[];
}

const names = (objects: Rendered[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);

test("examples/guestbook renders its three objects, not the Application that deploys it", async () => {
  assert.deepEqual(names(await render([join(EXAMPLES, "guestbook")])),
    ["ConfigMap/guestbook-config", "Service/guestbook", "Deployment/guestbook"]);
});

test("every Application in examples/applications renders its example as documented", async () => {
  const apps = (await readdir(join(EXAMPLES, "applications"))).sort();
  assert.deepEqual(apps, ["guestbook.yaml", "helm-guestbook.yaml", "kustomize-guestbook.yaml"]);
  const rendered = async (app: string) => render([EXAMPLES, "--app", join(EXAMPLES, "applications", app)]);

  assert.deepEqual(names(await rendered("guestbook.yaml")), ["ConfigMap/guestbook-config", "Service/guestbook", "Deployment/guestbook"]);

  const kustomize = await rendered("kustomize-guestbook.yaml");
  assert.equal(kustomize.length, 3, names(kustomize).join(", "));
  assert.match(names(kustomize)[0]!, /^ConfigMap\/kustomize-guestbook-config-[a-z0-9]{10}$/, "generated, with Kustomize's hash suffix");
  assert.deepEqual(names(kustomize).slice(1), ["Service/kustomize-guestbook", "Deployment/kustomize-guestbook"]);
  for (const o of kustomize) assert.equal(o.metadata.labels?.example, "kustomize", `${o.kind}: the Application's commonLabels`);

  const helm = await rendered("helm-guestbook.yaml");
  assert.deepEqual(names(helm), ["ConfigMap/helm-guestbook-config", "Service/helm-guestbook", "Deployment/helm-guestbook"],
    "the release is named after the Application");
  assert.equal(helm[2]!.spec?.replicas, 2, "the Application's helm.parameters override values.yaml");
});

test("no example directory holds an Application manifest", async () => {
  for (const dir of ["guestbook", "kustomize-guestbook", "helm-guestbook"]) {
    const kinds = (await render([join(EXAMPLES, dir)])).map((o) => o.kind);
    assert.ok(!kinds.includes("Application"), `${dir}: ${kinds.join(", ")}`);
  }
});
