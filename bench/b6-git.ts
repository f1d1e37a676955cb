// B6 git and render, on a repository of 1,000 apps (apps/b6-<i>/) plus a 1,000-file directory (big/):
//   - a new commit changing one app → the list of changed apps: Tack's RepoCache as a push does it (resolveRevision
//     with force, ensureCommit, treeHash per app path; no checkout), isomorphic-git's best path (ls-remote,
//     fetch, one tree comparison) and the git CLI (ls-remote, fetch, diff --name-only), step by step
//   - a no-change poll: RepoCache.resolveRevision(force) and `git ls-remote`
//   - a cold render of the 1,000-file directory: checkout (RepoCache vs `git archive | tar`) and render
import { execFile } from "node:child_process";
import fs from "node:fs";
import nodeHttp from "node:http";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { RepoCache } from "../src/git/index.ts";
import { render } from "../src/render/index.ts";
import type { BenchContext, Metric } from "./lib.ts";
import { metric } from "./lib.ts";

const exec = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", HOME: tmpdir() };

async function cli(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await exec("git", args, { cwd, env: GIT_ENV, maxBuffer: 64 << 20, timeout: 60_000 });
  return stdout;
}

export async function b6Git(ctx: BenchContext): Promise<Metric[]> {
  const apps = 1000;
  const reps = ctx.quick ? 3 : 5;
  const files: Record<string, string> = {};
  for (let i = 0; i < apps; i++) files[`apps/b6-${i}/configmap.yaml`] = cm(`b6-${i}`, "1");
  for (let i = 0; i < 1000; i++) files[`big/cm-${i}.yaml`] = cm(`big-${i}`, "1");
  const repo = await ctx.git.createRepo("b6", files);
  const root = await mkdtemp(join(tmpdir(), "tack-bench-b6-"));
  const t = async <T>(fn: () => Promise<T>): Promise<[T, number]> => { const s = performance.now(); const r = await fn(); return [r, performance.now() - s]; };
  try {
    const cache = new RepoCache({ cacheDir: join(root, "repo-cache") });
    const isoDir = join(root, "iso.git");
    const cliDir = join(root, "cli.git");
    await git.init({ fs, gitdir: isoDir, bare: true, defaultBranch: "main" });
    await git.addRemote({ fs, gitdir: isoDir, remote: "origin", url: repo.url });
    await cli(["init", "--quiet", "--bare", cliDir]);
    // Warm every client up to the first commit.
    let oldSha = await cache.resolveRevision(repo.url, "main", { force: true });
    await cache.checkout(repo.url, oldSha);
    await git.fetch({ fs, http, gitdir: isoDir, remote: "origin", ref: "main", singleBranch: true, tags: false });
    await cli(["fetch", "--quiet", repo.url, "+refs/heads/main:refs/heads/main"], cliDir);
    const appPaths = Array.from({ length: apps }, (_, i) => `apps/b6-${i}`);
    let oldHashes = await Promise.all(appPaths.map((p) => cache.treeHash(repo.url, oldSha, p)));

    const s: Record<string, number[]> = {};
    const add = (k: string, v: number) => { (s[k] ??= []).push(v); };
    const isoCache = {};
    const failures: string[] = [];
    for (let rep = 0; rep < reps; rep++) {
     try {
      const changed = `b6-${(rep * 137) % apps}`;
      const newSha = await repo.commit({ [`apps/${changed}/configmap.yaml`]: cm(changed, `v${rep + 2}`) }, `change ${changed}`);

      // Tack's RepoCache, as the product can do it today.
      const [sha, lsMs] = await t(() => cache.resolveRevision(repo.url, "main", { force: true }));
      const [, coMs] = await t(() => cache.ensureCommit(repo.url, sha));
      const [hashes, thMs] = await t(() => Promise.all(appPaths.map((p) => cache.treeHash(repo.url, sha, p))));
      const changedApps = appPaths.filter((_, i) => hashes[i] !== oldHashes[i]);
      if (sha !== newSha || changedApps.length !== 1) throw new Error(`B6: RepoCache saw ${changedApps.length} changed apps at ${sha}`);
      add("repocache ls-remote", lsMs); add("repocache fetch", coMs); add("repocache treeHash×1000", thMs); add("repocache total", lsMs + coMs + thMs);
      oldHashes = hashes;

      // isomorphic-git's best path: ls-remote, fetch, compare the apps/ trees once.
      const [, isoLs] = await t(() => git.listServerRefs({ http, url: repo.url, prefix: "refs/heads/main" }));
      const [, isoFetch] = await t(() => git.fetch({ fs, http, gitdir: isoDir, remote: "origin", ref: "main", singleBranch: true, tags: false }));
      const [isoChanged, isoDiff] = await t(async () => {
        const [a, b] = await Promise.all([oldSha, newSha].map((oid) => git.readTree({ fs, gitdir: isoDir, oid, filepath: "apps", cache: isoCache })));
        const before = new Map(a!.tree.map((e) => [e.path, e.oid]));
        return b!.tree.filter((e) => before.get(e.path) !== e.oid).map((e) => e.path);
      });
      if (isoChanged.length !== 1) throw new Error(`B6: isomorphic-git saw ${isoChanged.length} changed apps`);
      add("isomorphic-git ls-remote", isoLs); add("isomorphic-git fetch", isoFetch); add("isomorphic-git tree diff", isoDiff); add("isomorphic-git total", isoLs + isoFetch + isoDiff);

      // git CLI.
      const [, cliLs] = await t(() => cli(["ls-remote", repo.url, "refs/heads/main"]));
      const [, cliFetch] = await t(() => cli(["fetch", "--quiet", repo.url, "+refs/heads/main:refs/heads/main"], cliDir));
      const [cliOut, cliDiff] = await t(() => cli(["diff", "--name-only", oldSha, newSha, "--", "apps/"], cliDir));
      const cliChanged = new Set(cliOut.split("\n").filter(Boolean).map((p) => p.split("/")[1]));
      if (cliChanged.size !== 1) throw new Error(`B6: git CLI saw ${cliChanged.size} changed apps`);
      add("git CLI ls-remote", cliLs); add("git CLI fetch", cliFetch); add("git CLI diff", cliDiff); add("git CLI total", cliLs + cliFetch + cliDiff);

      // No-change poll.
      add("no-change poll RepoCache", (await t(() => cache.resolveRevision(repo.url, "main", { force: true })))[1]);
      add("no-change poll isomorphic-git", (await t(() => git.listServerRefs({ http, url: repo.url, prefix: "refs/heads/main" })))[1]);
      add("no-change poll git CLI", (await t(() => cli(["ls-remote", repo.url, "refs/heads/main"])))[1]);
      // The server's floor: one smart-HTTP ref advertisement (git http-backend runs as a CGI process per request).
      add("no-change poll floor: one GET info/refs (raw HTTP)", (await t(() => rawGet(`${repo.url}/info/refs?service=git-upload-pack`)))[1]);

      // Cold render of the 1,000-file directory: a fresh cache, so the checkout is cold too.
      const coldCache = new RepoCache({ cacheDir: join(root, `cold-${rep}`) });
      const coldSha = await coldCache.resolveRevision(repo.url, "main", { force: true });
      const [dir, coldCo] = await t(() => coldCache.checkout(repo.url, coldSha));
      const [rendered, renderMs] = await t(() => render({ checkoutDir: dir, source: { repoURL: repo.url, path: "big" }, maxBytes: 64 << 20, appName: "big", destinationNamespace: "bench" }));
      if (rendered.objects.length !== 1000) throw new Error(`B6: render gave ${rendered.objects.length} objects`);
      add("cold checkout RepoCache (fetch + write 2,000 files)", coldCo); add("render of 1,000-file directory", renderMs);
      add("cold render total RepoCache", coldCo + renderMs);
      const cliOutDir = join(root, `cli-co-${rep}`);
      await mkdir(cliOutDir);
      const [, cliCo] = await t(async () => {
        const bare = join(root, `cli-cold-${rep}.git`);
        await cli(["clone", "--quiet", "--bare", "--depth=1", "--branch=main", repo.url, bare]);
        await exec("sh", ["-c", `git --git-dir="${bare}" archive main | tar -x -C "${cliOutDir}"`], { env: GIT_ENV, timeout: 60_000 });
      });
      const [, cliRender] = await t(() => render({ checkoutDir: cliOutDir, source: { repoURL: repo.url, path: "big" }, maxBytes: 64 << 20, appName: "big", destinationNamespace: "bench" }));
      add("cold checkout git CLI (shallow clone + archive | tar)", cliCo); add("cold render total git CLI", cliCo + cliRender);
      oldSha = newSha;
     } catch (err) {
      // A transient failure of the CGI git server under load loses one repetition, not the benchmark.
      failures.push((err as Error).message);
      ctx.log(`B6 rep ${rep} failed: ${(err as Error).message}`);
      oldSha = await cache.resolveRevision(repo.url, "main", { force: true });
      await cache.checkout(repo.url, oldSha);
      oldHashes = await Promise.all(appPaths.map((p) => cache.treeHash(repo.url, oldSha, p)));
     }
    }
    if (failures.length === reps) throw new Error(`B6: every repetition failed: ${failures[0]}`);
    const out: Metric[] = [];
    // The targets are Tack's (RepoCache); the raw isomorphic-git and git CLI rows are the yardsticks beside it.
    const targets: Record<string, { op: "<="; value: number }> = {
      "repocache total": { op: "<=", value: 100 }, "no-change poll RepoCache": { op: "<=", value: 10 },
    };
    const names: Record<string, string> = {
      "repocache total": "new commit → changed-app list, RepoCache as a push does it (ls-remote + fetch + treeHash×1000)",
      "isomorphic-git total": "new commit → changed-app list, isomorphic-git best path (ls-remote + fetch + one tree diff)",
      "git CLI total": "new commit → changed-app list, git CLI (ls-remote + fetch + diff --name-only)",
    };
    for (const [k, v] of Object.entries(s)) out.push(metric("B6", names[k] ?? k, "ms", v, targets[k]));
    if (failures.length) out[0]!.note = `${failures.length} of ${reps} repetitions failed: ${failures.join("; ")}`;
    ctx.log(`B6: ${out.map((m) => `${m.name.slice(0, 40)}=${m.value}`).join("; ")}`);
    return out;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function cm(name: string, version: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  version: "${version}"\n  setting: "value"\n`;
}

/** One plain GET on a fresh connection; the body is read and dropped. */
function rawGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.get(url, { agent: false, timeout: 30_000 }, (res) => {
      res.on("data", () => undefined);
      res.on("end", () => resolve());
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on("error", reject);
  });
}
