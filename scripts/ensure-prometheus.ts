// Finds promtool and prometheus (Debian's `prometheus` package) for the alert-rule tests, and
// installs the package with apt-get when they are missing and we are root. `apt-get update` runs only when
// the install fails (a fresh machine's package lists may be empty or stale).
//
//   node scripts/ensure-prometheus.ts          prints the two paths (installs first if needed)
//   import { ensurePrometheus } from "./ensure-prometheus.ts"   → { promtool, prometheus }
//
// TACK_PROMETHEUS_BIN=DIR uses the binaries in DIR instead (nothing is installed).
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface PrometheusBinaries { promtool: string; prometheus: string }

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

async function onPath(name: string, dirs: string[]): Promise<string | undefined> {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

async function find(env: NodeJS.ProcessEnv): Promise<PrometheusBinaries | undefined> {
  const dirs = env.TACK_PROMETHEUS_BIN ? [env.TACK_PROMETHEUS_BIN] : [...(env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/bin", "/usr/local/bin"];
  const [promtool, prometheus] = await Promise.all([onPath("promtool", dirs), onPath("prometheus", dirs)]);
  return promtool && prometheus ? { promtool, prometheus } : undefined;
}

let pending: Promise<PrometheusBinaries> | undefined;

/** Memoised per process. Throws with what to do when the binaries are missing and cannot be installed. */
export function ensurePrometheus(log: (line: string) => void = () => {}, env: NodeJS.ProcessEnv = process.env): Promise<PrometheusBinaries> {
  pending ??= (async () => {
    const found = await find(env);
    if (found) return found;
    if (env.TACK_PROMETHEUS_BIN) throw new Error(`TACK_PROMETHEUS_BIN=${env.TACK_PROMETHEUS_BIN} holds no promtool and prometheus`);
    if (process.getuid?.() !== 0) {
      throw new Error("promtool and prometheus are missing: install Debian's prometheus package (sudo apt-get install prometheus), or set TACK_PROMETHEUS_BIN=DIR");
    }
    const aptEnv = { ...env, DEBIAN_FRONTEND: "noninteractive" };
    const install = () => run("apt-get", ["install", "-y", "--no-install-recommends", "prometheus"], { env: aptEnv, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
    log("prometheus: installing Debian's prometheus package (promtool + server)");
    try {
      await install();
    } catch {
      log("prometheus: install failed; running apt-get update and retrying");
      await run("apt-get", ["update"], { env: aptEnv, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
      await install();
    }
    const installed = await find(env);
    if (!installed) throw new Error("apt-get installed prometheus, but promtool or prometheus is still not found in /usr/bin");
    log(`prometheus: ${installed.prometheus}, ${installed.promtool}`);
    return installed;
  })();
  pending.catch(() => { pending = undefined; });
  return pending;
}

if (import.meta.main) {
  const bins = await ensurePrometheus((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`promtool=${bins.promtool}\nprometheus=${bins.prometheus}\n`);
}
