// RepoCache against a real git server (git http-backend): resolution, fetch-only-when-moved, single-flight,
// error reasons, credential hygiene, checkout contents and tree hashes.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { ComparisonError, ErrorReason } from "../../src/errors.ts";
import { RepoCache, refusedEntryReason, type GitRequestEvent } from "../../src/git/index.ts";
import { startGitServer, type GitServer } from "../support/git-server.ts";

const PASSWORD = "canary-s3cret";

interface Harness {
  cache: RepoCache;
  events: GitRequestEvent[];
  logs: string[];
  dir: string;
}

const dirs: string[] = [];

async function harness(extra: { lsRemoteTtlMs?: number; fetchTimeoutMs?: number; maxCheckouts?: number } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "tack-repo-cache-"));
  dirs.push(dir);
  const events: GitRequestEvent[] = [];
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const cache = new RepoCache({
    cacheDir: dir,
    onRequest: (e) => events.push(e),
    logger: pino({ level: "trace" }, sink),
    ...extra,
  });
  return { cache, events, logs, dir };
}

function count(events: GitRequestEvent[], type: GitRequestEvent["type"]): number {
  return events.filter((e) => e.type === type).length;
}

async function rejectsWith(p: Promise<unknown>, reason: string, includes?: RegExp): Promise<ComparisonError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ComparisonError, `expected ComparisonError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    if (includes) assert.match(err.message, includes);
    return err;
  }
  assert.fail(`expected a rejection with reason ${reason}`);
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

let server: GitServer;
let authServer: GitServer;

before(async () => {
  server = await startGitServer();
  authServer = await startGitServer({ auth: { username: "tack", password: PASSWORD } });
});

after(async () => {
  await server?.stop();
  await authServer?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("RepoCache resolveRevision", () => {
  it("resolves a branch, a tag, HEAD, '' and a full SHA", async () => {
    const repo = await server.createRepo("resolve", { "app/cm.yaml": "kind: ConfigMap\n" });
    const first = await repo.head();
    await repo.tag("v1");
    const second = await repo.commit({ "app/cm.yaml": "kind: ConfigMap # 2\n" });
    const dev = await repo.commit({ "dev.txt": "dev" }, "dev work", { branch: "dev" });
    const { cache } = await harness();

    assert.equal(await cache.resolveRevision(repo.url, "main"), second);
    assert.equal(await cache.resolveRevision(repo.url, "HEAD"), second);
    assert.equal(await cache.resolveRevision(repo.url, ""), second);
    assert.equal(await cache.resolveRevision(repo.url, "v1"), first);
    assert.equal(await cache.resolveRevision(repo.url, "dev"), dev);
    assert.equal(await cache.resolveRevision(repo.url, "refs/heads/dev"), dev);
    assert.equal(await cache.resolveRevision(`${repo.url}/`, "main"), second, "another spelling of the URL");
    // A SHA that is no tip (the first commit is only reachable through history) is found by fetching.
    assert.equal(await cache.resolveRevision(repo.url, first.toUpperCase()), first);
  });

  it("fails with RevisionNotFound for an unknown revision", async () => {
    const repo = await server.createRepo("unknown-rev", { "a.yaml": "a: 1\n" });
    const { cache } = await harness();
    const err = await rejectsWith(cache.resolveRevision(repo.url, "nope"), ErrorReason.RevisionNotFound);
    assert.equal(
      err.message,
      `revision 'nope' not found in ${repo.url}: it is neither a branch, a tag nor a commit`,
    );
    await rejectsWith(cache.resolveRevision(repo.url, "0".repeat(40)), ErrorReason.RevisionNotFound, /0{40}/);
  });

  it("refuses SSH URLs with a terminal error", async () => {
    const { cache } = await harness();
    for (const url of ["git@github.com:org/repo.git", "ssh://git@github.com/org/repo.git"]) {
      const err = await rejectsWith(cache.resolveRevision(url, "main"), ErrorReason.InvalidSpec, /SSH URLs are not supported: use an HTTPS URL/);
      assert.equal(err.terminal, true);
    }
  });

  it("reports a closed port as RepositoryUnreachable", async () => {
    const { cache } = await harness();
    const url = `http://127.0.0.1:${await closedPort()}/gone.git`;
    const err = await rejectsWith(cache.resolveRevision(url, "main"), ErrorReason.RepositoryUnreachable, /connection refused/);
    assert.ok(err.message.includes(url), err.message);
  });

  it("reports a server that never answers as RepositoryUnreachable after the timeout", async () => {
    const silent = createServer(() => undefined); // accepts connections, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { cache } = await harness({ fetchTimeoutMs: 300 });
      const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/slow.git`;
      const started = performance.now();
      await rejectsWith(cache.resolveRevision(url, "main"), ErrorReason.RepositoryUnreachable, /timed out after 300 ms/);
      assert.ok(performance.now() - started < 3000);
    } finally {
      silent.close();
    }
  });

  it("distinguishes missing and wrong credentials from right ones, and never leaks them", async () => {
    const repo = await authServer.createRepo("private", { "a.yaml": "a: 1\n" });
    const h = await harness();
    const missing = await rejectsWith(h.cache.resolveRevision(repo.url, "main"), ErrorReason.RepositoryAuthFailed, /HTTP 401/);
    assert.match(missing.message, /none are configured/);
    const wrong = await rejectsWith(
      h.cache.resolveRevision(repo.url, "main", { credentials: { username: "tack", password: "wrong-canary-s3cret" } }),
      ErrorReason.RepositoryAuthFailed,
      /credentials were rejected/,
    );

    const credentials = { username: "tack", password: PASSWORD };
    const sha = await h.cache.resolveRevision(repo.url, "main", { credentials });
    assert.equal(sha, await repo.head());
    const dir = await h.cache.checkout(repo.url, sha, { credentials });
    assert.equal(await readFile(join(dir, "a.yaml"), "utf8"), "a: 1\n");

    // Credentials given in the URL are used and masked the same way.
    const inUrl = repo.url.replace("http://", `http://tack:${PASSWORD}@`);
    assert.equal(await h.cache.resolveRevision(inUrl, "main", { force: true }), sha);
    const badInUrl = repo.url.replace("http://", "http://tack:bad-canary-s3cret@");
    const urlErr = await rejectsWith(h.cache.resolveRevision(badInUrl, "main"), ErrorReason.RepositoryAuthFailed);
    const notFound = await rejectsWith(
      h.cache.resolveRevision(inUrl, "nope"),
      ErrorReason.RevisionNotFound,
    );

    for (const text of [missing, wrong, urlErr, notFound].map((e) => e.message).concat(h.logs, JSON.stringify(h.events))) {
      assert.ok(!text.includes("canary-s3cret"), `credential leaked: ${text}`);
    }
    assert.ok(h.logs.length > 0, "the logger was used");
  });

  it("reuses a listing within lsRemoteTtlMs unless forced", async () => {
    const repo = await server.createRepo("ttl", { "a.yaml": "a: 1\n" });
    const { cache, events } = await harness({ lsRemoteTtlMs: 60_000 });
    const first = await cache.resolveRevision(repo.url, "main");
    const moved = await repo.commit({ "a.yaml": "a: 2\n" });
    assert.equal(await cache.resolveRevision(repo.url, "main"), first, "cached within the TTL");
    assert.equal(count(events, "ls-remote"), 1);
    assert.equal(await cache.resolveRevision(repo.url, "main", { force: true }), moved);
    assert.equal(count(events, "ls-remote"), 2);
  });
});

describe("RepoCache checkout", () => {
  it("fetches once, then only when the ref moved", async () => {
    const repo = await server.createRepo("moves", { "app/cm.yaml": "v: 1\n", "README.md": "hi\n" });
    const { cache, events } = await harness();

    const sha1 = await cache.resolveRevision(repo.url, "main");
    const dir1 = await cache.checkout(repo.url, sha1);
    assert.equal(await readFile(join(dir1, "app/cm.yaml"), "utf8"), "v: 1\n");
    assert.equal(count(events, "fetch"), 1);

    // Nothing moved: one ref listing (a single GET), no fetch, the same directory.
    const before = server.requestCount("moves");
    const eventsBefore = events.length;
    assert.equal(await cache.resolveRevision(repo.url, "main"), sha1);
    assert.equal(await cache.checkout(repo.url, sha1), dir1);
    assert.equal(server.requestCount("moves") - before, 1);
    assert.deepEqual(events.slice(eventsBefore).map((e) => e.type), ["ls-remote"]);

    // A new commit is fetched, and the old checkout is untouched.
    const sha2 = await repo.commit({ "app/cm.yaml": "v: 2\n", "README.md": null });
    assert.equal(await cache.resolveRevision(repo.url, "main"), sha2);
    const dir2 = await cache.checkout(repo.url, sha2);
    assert.notEqual(dir2, dir1);
    assert.equal(await readFile(join(dir2, "app/cm.yaml"), "utf8"), "v: 2\n");
    await assert.rejects(stat(join(dir2, "README.md")), { code: "ENOENT" });
    assert.equal(await readFile(join(dir1, "app/cm.yaml"), "utf8"), "v: 1\n");
    assert.equal(count(events, "fetch"), 2);
    assert.ok(events.every((e) => e.ok && e.repo === repo.url.replace(/\.git$/, "")));
  });

  it("keeps the object store across restarts: a new instance on the same cacheDir does not refetch", async () => {
    const repo = await server.createRepo("restart", { "a.yaml": "a: 1\n" });
    const first = await harness();
    const sha = await first.cache.resolveRevision(repo.url, "main");
    await first.cache.checkout(repo.url, sha);

    const events: GitRequestEvent[] = [];
    const second = new RepoCache({ cacheDir: first.dir, onRequest: (e) => events.push(e) });
    const before = server.requestCount("restart");
    assert.equal(await second.resolveRevision(repo.url, sha), sha, "a full SHA present locally needs no server");
    const dir = await second.checkout(repo.url, sha);
    assert.equal(await readFile(join(dir, "a.yaml"), "utf8"), "a: 1\n");
    assert.equal(server.requestCount("restart"), before);
    assert.deepEqual(events.map((e) => e.type), ["checkout"]);

    // The next fetch negotiates from what the store holds: only the new commit's objects come over.
    const moved = await repo.commit({ "b.yaml": "b: 1\n" });
    await second.checkout(repo.url, await second.resolveRevision(repo.url, "main"));
    assert.equal(await second.treeHash(repo.url, moved, "b.yaml"), await first.cache.treeHash(repo.url, moved, "b.yaml"));
  });

  it("serves 10 concurrent resolve+checkout with one ref listing and one fetch", async () => {
    const repo = await server.createRepo("crowd", { "a.yaml": "a: 1\n" });
    const { cache, events } = await harness();
    const before = server.requestCount("crowd");
    const dirsSeen = await Promise.all(
      Array.from({ length: 10 }, async () => cache.checkout(repo.url, await cache.resolveRevision(repo.url, "main"))),
    );
    assert.equal(new Set(dirsSeen).size, 1);
    assert.equal(count(events, "ls-remote"), 1);
    assert.equal(count(events, "fetch"), 1);
    assert.equal(count(events, "checkout"), 1);
    // ls-remote: 1 GET; fetch: discovery GET + upload-pack POST.
    assert.equal(server.requestCount("crowd") - before, 3);
  });

  it("rejects an unknown commit with RevisionNotFound and a non-SHA as terminal", async () => {
    const repo = await server.createRepo("badsha", { "a.yaml": "a: 1\n" });
    const { cache } = await harness();
    await rejectsWith(cache.checkout(repo.url, "1".repeat(40)), ErrorReason.RevisionNotFound, /neither a branch, a tag nor a commit/);
    const err = await rejectsWith(cache.checkout(repo.url, "main"), ErrorReason.RevisionNotFound, /not a full commit SHA/);
    assert.equal(err.terminal, true);
  });

  it("writes symlinks that stay inside, and stand-ins nothing can read for those that escape", async () => {
    // TestRepo.commit writes regular files only, so the symlinks are committed with the git CLI.
    const linkRepo = await server.createRepo("links", { "base/cm.yaml": "kind: ConfigMap\n" });
    const { cache } = await harness();
    const run = promisify(execFile);
    const work = await mkdtemp(join(tmpdir(), "tack-links-"));
    dirs.push(work);
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: work };
    const g = (...args: string[]) =>
      run("git", ["-c", "user.name=T", "-c", "user.email=t@t.invalid", ...args], { cwd: join(work, "c"), env });
    await run("git", ["clone", "-q", linkRepo.url, join(work, "c")], { env });
    await mkdir(join(work, "c/app"));
    await mkdir(join(work, "c/a"));
    await symlink("../base", join(work, "c/app/base")); // inside
    await symlink("/etc/passwd", join(work, "c/abs")); // absolute
    await symlink("../../etc", join(work, "c/app/out")); // lexically outside
    await symlink("..", join(work, "c/a/up")); // inside: the repo root
    await symlink("a/up/..", join(work, "c/sneaky")); // lexically inside, really outside
    await g("add", "-A");
    await g("commit", "-q", "-m", "links");
    await g("push", "-q", "origin", "main");

    const head = await cache.resolveRevision(linkRepo.url, "main");
    const dir = await cache.checkout(linkRepo.url, head);
    assert.equal(await readlink(join(dir, "app/base")), "../base");
    assert.equal(await readFile(join(dir, "app/base/cm.yaml"), "utf8"), "kind: ConfigMap\n");
    assert.equal(await readlink(join(dir, "a/up")), "..");
    // Never left out (a missing file would read as deleted from Git), never followed.
    for (const [refused, reason] of [["abs", "absolute"], ["app/out", "outside"], ["sneaky", "outside"]] as const) {
      assert.equal(refusedEntryReason(await readlink(join(dir, refused))), reason, refused);
      await assert.rejects(readFile(join(dir, refused)), { code: "ENOTDIR" }, refused);
    }
    assert.deepEqual(
      cache.escapingSymlinks(dir).map((s) => [s.path, s.reason]),
      [["abs", "absolute"], ["app/out", "outside"], ["sneaky", "outside"]],
    );
    assert.deepEqual(cache.escapingSymlinks(join(dir, "app")).length, 3, "any path inside the checkout works");
    assert.deepEqual(cache.escapingSymlinks("/somewhere/else"), []);
    assert.equal(await cache.checkoutPath(linkRepo.url, head, "app"), undefined, "a folder holding a symlink needs the full checkout");
  });

  it("writes only a plain manifest folder for checkoutPath, and declines folders that may read elsewhere", async () => {
    const repo = await server.createRepo("sparse", {
      "apps/web/cm.yaml": "kind: ConfigMap\n", "apps/web/nested/more.yaml": "kind: Secret\n", "apps/db/cm.yaml": "kind: ConfigMap\n",
      "apps/kust/kustomization.yaml": "resources: [../web]\n", "charts/c/Chart.yaml": "name: c\n", "README.md": "hi\n",
    });
    const { cache } = await harness();
    const head = await cache.resolveRevision(repo.url, "main");
    const dir = await cache.checkoutPath(repo.url, head, "./apps/web/");
    assert.ok(dir, "a plain folder gets a sparse checkout");
    assert.equal(await readFile(join(dir, "apps/web/cm.yaml"), "utf8"), "kind: ConfigMap\n");
    assert.equal(await readFile(join(dir, "apps/web/nested/more.yaml"), "utf8"), "kind: Secret\n");
    assert.deepEqual((await readdir(dir)).sort(), ["apps"], "nothing but the way to the folder");
    assert.deepEqual((await readdir(join(dir, "apps"))).sort(), ["web"]);
    assert.equal(await cache.checkoutPath(repo.url, head, "apps/web"), dir, "reused");
    for (const declined of ["apps/kust", "charts/c", "", ".", "missing", "README.md", "../x"]) {
      assert.equal(await cache.checkoutPath(repo.url, head, declined), undefined, `'${declined}' needs the full checkout`);
    }
  });

  it("bounds the number of checkouts", async () => {
    const repo = await server.createRepo("lru", { "a.yaml": "a: 0\n" });
    const dir = await mkdtemp(join(tmpdir(), "tack-repo-cache-"));
    dirs.push(dir);
    const cache = new RepoCache({ cacheDir: dir, maxCheckouts: 2, checkoutGraceMs: 0 });
    const shas = [await repo.head()];
    for (let i = 1; i <= 3; i++) shas.push(await repo.commit({ "a.yaml": `a: ${i}\n` }));
    const out: string[] = [];
    for (const sha of shas) out.push(await cache.checkout(repo.url, await cache.resolveRevision(repo.url, sha)));
    await new Promise((r) => setTimeout(r, 100)); // eviction removes directories in the background
    const left = (await readdir(join(out[0]!, ".."))).filter((n) => !n.startsWith("."));
    assert.deepEqual(left.sort(), [shas[2], shas[3]].sort());
  });
});

describe("RepoCache treeHash and commitInfo", () => {
  it("changes a path's hash only when content under it changes", async () => {
    const repo = await server.createRepo("hashes", { "app/a.yaml": "a: 1\n", "other/b.yaml": "b: 1\n" });
    const { cache } = await harness();
    const c1 = await repo.head();
    const c2 = await repo.commit({ "other/b.yaml": "b: 2\n" });
    const c3 = await repo.commit({ "app/a.yaml": "a: 2\n" });
    await cache.checkout(repo.url, await cache.resolveRevision(repo.url, "main"));
    for (const c of [c1, c2]) await cache.checkout(repo.url, c); // history came with the fetch of c3

    const app = await Promise.all([c1, c2, c3].map((c) => cache.treeHash(repo.url, c, "app")));
    assert.equal(app[0], app[1], "app/ untouched by c2");
    assert.notEqual(app[1], app[2], "app/ changed in c3");
    assert.equal(await cache.treeHash(repo.url, c3, "./app/"), app[2]);
    assert.match(app[0] ?? "", /^[0-9a-f]{40}$/);

    const roots = await Promise.all([c1, c2, c3].map((c) => cache.treeHash(repo.url, c, "")));
    assert.equal(new Set(roots).size, 3);
    assert.equal(await cache.treeHash(repo.url, c3, "."), roots[2]);
    assert.match((await cache.treeHash(repo.url, c3, "app/a.yaml")) ?? "", /^[0-9a-f]{40}$/, "a file has its blob hash");
    assert.equal(await cache.treeHash(repo.url, c3, "missing"), undefined);
    assert.equal(await cache.treeHash(repo.url, c3, "app/a.yaml/x"), undefined);
    assert.equal(await cache.treeHash(repo.url, c3, "../escape"), undefined);

    const info = await cache.commitInfo(repo.url, c3);
    assert.equal(info.author, "Tack Test <test@tack.invalid>");
    assert.equal(info.message, "update");
    assert.ok(!Number.isNaN(Date.parse(info.date)) && info.date.endsWith("Z"));
  });
});
