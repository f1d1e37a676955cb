// A real git smart-HTTP server for tests: `git http-backend` (the CGI that ships with git) behind a small
// node:http server on 127.0.0.1. Using the real backend instead of a fake means the client under test meets
// the same protocol, pack negotiation and auth failures it meets in production.
//
// Repos live as bare repos in a temp dir. Each TestRepo keeps a working clone that commits and pushes over
// HTTP, so pushes go through the same server (and count as requests: snapshot requestCount after commits).
//
// With `tls` the repositories are served over HTTPS (optionally demanding a client certificate). The working
// clones then push through a second, plain-HTTP listener on 127.0.0.1 with the same handler, so the test's
// own git needs neither the CA nor a client certificate.

import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, mkdir, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface GitServerOptions {
  auth?: { username: string; password: string };
  /** Serve HTTPS with this PEM key and certificate chain. */
  tls?: {
    key: string;
    cert: string;
    /** CAs that sign acceptable client certificates. */
    ca?: string;
    /** Fail the TLS handshake of a client without a certificate signed by `ca`. */
    requestCert?: boolean;
  };
}

export interface TestRepo {
  readonly name: string;
  readonly url: string; // http(s)://127.0.0.1:PORT/<name>.git (no credentials in it)
  /**
   * Writes files (text, or raw bytes), symlinks ({ symlink: target }, committed as git symlinks) or deletes them
   * (null) in a working clone, commits and pushes to the branch (default main). Returns the new commit SHA.
   */
  commit(files: Record<string, FileChange>, message?: string, opts?: { branch?: string }): Promise<string>;
  tag(name: string, ref?: string): Promise<void>; // lightweight tag pushed
  head(branch?: string): Promise<string>;
}

export type FileChange = string | Uint8Array | { symlink: string } | null;

export type GitService = "ref-listing" | "fetch" | "push";

/** Which protocol step a request is, from its method, path and query (undefined: not a git request). */
function gitService(method: string | undefined, rest: string | undefined, query: URLSearchParams): GitService | undefined {
  if (rest === "/info/refs") {
    const service = query.get("service");
    if (service === "git-upload-pack") return "ref-listing";
    if (service === "git-receive-pack") return "push";
    return undefined;
  }
  if (method === "POST" && rest === "/git-upload-pack") return "fetch";
  if (method === "POST" && rest === "/git-receive-pack") return "push";
  return undefined;
}

export interface GitServer {
  readonly baseUrl: string;
  /** Creates a bare repo with a first commit holding `files` on branch main (HEAD → main). */
  createRepo(name: string, files: Record<string, string>): Promise<TestRepo>;
  /** Number of HTTP requests served so far, per repo name (pushes by the test's own clones count too). */
  requestCount(repoName?: string): number;
  /**
   * Requests to one repo by what they ask the smart-HTTP protocol (v1) for: "ref-listing" is the GET of
   * info/refs for upload-pack (resolving a revision), "fetch" the POST to git-upload-pack that negotiates and
   * sends objects, "push" anything for receive-pack. Tests assert "no fetch when nothing moved" on "fetch":
   * counting every request cannot tell a poll that only lists refs from one that fetches each time.
   */
  serviceCount(repoName: string, service: GitService): number;
  stop(): Promise<void>; // closes the server, removes temp dirs
}

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const REPO_PATH = /^\/([A-Za-z0-9][A-Za-z0-9._-]*)\.git(\/.*)?$/;

// Fixed identity and dates make commits independent of the machine's git config; the isolated HOME and
// GIT_CONFIG_NOSYSTEM keep a developer's ~/.gitconfig (hooks, signing, templates) out of test repos.
function gitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Tack Test",
    GIT_AUTHOR_EMAIL: "test@tack.invalid",
    GIT_COMMITTER_NAME: "Tack Test",
    GIT_COMMITTER_EMAIL: "test@tack.invalid",
    LANG: "C",
  };
}

export async function startGitServer(opts: GitServerOptions = {}): Promise<GitServer> {
  const root = await mkdtemp(join(tmpdir(), "tack-git-server-"));
  const reposDir = join(root, "repos");
  const worksDir = join(root, "work");
  const home = join(root, "home");
  await Promise.all([mkdir(reposDir), mkdir(worksDir), mkdir(home)]);
  const env = gitEnv(home);
  const { stdout: execPath } = await execFileAsync("git", ["--exec-path"], { env });
  const backend = join(execPath.trim(), "git-http-backend");

  const counts = new Map<string, number>();
  const serviceCounts = new Map<string, number>(); // "<repo> <service>" → requests
  let total = 0;
  const expectedAuth = opts.auth
    ? `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString("base64")}`
    : undefined;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const match = REPO_PATH.exec(url.pathname);
    total++;
    if (match?.[1]) {
      counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
      const service = gitService(req.method, match[2], url.searchParams);
      if (service) serviceCounts.set(`${match[1]} ${service}`, (serviceCounts.get(`${match[1]} ${service}`) ?? 0) + 1);
    }
    if (expectedAuth && req.headers.authorization !== expectedAuth) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="tack-test"', "Content-Type": "text/plain" });
      res.end("authentication required\n");
      return;
    }
    if (!match) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    runBackend(req, res, url, reposDir, backend, env, opts.auth?.username).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`git http-backend failed: ${String(err)}\n`);
    });
  };
  const listen = async (server: Server): Promise<string> => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const server = opts.tls
    ? createHttpsServer({ ...opts.tls, rejectUnauthorized: opts.tls.requestCert ?? false }, handler)
    : createServer(handler);
  const baseUrl = `${opts.tls ? "https" : "http"}://${await listen(server)}`;
  const pushServer = opts.tls ? createServer(handler) : undefined;
  const pushBaseUrl = pushServer ? `http://${await listen(pushServer)}` : baseUrl;

  const git = async (cwd: string, args: string[]): Promise<string> => {
    const auth = expectedAuth ? ["-c", `http.extraHeader=Authorization: ${expectedAuth}`] : [];
    const { stdout } = await execFileAsync("git", [...auth, ...args], { cwd, env, maxBuffer: 16 << 20 });
    return stdout.trim();
  };

  return {
    baseUrl,
    async createRepo(name, files) {
      if (!REPO_NAME.test(name) || name.endsWith(".git")) throw new Error(`invalid test repo name '${name}'`);
      const bare = join(reposDir, `${name}.git`);
      const work = join(worksDir, name);
      const url = `${baseUrl}/${name}.git`;
      await execFileAsync("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare], { env });
      await git(bare, ["config", "http.receivepack", "true"]);
      await execFileAsync("git", ["init", "--quiet", "--initial-branch=main", work], { env });
      await git(work, ["remote", "add", "origin", `${pushBaseUrl}/${name}.git`]);
      await writeFiles(work, files);
      await git(work, ["add", "-A"]);
      await git(work, ["commit", "--quiet", "--allow-empty", "-m", "initial commit"]);
      await git(work, ["push", "--quiet", "origin", "main"]);

      // Commits are serialised per repo: the working clone has one index and one HEAD.
      let queue: Promise<unknown> = Promise.resolve();
      const serial = <T>(fn: () => Promise<T>): Promise<T> => {
        const run = queue.then(fn, fn);
        queue = run.catch(() => undefined);
        return run;
      };
      const repo: TestRepo = {
        name,
        url,
        commit: (changes, message = "update", o = {}) =>
          serial(async () => {
            const branch = o.branch ?? "main";
            const exists = await git(work, ["branch", "--list", branch]);
            await git(work, exists ? ["checkout", "--quiet", branch] : ["checkout", "--quiet", "-b", branch, "main"]);
            await writeFiles(work, changes);
            await git(work, ["add", "-A"]);
            await git(work, ["commit", "--quiet", "--allow-empty", "-m", message]);
            await git(work, ["push", "--quiet", "origin", branch]);
            return git(work, ["rev-parse", "HEAD"]);
          }),
        tag: (tagName, ref = "main") =>
          serial(async () => {
            await git(work, ["tag", tagName, ref]);
            await git(work, ["push", "--quiet", "origin", `refs/tags/${tagName}`]);
          }),
        head: (branch = "main") => git(bare, ["rev-parse", `refs/heads/${branch}`]),
      };
      return repo;
    },
    requestCount(repoName) {
      return repoName === undefined ? total : (counts.get(repoName) ?? 0);
    },
    serviceCount(repoName, service) {
      return serviceCounts.get(`${repoName} ${service}`) ?? 0;
    },
    async stop() {
      for (const s of pushServer ? [server, pushServer] : [server]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function writeFiles(dir: string, files: Record<string, FileChange>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path);
    // Whatever was there goes first: a file may become a symlink and back.
    await unlink(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    if (content === null) continue;
    await mkdir(dirname(file), { recursive: true });
    if (typeof content === "object" && "symlink" in content) await symlink(content.symlink, file);
    else await writeFile(file, content);
  }
}

// Runs one CGI request (RFC 3875): request metadata in the environment, body on stdin, then a header block
// ("Status: …" plus headers) and the body on stdout.
async function runBackend(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  reposDir: string,
  backend: string,
  env: NodeJS.ProcessEnv,
  remoteUser: string | undefined,
): Promise<void> {
  const cgiEnv: NodeJS.ProcessEnv = {
    ...env,
    GIT_PROJECT_ROOT: reposDir,
    GIT_HTTP_EXPORT_ALL: "1",
    GATEWAY_INTERFACE: "CGI/1.1",
    REQUEST_METHOD: req.method ?? "GET",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
  };
  if (remoteUser) cgiEnv.REMOTE_USER = remoteUser;
  if (req.headers["content-type"]) cgiEnv.CONTENT_TYPE = req.headers["content-type"];
  if (req.headers["content-length"]) cgiEnv.CONTENT_LENGTH = req.headers["content-length"];
  if (req.headers["content-encoding"]) cgiEnv.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
  const protocol = req.headers["git-protocol"];
  if (typeof protocol === "string") cgiEnv.GIT_PROTOCOL = protocol;

  const child = spawn(backend, [], { env: cgiEnv, stdio: ["pipe", "pipe", "pipe"] });
  req.pipe(child.stdin);
  child.stdin.on("error", () => undefined); // the backend may answer before reading the whole body
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));

  let head = Buffer.alloc(0);
  let headerDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headerDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf("\r\n\r\n");
    const lf = head.indexOf("\n\n");
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    if (end < 0) return;
    headerDone = true;
    const sep = end === crlf ? 4 : 2;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (key.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
      else headers[key] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + sep));
  });
  const [code] = (await once(child, "close")) as [number | null];
  if (!headerDone) {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(`git http-backend exited with ${code}: ${stderr}\n`);
    return;
  }
  res.end();
}
