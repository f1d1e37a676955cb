// A real local control plane (etcd + kube-apiserver) for integration tests and the demo, in the style of
// controller-runtime's envtest: real binaries built from the Go module proxy by hack/control-plane/build.sh,
// loopback ports, throwaway certificates, and nothing left behind when the process ends.
//
// Nothing in src/ may import this file.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { generateKeyPair, randomBytes } from "node:crypto";
import { rmSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export interface ControlPlaneOptions {
  log?: (line: string) => void;
  auditLog?: boolean /* default true */;
}

export interface ControlPlane {
  readonly server: string; // https://127.0.0.1:PORT
  readonly kubeconfigPath: string; // admin client certificate in group system:masters
  readonly auditLogPath: string | undefined; // JSON-lines audit log (level Metadata, all requests) when auditLog
  readonly dir: string; // the temp dir holding certs, etcd data, kubeconfig
  /** Process ids, so that tests can prove that stop() leaves nothing running. */
  readonly pids: { readonly etcd: number; readonly apiserver: number };
  /** Writes a kubeconfig for a client certificate user with the given name and groups (no RBAC is granted). */
  userKubeconfig(user: string, groups?: string[]): Promise<string>;
  stop(): Promise<void>; // kills apiserver then etcd, waits for exit, removes dir. Idempotent.
}

const BUILD_SCRIPT = fileURLToPath(new URL("../../hack/control-plane/build.sh", import.meta.url));
// kube-controller-manager and kube-scheduler are not started yet, so a cold cache does not pay for building them.
const BINARIES = ["etcd", "kube-apiserver"] as const;

const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 50;
const TAIL_LINES = 30;
const SERVICE_CIDR = "10.0.0.0/24";
const SERVICE_IP = "10.0.0.1"; // the first address of SERVICE_CIDR: the `kubernetes` Service's ClusterIP
const CLUSTER_NAME = "tack-test";
const ADMIN_USER = "tack-admin";

// ---------------------------------------------------------------------------------------------------------------
// Binaries

let binaries: Promise<string> | undefined;

/**
 * Runs build.sh (which returns at once when the binaries are cached or TACK_CONTROL_PLANE_BIN names them) and
 * returns the directory holding them. Memoised per process: every control plane of a test file shares one lookup.
 */
export async function ensureControlPlaneBinaries(log?: (line: string) => void): Promise<string> {
  binaries ??= runBuildScript(log).catch((err: unknown) => {
    binaries = undefined; // a failed build must not poison later attempts in the same process
    throw err;
  });
  return binaries;
}

async function runBuildScript(log: ((line: string) => void) | undefined): Promise<string> {
  const emit = log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const child = spawn("bash", [BUILD_SCRIPT, "--only", BINARIES.join(",")], { stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  forEachLine(child.stdout, (line) => stdout.push(line));
  forEachLine(child.stderr, (line) => {
    keepTail(stderr, line);
    emit(line);
  });
  const { code, signal, error } = await exitOf(child);
  const dir = stdout.filter((line) => line.trim() !== "").at(-1)?.trim();
  if (error || code !== 0 || !dir) {
    const why = error ? error.message : `exit ${signal ?? code}`;
    throw new Error(`${BUILD_SCRIPT} failed (${why})${formatTail("build.sh", stderr)}`);
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup at process end
//
// A test that fails before its stop(), or a Ctrl-C during a run, must not leave an etcd and an apiserver running
// (they hold ports and tmpfs memory). The 'exit' event only allows synchronous work, so everything here is sync.

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let handlersInstalled = false;

function killEverythingSync(): void {
  for (const child of liveChildren) child.kill("SIGKILL");
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
}

function onSignal(signal: NodeJS.Signals): void {
  killEverythingSync();
  // Our listener suppressed Node's default action (terminate). When nobody else handles the signal, restore that
  // action and re-raise it, so the process still dies from the signal as its parent expects.
  if (process.listenerCount(signal) === 1) {
    uninstallHandlers();
    process.kill(process.pid, signal);
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killEverythingSync);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off("exit", killEverythingSync);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Signal handlers change how the whole process reacts to Ctrl-C: hold them only while something needs them. */
function releaseIfIdle(): void {
  if (liveChildren.size === 0 && liveDirs.size === 0) uninstallHandlers();
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly tail: string[]; // last lines of stdout+stderr, for error messages
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
}

function launch(name: string, bin: string, args: string[]): Proc {
  installHandlers();
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  liveChildren.add(child);
  const tail: string[] = [];
  forEachLine(child.stdout, (line) => keepTail(tail, line));
  forEachLine(child.stderr, (line) => keepTail(tail, line));
  const proc: Proc = {
    name,
    child,
    tail,
    exit: undefined,
    exited: exitOf(child).then((exit) => {
      liveChildren.delete(child);
      proc.exit = exit;
      return exit;
    }),
  };
  // A test that forgets stop() must not hang its process: let it end, and the 'exit' handler kills the children.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  return proc;
}

async function kill(proc: Proc): Promise<void> {
  if (proc.exit) return;
  // stop() awaits the exit: keep the event loop alive for it (launch unref'd the child).
  proc.child.ref();
  // SIGKILL, not SIGTERM: the data is thrown away, and a graceful apiserver shutdown waits for open watches.
  proc.child.kill("SIGKILL");
  await proc.exited;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    // 'error' without 'exit' is how a missing binary shows up.
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

function describeExit(exit: Exit): string {
  if (exit.error) return exit.error.message;
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

function forEachLine(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
  stream.on("end", () => {
    if (partial) onLine(partial);
  });
}

function keepTail(tail: string[], line: string): void {
  tail.push(line);
  if (tail.length > TAIL_LINES) tail.shift();
}

function formatTail(name: string, tail: readonly string[]): string {
  if (tail.length === 0) return `\n--- ${name}: no output ---`;
  return `\n--- ${name}: last ${tail.length} lines of output ---\n${tail.join("\n")}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Certificates
//
// EC P-256 keys: generating them takes microseconds, where an RSA 2048 key takes tens of milliseconds, and the
// suite starts several control planes. One `openssl req -x509 -CA` call per certificate (OpenSSL >= 3.0).

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:${SERVICE_IP}, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`;

interface Pki {
  readonly dir: string;
  readonly config: string;
  readonly caCert: string;
  readonly caKey: string;
}

interface Issued {
  readonly certPath: string;
  readonly keyPath: string;
}

const execFileAsync = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args, { timeout: 30_000, maxBuffer: 1 << 20 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new Error("openssl not found on PATH: install OpenSSL 3 (apt-get install openssl)");
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

const EC_KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function serial(): string {
  return `0x${randomBytes(16).toString("hex")}`;
}

async function createCa(dir: string): Promise<Pki> {
  const config = join(dir, "openssl.cnf");
  await writeFile(config, OPENSSL_CONFIG);
  const pki: Pki = { dir, config, caCert: join(dir, "ca.crt"), caKey: join(dir, "ca.key") };
  await openssl([
    "req", "-x509", ...EC_KEY_ARGS, "-keyout", pki.caKey, "-out", pki.caCert, "-days", "3650",
    "-subj", "/CN=tack-test-ca", "-config", config, "-extensions", "ca", "-set_serial", serial(),
  ]);
  return pki;
}

async function issue(pki: Pki, name: string, subject: string, extensions: "serving" | "client"): Promise<Issued> {
  const issued = { certPath: join(pki.dir, `${name}.crt`), keyPath: join(pki.dir, `${name}.key`) };
  await openssl([
    "req", "-x509", "-CA", pki.caCert, "-CAkey", pki.caKey, ...EC_KEY_ARGS,
    "-keyout", issued.keyPath, "-out", issued.certPath, "-days", "3650",
    "-subj", subject, "-config", pki.config, "-extensions", extensions, "-set_serial", serial(),
  ]);
  return issued;
}

/** Kubernetes reads the user from CN and the groups from each O of a client certificate. */
function clientSubject(user: string, groups: readonly string[]): string {
  for (const value of [user, ...groups]) {
    if (value === "" || /[\u0000-\u001f]/.test(value)) throw new Error(`invalid user or group name ${JSON.stringify(value)}`);
  }
  // In -subj, "/" separates attributes and "+" joins multi-valued ones; a backslash makes either literal.
  const escape = (value: string) => value.replace(/[\\/+]/g, (c) => `\\${c}`);
  return `/CN=${escape(user)}${groups.map((group) => `/O=${escape(group)}`).join("")}`;
}

async function writeServiceAccountKeys(dir: string): Promise<{ publicKey: string; privateKey: string }> {
  // Not a certificate, so no need for an openssl process: Node makes the pair in-process.
  const pair = await promisify(generateKeyPair)("ec", {
    namedCurve: "prime256v1",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const paths = { publicKey: join(dir, "sa.pub"), privateKey: join(dir, "sa.key") };
  await Promise.all([
    writeFile(paths.publicKey, pair.publicKey),
    writeFile(paths.privateKey, pair.privateKey, { mode: 0o600 }),
  ]);
  return paths;
}

async function writeKubeconfig(path: string, server: string, pki: Pki, user: string, cred: Issued): Promise<void> {
  const [ca, cert, key] = await Promise.all([readFile(pki.caCert), readFile(cred.certPath), readFile(cred.keyPath)]);
  const context = `${user}@${CLUSTER_NAME}`;
  // JSON is YAML: every kubeconfig reader (kubectl, client-go, client-node) accepts it, and it needs no library.
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: CLUSTER_NAME, cluster: { server, "certificate-authority-data": ca.toString("base64") } }],
    users: [
      {
        name: user,
        user: { "client-certificate-data": cert.toString("base64"), "client-key-data": key.toString("base64") },
      },
    ],
    contexts: [{ name: context, context: { cluster: CLUSTER_NAME, user } }],
    "current-context": context,
    preferences: {},
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

// ---------------------------------------------------------------------------------------------------------------
// Ports, readiness

/** Holds all listeners open at once so the ports are distinct; another process may still take one before we bind. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function getReadyz(agent: Agent, server: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server}/readyz?verbose`, { agent, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// Start

class StartFailure extends Error {
  readonly addressInUse: boolean;
  constructor(message: string, procs: readonly Proc[]) {
    super(message + procs.map((p) => formatTail(p.name, p.tail)).join(""));
    this.name = new.target.name;
    this.addressInUse = procs.some((p) => p.tail.some((line) => /address already in use/i.test(line)));
  }
}

/** etcd writes its WAL and database on every change: tmpfs keeps those writes (and their page cache) off the disk. */
function etcdDataParent(fallback: string): string {
  try {
    if (statSync("/dev/shm").isDirectory()) return "/dev/shm";
  } catch {
    // no /dev/shm (macOS): fall through
  }
  return fallback;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = await ensureControlPlaneBinaries(opts.log);
  try {
    return await startOnce(binDir, opts);
  } catch (err) {
    // The free ports were only free when we looked; one retry with new ports covers that race.
    if (!(err instanceof StartFailure && err.addressInUse)) throw err;
    opts.log?.("control plane: a port was taken before we bound it, retrying with new ports");
    return await startOnce(binDir, opts);
  }
}

async function startOnce(binDir: string, opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), "tack-cp-"));
  installHandlers();
  liveDirs.add(dir);
  const procs: Proc[] = [];
  const ownedDirs = new Set<string>([dir]);
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // The apiserver first: killed etcd first, it would log connection errors and retry until its own kill.
      for (const proc of procs.toReversed()) await kill(proc);
      await Promise.all([...ownedDirs].map((d) => rm(d, { recursive: true, force: true })));
      for (const d of ownedDirs) liveDirs.delete(d);
      releaseIfIdle();
    })());

  try {
    // Named after the temp dir so that a leftover is easy to attribute (and tests can check it is gone).
    const shm = etcdDataParent(dir);
    const etcdDir = shm === dir ? join(dir, "etcd") : join(shm, `${basename(dir)}-etcd`);
    await mkdir(etcdDir, { mode: 0o700 });
    ownedDirs.add(etcdDir);
    liveDirs.add(etcdDir);

    const [[etcdPort, apiPort], pki] = await Promise.all([freePorts(2), createCa(dir)]);
    if (etcdPort === undefined || apiPort === undefined) throw new Error("could not allocate ports");
    const server = `https://127.0.0.1:${apiPort}`;
    const [serving, admin, sa] = await Promise.all([
      issue(pki, "apiserver", "/CN=kube-apiserver", "serving"),
      issue(pki, ADMIN_USER, clientSubject(ADMIN_USER, ["system:masters"]), "client"),
      writeServiceAccountKeys(dir),
    ]);

    const auditLogPath = opts.auditLog === false ? undefined : join(dir, "audit.log");
    const auditArgs: string[] = [];
    if (auditLogPath) {
      const policy = join(dir, "audit-policy.yaml");
      // RequestReceived would double the lines without telling tests anything ResponseComplete does not.
      await writeFile(
        policy,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: Metadata\n",
      );
      // The log backend's default mode (blocking) writes each event before the response is sent, so a test that
      // reads the file right after its request sees it.
      auditArgs.push(`--audit-policy-file=${policy}`, `--audit-log-path=${auditLogPath}`, "--audit-log-format=json");
    }

    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    procs.push(
      launch("etcd", join(binDir, "etcd"), [
        "--name=tack",
        `--data-dir=${etcdDir}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        // A single member never talks to peers: port 0 spares us allocating (and racing for) a third port.
        "--listen-peer-urls=http://127.0.0.1:0",
        "--unsafe-no-fsync",
        "--log-level=warn",
      ]),
    );
    // Started together with etcd, not after it: the apiserver retries its etcd connection, and its own start
    // (flag parsing, OpenAPI, admission setup) overlaps with etcd's.
    procs.push(
      launch("kube-apiserver", join(binDir, "kube-apiserver"), [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${serving.certPath}`,
        `--tls-private-key-file=${serving.keyPath}`,
        `--secure-port=${apiPort}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        "--allow-privileged=true",
        "--disable-admission-plugins=ServiceAccount",
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${sa.publicKey}`,
        `--service-account-signing-key-file=${sa.privateKey}`,
        `--client-ca-file=${pki.caCert}`,
        ...auditArgs,
      ]),
    );

    const kubeconfigPath = join(dir, "admin.kubeconfig");
    const [ca, cert, key] = await Promise.all([
      readFile(pki.caCert),
      readFile(admin.certPath),
      readFile(admin.keyPath),
      writeKubeconfig(kubeconfigPath, server, pki, ADMIN_USER, admin),
    ]);
    const agent = new Agent({ ca, cert, key, keepAlive: true });
    try {
      await waitReady(agent, server, procs);
    } finally {
      agent.destroy();
    }

    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    log(`control plane: ${server} ready in ${seconds} s (dir ${dir})`);

    let users = 0;
    const [etcd, apiserver] = procs;
    return {
      server,
      kubeconfigPath,
      auditLogPath,
      dir,
      pids: { etcd: etcd?.child.pid ?? 0, apiserver: apiserver?.child.pid ?? 0 },
      async userKubeconfig(user: string, groups: string[] = []): Promise<string> {
        const n = ++users;
        const cred = await issue(pki, `user-${n}`, clientSubject(user, groups), "client");
        const path = join(dir, `user-${n}.kubeconfig`);
        await writeKubeconfig(path, server, pki, user, cred);
        return path;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitReady(agent: Agent, server: string, procs: readonly Proc[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const anyExit = Promise.race(procs.map((p) => p.exited));
  let last = "no response yet";
  for (;;) {
    const dead = procs.find((p) => p.exit);
    if (dead?.exit) throw new StartFailure(`${dead.name} ${describeExit(dead.exit)} before ${server} was ready`, procs);
    if (Date.now() > deadline) {
      throw new StartFailure(`${server} not ready after ${READY_TIMEOUT_MS / 1000} s; last /readyz: ${last}`, procs);
    }
    try {
      const { status, body } = await getReadyz(agent, server);
      if (status === 200) return;
      // ?verbose lists every check; the failing ones ("[-]…") say what the apiserver is still waiting for.
      const failing = body.split("\n").filter((line) => line.startsWith("[-]"));
      last = `HTTP ${status}${failing.length ? `: ${failing.join("; ")}` : ""}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await Promise.race([sleep(POLL_INTERVAL_MS), anyExit]);
  }
}
