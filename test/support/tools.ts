// The render tools for tests: ensureTools() builds (once, cached outside the repo) or finds the pinned helm and
// kustomize with hack/tools/build.sh; startChartRepo() serves a Helm chart repository (index.yaml + archives
// made by `helm package`) on 127.0.0.1 with node:http, for dependency and repository-chart tests.
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;

export interface Tools { dir: string; helm: string; kustomize: string }

let tools: Promise<Tools> | undefined;

/** helm and kustomize at the pinned versions (TACK_TOOLS_BIN=DIR uses ready binaries). Builds on first use: minutes. */
export function ensureTools(): Promise<Tools> {
  tools ??= (async () => {
    const { stdout } = await execFileAsync("bash", [join(ROOT, "hack/tools/build.sh")], { maxBuffer: 16 << 20, timeout: 60 * 60_000 })
      .catch((err: unknown) => { throw new Error(`hack/tools/build.sh failed: ${(err as { stderr?: string }).stderr ?? String(err)}`); });
    const dir = stdout.trim().split("\n").pop()!;
    return { dir, helm: join(dir, "helm"), kustomize: join(dir, "kustomize") };
  })();
  return tools;
}

export interface ChartRepo {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  /** Requests served, by path. */
  requests: string[];
  /** Packages another chart directory into the repository and re-indexes it. */
  add(chartDir: string): Promise<void>;
  stop(): Promise<void>;
}

/** A Helm chart repository on loopback, holding the given chart directories packaged with `helm package`. */
export async function startChartRepo(helm: string, chartDirs: string[], opts: { auth?: { username: string; password: string } } = {}): Promise<ChartRepo> {
  const dir = await mkdtemp(join(tmpdir(), "tack-chart-repo-"));
  const home = await mkdtemp(join(tmpdir(), "tack-chart-repo-home-"));
  const env = { PATH: process.env.PATH ?? "", HOME: home, HELM_CACHE_HOME: join(home, "cache"), HELM_CONFIG_HOME: join(home, "config"), HELM_DATA_HOME: join(home, "data") };
  const requests: string[] = [];
  const expected = opts.auth ? `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString("base64")}` : undefined;
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    if (expected && req.headers.authorization !== expected) { res.writeHead(401).end("unauthorized\n"); return; }
    const name = path.replace(/^\/+/, "");
    if (!/^[A-Za-z0-9._-]+$/.test(name)) { res.writeHead(404).end(); return; }
    readFile(join(dir, name)).then(
      (body) => res.writeHead(200, { "Content-Type": name.endsWith(".yaml") ? "text/yaml" : "application/gzip" }).end(body),
      () => res.writeHead(404).end("not found\n"));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const add = async (chartDir: string) => {
    await execFileAsync(helm, ["package", chartDir, "--destination", dir], { env });
    await execFileAsync(helm, ["repo", "index", dir, "--url", url], { env });
  };
  for (const chart of chartDirs) await add(chart);
  return {
    url, requests, add,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Lists the archives a chart repository holds (for assertions). */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
