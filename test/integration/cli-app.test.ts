// `tack app …` and `tack diff --local` against a real API server, a real git server and the controller running
// in this process: every command's output and exit code, and the error text for a missing app, a missing
// kubeconfig and a forbidden action (a user without RBAC, from the control plane's userKubeconfig).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";
import { runAppCommand, runDiffCommand, type CliIO } from "../../src/cli/app/index.ts";
import { startControlPlane, type ControlPlane } from "../support/control-plane.ts";
import { startGitServer, type GitServer, type TestRepo } from "../support/git-server.ts";
import { TestKube, application, eventually, startTestTack, type TestTack } from "../support/kube.ts";
import { configMapYaml } from "../support/manifests.ts";

const NS = "cli";
const SECRET_VALUE = "s3cret-value-1";
const SECRET_VALUE_2 = "s3cret-value-2";

let cp: ControlPlane | undefined;
let kubeconfig: string;
let git: GitServer;
let kube: TestKube;
let tack: TestTack;
let manualRepo: TestRepo;
let webRepo: TestRepo;
let tmp: string;

interface Result { code: number; stdout: string; stderr: string }

function io(env: Record<string, string | undefined>, overrides: Partial<CliIO> = {}): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => { out.push(s); }, stderr: (s) => { err.push(s); }, env, stdoutIsTTY: false, pollIntervalMs: 100, ...overrides };
}

async function app(args: string[], env: Record<string, string | undefined> = { KUBECONFIG: kubeconfig }, overrides: Partial<CliIO> = {}): Promise<Result> {
  const streams = io(env, overrides);
  const code = await runAppCommand(args, streams);
  return { code, stdout: streams.out.join(""), stderr: streams.err.join("") };
}

async function diffLocal(args: string[]): Promise<Result> {
  const streams = io({ KUBECONFIG: kubeconfig });
  const code = await runDiffCommand(args, streams);
  return { code, stdout: streams.out.join(""), stderr: streams.err.join("") };
}

function secretYaml(name: string, password: string): string {
  return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\ntype: Opaque\nstringData:\n  password: ${JSON.stringify(password)}\n  user: admin\n`;
}

const claimYaml = `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: none-here
  resources:
    requests:
      storage: 1Gi
`;

before(async () => {
  const external = process.env["TACK_TEST_KUBECONFIG"];
  if (external) kubeconfig = external;
  else {
    cp = await startControlPlane({ auditLog: false });
    kubeconfig = cp.kubeconfigPath;
  }
  git = await startGitServer();
  kube = new TestKube(kubeconfig);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  await kube.createNamespace(NS);
  tmp = await mkdtemp(join(tmpdir(), "tack-cli-test-"));
  manualRepo = await git.createRepo("cli-manual", {
    "app/config.yaml": configMapYaml("settings", { greeting: "hello" }),
    "app/secret.yaml": secretYaml("creds", SECRET_VALUE),
  });
  webRepo = await git.createRepo("cli-web", { "app/config.yaml": configMapYaml("web-config", { color: "blue" }) });
  await kube.apply(application("manual", NS, {
    source: { repoURL: manualRepo.url, path: "app", targetRevision: "main" },
    destination: { server: "https://kubernetes.default.svc", namespace: NS },
  }));
  await kube.apply(application("web", NS, {
    source: { repoURL: webRepo.url, path: "app", targetRevision: "main" },
    destination: { server: "https://kubernetes.default.svc", namespace: NS },
    syncPolicy: { automated: { prune: true } },
  }));
  tack = await startTestTack(kubeconfig, { "resync-seconds": 600 });
  await eventually(async () => ((await kube.app(NS, "web"))?.status as { sync?: { status?: string } } | undefined)?.sync?.status === "Synced",
    { message: "cli/web Synced", timeoutMs: 30_000 });
  await eventually(async () => ((await kube.app(NS, "manual"))?.status as { sync?: { status?: string } } | undefined)?.sync?.status === "OutOfSync",
    { message: "cli/manual OutOfSync", timeoutMs: 30_000 });
});

after(async () => {
  await tack?.stop();
  await git?.stop();
  await cp?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("tack app: reading", () => {
  test("list prints NAME PROJECT SYNC HEALTH REVISION AGE; -A, -o wide, -o json", async () => {
    const r = await app(["list", "-n", NS]);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trimEnd().split("\n");
    assert.match(header!, /^NAME\s+PROJECT\s+SYNC\s+HEALTH\s+REVISION\s+AGE$/);
    const head = (await webRepo.head()).slice(0, 7);
    assert.ok(rows.some((l) => new RegExp(`^web\\s+default\\s+Synced\\s+\\w+\\s+${head}\\s+\\d+s$`).test(l)), r.stdout);
    assert.ok(rows.some((l) => /^manual\s+default\s+OutOfSync\s/.test(l)), r.stdout);

    const all = await app(["list", "-A"]);
    assert.match(all.stdout, /^NAMESPACE\s+NAME\s+PROJECT/);
    assert.match(all.stdout, /\ncli\s+web\s+default\s+Synced/);

    const wide = await app(["list", "-n", NS, "-o", "wide"]);
    assert.match(wide.stdout, /REPO\s+PATH\s+TARGET\s+DESTINATION\s+SYNC POLICY/);
    assert.ok(wide.stdout.includes(webRepo.url) && wide.stdout.includes("Automated (prune)"), wide.stdout);

    const json = JSON.parse((await app(["list", "-n", NS, "-o", "json"])).stdout) as { items: Array<{ metadata: { name: string } }> };
    assert.deepEqual(json.items.map((i) => i.metadata.name), ["manual", "web"]);

    const empty = await app(["list", "-n", "default"]);
    assert.equal(empty.code, 0);
    assert.match(empty.stderr, /No applications found in namespace 'default'/);
  });

  test("get shows the spec summary, conditions, last operation and resources; -o yaml is the object", async () => {
    const r = await app(["get", "web", "-n", NS]);
    assert.equal(r.code, 0, r.stderr);
    const head = (await webRepo.head()).slice(0, 7);
    for (const line of [`Name:           ${NS}/web`, `Repo:           ${webRepo.url}`, "Sync Policy:    Automated (prune)", `Sync Status:    Synced to ${head}`]) {
      assert.ok(r.stdout.includes(line), `'${line}' in:\n${r.stdout}`);
    }
    assert.match(r.stdout, /CONDITIONS\nTYPE\s+STATUS\s+REASON\s+MESSAGE\s+AGE\nReady\s+True\s+SyncedAndHealthy/);
    assert.match(r.stdout, /LAST OPERATION\nPhase:\s+Succeeded/);
    assert.match(r.stdout, /GROUP\s+KIND\s+NAMESPACE\s+NAME\s+STATUS\s+HEALTH\s+MESSAGE/);
    assert.match(r.stdout, /\s+ConfigMap\s+cli\s+web-config\s+Synced/);
    const yaml = load((await app(["get", "web", "-n", NS, "-o", "yaml"])).stdout) as { kind: string; metadata: { name: string } };
    assert.equal(yaml.kind, "Application");
    assert.equal(yaml.metadata.name, "web");
  });

  test("history lists deployments with ids", async () => {
    const r = await app(["history", "web", "-n", NS]);
    assert.equal(r.code, 0, r.stderr);
    const head = (await webRepo.head()).slice(0, 7);
    // The date as a person reads it: local time to the second and its offset, not RFC 3339 with milliseconds.
    assert.match(r.stdout, new RegExp(`^ID\\s+DATE\\s+REVISION\\s+INITIATED BY\\n0\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d\\s+${head} \\(main\\)\\s+automated`));
    const none = await app(["history", "manual", "-n", NS]);
    assert.equal(none.code, 0);
    assert.match(none.stderr, /No history for cli\/manual: it has never been synced/);
  });
});

describe("tack app sync --dry-run", () => {
  test("says what a sync would do and that nothing changed, never 'successfully synced'", async () => {
    const r = await app(["sync", "web", "-n", NS, "--dry-run", "--timeout", "60"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const head = await webRepo.head();
    assert.match(r.stdout, new RegExp(`Dry run Succeeded at ${head}: nothing was changed; a sync would apply \\d+ and prune 0 object\\(s\\)\\n$`));
    assert.doesNotMatch(r.stdout + r.stderr, /successfully synced/);
    const get = await app(["get", "web", "-n", NS]);
    assert.match(get.stdout, /LAST OPERATION\nPhase:\s+Succeeded \(dry run\)\nMessage:\s+nothing was changed/);
    assert.match(get.stdout, /Started:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \(\S+ ago\)/);
  });
});

describe("tack app diff", () => {
  test("an app never synced: every object is missing, exit 1; Secret values never appear", async () => {
    const r = await app(["diff", "manual", "-n", NS]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /===== ConfigMap cli\/settings ====== \(missing from the cluster\)/);
    assert.match(r.stdout, /\+  greeting: hello/);
    assert.match(r.stdout, /===== Secret cli\/creds ======/);
    assert.match(r.stdout, /\+  password: '?\+{8,}'?/);
    assert.ok(!r.stdout.includes(SECRET_VALUE) && !r.stdout.includes(Buffer.from(SECRET_VALUE).toString("base64")), r.stdout);
    assert.ok(!r.stdout.includes("\u001b["), "no colour when stdout is not a terminal");
    assert.match(r.stderr, /2 of 2 resource\(s\) differ/);
  });

  test("after a sync: no differences (exit 0); a live edit shows as a coloured diff with --color (exit 1)", async () => {
    const synced = await app(["sync", "manual", "-n", NS, "--timeout", "60"]);
    assert.equal(synced.code, 0, synced.stderr + synced.stdout);
    const none = await app(["diff", "manual", "-n", NS]);
    assert.equal(none.code, 0, none.stdout + none.stderr);
    assert.equal(none.stdout, "");
    assert.match(none.stderr, /No differences/);

    await kube.mergePatch("v1", "ConfigMap", NS, "settings", { data: { greeting: "edited by hand" } });
    const edited = await app(["diff", "manual", "-n", NS, "--color"]);
    assert.equal(edited.code, 1);
    assert.ok(edited.stdout.includes("\u001b[31m-  greeting: edited by hand\u001b[39m"), edited.stdout);
    assert.ok(edited.stdout.includes("\u001b[32m+  greeting: hello\u001b[39m"), edited.stdout);
    assert.ok(!edited.stdout.includes("Secret cli/creds"), "the unchanged Secret is not shown");
    await kube.mergePatch("v1", "ConfigMap", NS, "settings", { data: { greeting: "hello" } });
  });

  test("--revision previews a branch; a changed Secret value shows only as different masks", async () => {
    await manualRepo.commit({
      "app/config.yaml": configMapYaml("settings", { greeting: "bonjour" }),
      "app/secret.yaml": secretYaml("creds", SECRET_VALUE_2),
    }, "feature", { branch: "feature" });
    const r = await app(["diff", "manual", "-n", NS, "--revision", "feature"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /-  greeting: hello\n\+  greeting: bonjour/);
    const password = /-  password: '?(\++)'?\n\+  password: '?(\++)'?/.exec(r.stdout);
    assert.ok(password, r.stdout);
    assert.notEqual(password[1], password[2]);
    assert.ok(!/^[-+]  user:/m.test(r.stdout), "an unchanged Secret key shows no change");
    for (const value of [SECRET_VALUE, SECRET_VALUE_2]) {
      assert.ok(!r.stdout.includes(value) && !r.stdout.includes(Buffer.from(value).toString("base64")), "no Secret value in the output");
    }
    const main = await app(["diff", "manual", "-n", NS]);
    assert.equal(main.code, 0, main.stdout);
    const missing = await app(["diff", "manual", "-n", NS, "--revision", "no-such-branch"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no-such-branch/);
  });

  test("a private repository: the diff reads Tack's repo-creds Secret exactly as the controller does (a token is a password)", async () => {
    const privateGit = await startGitServer({ auth: { username: "ci", password: "tok-3141" } });
    try {
      const repo = await privateGit.createRepo("cli-private", { "app/config.yaml": configMapYaml("private-config", { v: "1" }) });
      await kube.apply(application("private", NS, {
        source: { repoURL: repo.url, path: "app", targetRevision: "main" },
        destination: { server: "https://kubernetes.default.svc", namespace: NS },
      }));
      const without = await app(["diff", "private", "-n", NS]);
      assert.equal(without.code, 2, "no credentials yet: the repository refuses");
      assert.match(without.stderr, /auth|401|credentials/i);
      const prefix = new URL(repo.url).origin;
      await kube.apply({
        apiVersion: "v1", kind: "Secret", metadata: { name: "creds-template", namespace: "tack-system", labels: { "tack.dev/secret-type": "repo-creds" } },
        stringData: { url: prefix, username: "ci", token: "tok-3141" },
      });
      const r = await app(["diff", "private", "-n", NS]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /===== ConfigMap cli\/private-config ====== \(missing from the cluster\)/);
      assert.ok(!r.stdout.includes("tok-3141") && !r.stderr.includes("tok-3141"), "the token never printed");
    } finally {
      await kube.delete("tack.dev/v1alpha1", "Application", NS, "private");
      await kube.delete("v1", "Secret", "tack-system", "creds-template");
      await privateGit.stop();
    }
  });

  test("tack diff --local DIR --app NAME compares a local directory", async () => {
    const dir = join(tmp, "local");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "config.yaml"), configMapYaml("settings", { greeting: "hello" }));
    await writeFile(join(dir, "secret.yaml"), secretYaml("creds", SECRET_VALUE));
    const same = await diffLocal(["--local", dir, "--app", "manual", "-n", NS]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    await writeFile(join(dir, "config.yaml"), configMapYaml("settings", { greeting: "hola" }));
    const changed = await diffLocal(["--local", dir, "--app", "manual", "-n", NS]);
    assert.equal(changed.code, 1);
    assert.match(changed.stdout, /\+  greeting: hola/);
    assert.match(changed.stdout, /\+\+\+ desired \(local directory /);
    const bad = await diffLocal(["--local", join(tmp, "nope"), "--app", "manual", "-n", NS]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a directory/);
    const usage = await diffLocal(["--local", dir]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--app NAME is required/);
  });
});

describe("tack app: operating", () => {
  test("sync shows progress and the per-resource result; a failing sync exits 1", async () => {
    const r = await app(["sync", "manual", "-n", NS, "--revision", "feature", "--timeout", "60"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /Sync of cli\/manual requested \(revision feature\)/);
    assert.match(r.stderr, /\d\d:\d\d:\d\d  Succeeded/);
    assert.match(r.stdout, /GROUP\s+KIND\s+NAMESPACE\s+NAME\s+RESULT\s+MESSAGE/);
    assert.match(r.stdout, /ConfigMap\s+cli\s+settings\s+Synced/);
    assert.match(r.stdout, new RegExp(`Operation Succeeded at ${await manualRepo.head("feature")}: `), "the full commit synced");
    assert.equal(((await kube.get("v1", "ConfigMap", NS, "settings"))?.data as Record<string, string>).greeting, "bonjour");

    await manualRepo.commit({ "app/bad.yaml": configMapYaml("Not_A_Valid_Name", { a: "b" }) }, "broken", { branch: "broken" });
    const failed = await app(["sync", "manual", "-n", NS, "--revision", "broken", "--timeout", "60"]);
    assert.equal(failed.code, 1, failed.stderr + failed.stdout);
    assert.match(failed.stderr, /sync of cli\/manual (failed|error)/);
  });

  test("sync --async returns at once; a second sync while one is pending is refused", async () => {
    const first = await app(["sync", "manual", "-n", NS, "--async"]);
    assert.equal(first.code, 0, first.stderr);
    const second = await app(["sync", "manual", "-n", NS, "--async"]);
    // The controller may already have finished the first: then the second is simply accepted.
    if (second.code !== 0) assert.match(second.stderr, /cannot start a sync of cli\/manual: .*tack app wait manual -n cli --operation/s);
    const waited = await app(["wait", "manual", "-n", NS, "--operation", "--timeout", "60"]);
    assert.equal(waited.code, 0, waited.stderr);
  });

  test("history after manual syncs; rollback to an entry syncs its revision", async () => {
    const history = JSON.parse((await app(["history", "manual", "-n", NS, "-o", "json"])).stdout) as Array<{ id: number; revision: string }>;
    assert.ok(history.length >= 2, JSON.stringify(history));
    const first = history[0]!;
    const r = await app(["rollback", "manual", String(first.id), "-n", NS, "--timeout", "60"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /Rollback of cli\/manual requested \(revision [0-9a-f]{40}\)/);
    const after = (await kube.app(NS, "manual"))?.status as { operationState?: { syncResult?: { revision?: string } } };
    assert.equal(after.operationState?.syncResult?.revision, first.revision);

    const unknown = await app(["rollback", "manual", "999", "-n", NS]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /has no history entry 999 \(ids: /);
    const notNumber = await app(["rollback", "manual", "latest", "-n", NS]);
    assert.equal(notNumber.code, 2);
  });

  test("rollback is refused while automated sync is on", async () => {
    const r = await app(["rollback", "web", "0", "-n", NS]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot roll back cli\/web: automated sync is on .*\n.*"automated":\{"enabled":false\}/);
  });

  test("refresh sets the annotation and waits for the controller to take it", async () => {
    const r = await app(["refresh", "web", "-n", NS, "--hard", "--timeout", "30"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Hard refresh of cli\/web requested/);
    assert.match(r.stdout, /^cli\/web: Synced to [0-9a-f]{7}, Healthy\n$/);
    assert.equal((await kube.app(NS, "web"))?.metadata.annotations?.["tack.dev/refresh"], undefined);
  });

  test("wait shows progress; reached → 0, timeout → 1", async () => {
    const synced = await app(["wait", "web", "-n", NS, "--sync", "--health", "--timeout", "10"]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stderr, /Waiting for cli\/web: Synced, Healthy \(timeout 10s\)\n\d\d:\d\d:\d\d  sync=Synced health=Healthy/);
    assert.equal(synced.stdout, "cli/web: Synced, Healthy\n");
    // Without automated sync and never synced, the claim stays missing: Synced never comes.
    const repo = await git.createRepo("cli-stuck", { "app/claim.yaml": claimYaml });
    await kube.apply(application("stuck", NS, {
      source: { repoURL: repo.url, path: "app" }, destination: { server: "https://kubernetes.default.svc", namespace: NS },
    }));
    await eventually(async () => ((await kube.app(NS, "stuck"))?.status as { sync?: { status?: string } } | undefined)?.sync?.status, { message: "stuck compared" });
    const stuck = await app(["wait", "stuck", "-n", NS, "--timeout", "1"]);
    assert.equal(stuck.code, 1);
    assert.match(stuck.stderr, /\d\d:\d\d:\d\d  sync=OutOfSync health=Missing/);
    assert.match(stuck.stderr, /timed out after 1s waiting for cli\/stuck to be Synced, Healthy, no operation running \(now: sync=OutOfSync health=Missing/);
  });

  test("delete --cascade=false removes only the Application; cascade adds resources-finalizer.tack.dev first", async () => {
    const repo = await git.createRepo("cli-delete", { "app/config.yaml": configMapYaml("keep-me", { a: "1" }) });
    for (const name of ["del-orphan", "del-cascade"]) {
      await kube.apply(application(name, NS, {
        source: { repoURL: repo.url, path: "app" },
        destination: { server: "https://kubernetes.default.svc", namespace: `${NS}-${name}` },
        syncPolicy: { automated: {}, syncOptions: ["CreateNamespace=true"] },
      }));
    }
    await eventually(async () => kube.get("v1", "ConfigMap", `${NS}-del-orphan`, "keep-me"), { message: "synced", timeoutMs: 30_000 });

    const orphan = await app(["delete", "del-orphan", "-n", NS, "--cascade=false", "--wait", "--timeout", "30"]);
    assert.equal(orphan.code, 0, orphan.stderr);
    assert.match(orphan.stdout, /application.tack.dev\/del-orphan deleted \(namespace cli\); its resources were left in place/);
    assert.equal(await kube.app(NS, "del-orphan"), undefined);
    assert.ok(await kube.get("v1", "ConfigMap", `${NS}-del-orphan`, "keep-me"), "resources stay");

    await eventually(async () => kube.get("v1", "ConfigMap", `${NS}-del-cascade`, "keep-me"), { message: "synced", timeoutMs: 30_000 });
    const cascade = await app(["delete", "del-cascade", "-n", NS, "--wait", "--timeout", "60"]);
    assert.equal(cascade.code, 0, cascade.stderr);
    assert.match(cascade.stdout, /finalizer resources-finalizer.tack.dev: the controller deletes its resources/);
    // The controller honours the finalizer: the app's resources go, then the Application.
    assert.equal(await kube.app(NS, "del-cascade"), undefined);
    assert.equal(await kube.get("v1", "ConfigMap", `${NS}-del-cascade`, "keep-me"), undefined);

    const declined = await app(["delete", "web", "-n", NS], { KUBECONFIG: kubeconfig }, { confirm: async () => false });
    assert.equal(declined.code, 1);
    assert.match(declined.stderr, /Nothing deleted/);
    assert.ok(await kube.app(NS, "web"));
  });
});

describe("tack app: errors", () => {
  test("a missing app: each command names it, its namespace and how to list apps", async () => {
    const message = "application 'nope' not found in namespace 'cli' (tack app list -n cli)";
    for (const args of [["get", "nope"], ["history", "nope"], ["sync", "nope"], ["refresh", "nope"], ["rollback", "nope", "0"], ["wait", "nope"], ["delete", "nope"], ["diff", "nope"]]) {
      const r = await app([...args, "-n", NS]);
      assert.equal(r.code, args[0] === "diff" ? 2 : 1, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr, `tack app ${args[0]}: ${message}\n`);
    }
  });

  test("a missing kubeconfig is a usage error (exit 2) that says what to set", async () => {
    const home = join(tmp, "empty-home");
    await mkdir(home, { recursive: true });
    const none = await app(["list"], { HOME: home });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no kubeconfig found \(looked at KUBECONFIG, --kubeconfig and .*empty-home\/\.kube\/config\): set KUBECONFIG or pass --kubeconfig FILE/);
    const wrong = await app(["get", "web", "--kubeconfig", join(tmp, "missing.kubeconfig")], { HOME: home });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /kubeconfig '.*missing.kubeconfig' not found/);
    const env = await app(["list"], { KUBECONFIG: join(tmp, "missing.kubeconfig"), HOME: home });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /KUBECONFIG names no existing file/);
  });

  test("forbidden: names the verb and resource and suggests RBAC", { skip: !process.env["TACK_TEST_KUBECONFIG"] ? false : "needs the local control plane's userKubeconfig" }, async () => {
    const eve = await cp!.userKubeconfig("eve");
    const list = await app(["list", "-n", NS], { KUBECONFIG: eve });
    assert.equal(list.code, 1);
    assert.match(list.stderr, /forbidden: you may not list applications\.tack\.dev in namespace 'cli'/);
    assert.match(list.stderr, /Role and RoleBinding granting 'list' on applications\.tack\.dev; check with: kubectl auth can-i list applications\.tack\.dev -n cli/);

    // A reader may look but not sync: the refusal names the patch.
    await kube.apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "app-reader", namespace: NS },
      rules: [{ apiGroups: ["tack.dev"], resources: ["applications"], verbs: ["get", "list", "watch"] }] } as never);
    await kube.apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "eve-reads-apps", namespace: NS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "app-reader" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "eve" }] } as never);
    await eventually(async () => (await app(["get", "web", "-n", NS], { KUBECONFIG: eve })).code === 0, { message: "eve can read" });
    const sync = await app(["sync", "web", "-n", NS, "--async"], { KUBECONFIG: eve });
    assert.equal(sync.code, 1);
    assert.match(sync.stderr, /forbidden: you may not patch applications\.tack\.dev 'web' in namespace 'cli'/);
    const diff = await app(["diff", "web", "-n", NS], { KUBECONFIG: eve });
    assert.equal(diff.code, 2);
    assert.match(diff.stderr, /forbidden: you may not (get|patch) configmaps 'web-config' in namespace 'cli'/);
  });

  test("--help on every command; unknown commands and flags are usage errors", async () => {
    for (const command of ["list", "get", "history", "diff", "sync", "refresh", "rollback", "wait", "delete"]) {
      const r = await app([command, "--help"], {});
      assert.equal(r.code, 0, command);
      assert.match(r.stdout, new RegExp(`^Usage: tack app ${command}`));
      assert.match(r.stdout, /--kubeconfig FILE/);
    }
    assert.equal((await diffLocal(["--help"])).code, 0);
    const unknown = await app(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const flag = await app(["get", "web", "--bogus"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^tack app get: unknown flag --bogus\nRun 'tack app get --help' for usage\.\n$/);
    const output = await app(["history", "web", "-o", "table"]);
    assert.equal(output.code, 2);
  });

  test("the tack binary wires `app` and `diff`, with real exit codes", async () => {
    const run = promisify(execFile);
    const bin = new URL("../../bin/tack.js", import.meta.url).pathname;
    const ok = await run(process.execPath, [bin, "app", "get", "web", "-n", NS], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    assert.match(ok.stdout, /Sync Status:\s+Synced/);
    const missing = await run(process.execPath, [bin, "app", "get", "nope", "-n", NS], { env: { ...process.env, KUBECONFIG: kubeconfig } })
      .then(() => assert.fail("exit 0"), (err: { code: number; stderr: string }) => err);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /application 'nope' not found in namespace 'cli'/);
    const usage = await run(process.execPath, [bin, "diff"], { env: { ...process.env, KUBECONFIG: kubeconfig } })
      .then(() => assert.fail("exit 0"), (err: { code: number }) => err);
    assert.equal(usage.code, 2);
  });
});
