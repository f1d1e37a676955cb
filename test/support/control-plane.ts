// A real local control plane for integration tests and the demo, in the style of controller-runtime's envtest:
// real binaries built from the Go module proxy by hack/control-plane/build.sh, loopback ports, throwaway
// certificates, and nothing left behind when the process ends.
//
// By default it is a small cluster where workloads really roll out: etcd, kube-apiserver, kube-controller-manager
// (every controller that needs no cloud: deployments, statefulsets, jobs, garbage collector, namespaces, ...),
// kube-scheduler, and kwok (sigs.k8s.io/kwok), which plays the kubelet for fake nodes: pods bound to them go
// Running and Ready, a Job's pods succeed. hack/control-plane/kwok/stages.yaml says exactly how pods move, and how
// a test makes one fail (SIMULATION below). `controllers: false` starts etcd and kube-apiserver only.
//
// Nothing in src/ may import this file.

import { spawn, type ChildProcess } from "node:child_process";
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
import { openssl } from "./pki.ts";

export interface ControlPlaneOptions {
  log?: (line: string) => void;
  auditLog?: boolean /* default true */;
  /**
   * Default true: also run kube-controller-manager, kube-scheduler and kwok, and register fake nodes, so that pods
   * run and Deployments, StatefulSets, DaemonSets and Jobs go through their real status transitions; garbage
   * collection and namespace deletion work. false: etcd and kube-apiserver only (starts faster; objects are stored
   * and served, nothing acts on them).
   */
  controllers?: boolean;
  /** How many fake nodes to register when controllers run (default 2). */
  nodes?: number;
}

/**
 * How a test makes a simulated pod misbehave: annotations on the pod (put them on a workload's pod template),
 * read by the kwok stages in hack/control-plane/kwok/stages.yaml. Without them a pod goes Running and Ready at once,
 * and a Job's pod then succeeds.
 *
 * - `[SIMULATION.outcome]: SIMULATION.fail`: the pod's containers exit with code 1. With restartPolicy Never or
 *   OnFailure the pod goes Running, then Failed (so a Job fails once its backoffLimit is used up; OnFailure is
 *   simplified: a kubelet would restart the container in place). With restartPolicy Always (Deployments,
 *   StatefulSets, DaemonSets) the pod goes Running but is never Ready, its containers waiting in CrashLoopBackOff
 *   with restartCount 1: a rollout that never becomes Available (and exceeds its progressDeadlineSeconds).
 * - `[SIMULATION.outcome]: SIMULATION.unready`: the pod goes Running with its containers running but never ready
 *   (a failing readiness probe). A Job's unready pod never completes.
 * - `[SIMULATION.delay]: "3s"` (a Go duration): waited before each of the pod's transitions, to watch a rollout
 *   in progress.
 */
export const SIMULATION = {
  outcome: "sim.tack.dev/outcome",
  delay: "sim.tack.dev/delay",
  fail: "fail",
  unready: "unready",
} as const;

/** The annotations of SIMULATION, for a pod template: `simulatedPod({ outcome: "fail", delay: "2s" })`. */
export function simulatedPod(sim: { outcome?: "fail" | "unready"; delay?: string }): Record<string, string> {
  const annotations: Record<string, string> = {};
  if (sim.outcome) annotations[SIMULATION.outcome] = sim.outcome;
  if (sim.delay) annotations[SIMULATION.delay] = sim.delay;
  return annotations;
}

/** Every fake node's capacity (and allocatable): room for any test, and small enough to make a pod unschedulable. */
export const NODE_CAPACITY = { cpu: "32", memory: "128Gi", pods: "110", "ephemeral-storage": "100Gi" } as const;

export interface ControlPlane {
  readonly server: string; // https://127.0.0.1:PORT
  readonly kubeconfigPath: string; // admin client certificate in group system:masters
  readonly auditLogPath: string | undefined; // JSON-lines audit log (level Metadata, all requests) when auditLog
  readonly dir: string; // the temp dir holding certs, etcd data, kubeconfig
  /** Process ids, so that tests can prove that stop() leaves nothing running. The last three only with controllers. */
  readonly pids: {
    readonly etcd: number;
    readonly apiserver: number;
    readonly controllerManager?: number;
    readonly scheduler?: number;
    readonly kwok?: number;
  };
  /** The fake nodes (Ready, untainted, capacity NODE_CAPACITY) that kwok runs pods on; empty without controllers. */
  readonly nodes: readonly string[];
  /** Writes a kubeconfig for a client certificate user with the given name and groups (no RBAC is granted). */
  userKubeconfig(user: string, groups?: string[]): Promise<string>;
  /**
   * Kills kube-apiserver (SIGKILL: open watches and connections are cut, as in a crash), keeps it down for
   * `downMs` (default 0), starts it again with the same flags on the same port against the same etcd, and
   * resolves once its /readyz answers 200. etcd keeps its data, so resourceVersions continue where they were;
   * the restarted server's watch cache starts at the current one, so older watch positions get 410 Gone.
   * Returns when the server went down and when it was ready again (Date.now() values).
   */
  restartApiServer(opts?: { downMs?: number }): Promise<{ downAt: number; readyAt: number }>;
  stop(): Promise<void>; // kills kwok, scheduler, controller manager, apiserver, etcd; waits; removes dir. Idempotent.
}

const BUILD_SCRIPT = fileURLToPath(new URL("../../hack/control-plane/build.sh", import.meta.url));
const KWOK_STAGES = fileURLToPath(new URL("../../hack/control-plane/kwok/stages.yaml", import.meta.url));
// All of them even for `controllers: false`: the lookup is per process, and a cached binary costs nothing.
const BINARIES = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"] as const;

const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 50;
const TAIL_LINES = 30;
const SERVICE_CIDR = "10.0.0.0/24";
const SERVICE_IP = "10.0.0.1"; // the first address of SERVICE_CIDR: the `kubernetes` Service's ClusterIP
const CLUSTER_NAME = "tack-test";
const ADMIN_USER = "tack-admin";
const DEFAULT_NODES = 2;
// kwok manages only the nodes that carry this annotation (kwok's documented convention), never a real one.
const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
const POD_CIDR = "10.244.0.0/16"; // kwok's pod IPs; its default (10.0.0.0/24) would overlap SERVICE_CIDR
/** How long a fake node's Lease is valid (kwok renews it every quarter of this, as a kubelet does). */
export const NODE_LEASE_SECONDS = 40;
// Controllers that need a cloud provider or node CIDR allocation, which this cluster has neither of: without them
// they only log that they are skipped.
const CONTROLLERS = "*,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller,-node-ipam-controller";

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
  const closed = new Promise((resolve) => child.once("close", resolve));
  const { code, signal, error } = await exitOf(child);
  // 'exit' can come before the last of stdout has been read: the directory is its last line, so wait for 'close'.
  if (!error) await closed;
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

function launch(name: string, bin: string, args: string[], env?: Record<string, string>): Proc {
  installHandlers();
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: env && { ...process.env, ...env } });
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

interface Response {
  status: number;
  body: string;
}

function call(agent: Agent, url: string, method = "GET", json?: unknown): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers = json === undefined ? {} : { "content-type": "application/json" };
    const req = request(url, { agent, method, headers, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(json === undefined ? undefined : JSON.stringify(json));
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

    const controllers = opts.controllers ?? true;
    const [[etcdPort, apiPort, kcmPort, schedulerPort], pki] = await Promise.all([
      freePorts(controllers ? 4 : 2),
      createCa(dir),
    ]);
    if (etcdPort === undefined || apiPort === undefined) throw new Error("could not allocate ports");
    const server = `https://127.0.0.1:${apiPort}`;
    const [serving, admin, sa] = await Promise.all([
      issue(pki, "apiserver", "/CN=kube-apiserver", "serving"),
      issue(pki, ADMIN_USER, clientSubject(ADMIN_USER, ["system:masters"]), "client"),
      writeServiceAccountKeys(dir),
    ]);
    // Written now, while etcd and the apiserver start: the controllers are launched the moment it is ready.
    const components = controllers
      ? prepareComponents(dir, server, pki, { kcmPort, schedulerPort, serving, sa })
      : undefined;
    components?.catch(() => {}); // awaited below; if the apiserver fails first, this must not be an unhandled rejection

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
    const launchApiServer = () =>
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
      ]);
    procs.push(launchApiServer());

    const kubeconfigPath = join(dir, "admin.kubeconfig");
    const [ca, cert, key] = await Promise.all([
      readFile(pki.caCert),
      readFile(admin.certPath),
      readFile(admin.keyPath),
      writeKubeconfig(kubeconfigPath, server, pki, ADMIN_USER, admin),
    ]);
    const agent = new Agent({ ca, cert, key, keepAlive: true });
    let nodes: string[] = [];
    try {
      await waitReady(agent, server, procs);
      if (components) {
        const apiReady = performance.now();
        procs.push(...launchComponents(binDir, await components));
        nodes = await registerNodes(agent, server, opts.nodes ?? DEFAULT_NODES, procs);
        log(`control plane: controllers, scheduler, kwok and ${nodes.length} Ready nodes in ${secondsSince(apiReady)} s`);
      }
    } finally {
      agent.destroy();
    }

    log(`control plane: ${server} ready in ${secondsSince(started)} s (dir ${dir})`);
    // A component that dies later (not by stop()) leaves tests waiting for rollouts that never come: say why, on
    // stderr when the caller gave no log.
    const warn = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
    // Killed on purpose by restartApiServer: its exit is no news.
    const restarted = new Set<Proc>();
    const watchExit = (proc: Proc) => {
      void proc.exited.then((exit) => {
        if (!stopping && !restarted.has(proc)) warn(`control plane: ${proc.name} ${describeExit(exit)} while running${formatTail(proc.name, proc.tail)}`);
      });
    };
    for (const proc of procs) watchExit(proc);

    let restarting: Promise<{ downAt: number; readyAt: number }> | undefined;
    const restartApiServer = async (downMs: number) => {
      const index = procs.findIndex((p) => p.name === "kube-apiserver");
      const old = procs[index]!;
      restarted.add(old);
      await kill(old);
      const downAt = Date.now();
      if (downMs > 0) await sleep(downMs);
      if (stopping) throw new Error("control plane stopped during the apiserver restart");
      // Same slot in procs: stop() still kills it between the controllers and etcd.
      const fresh = launchApiServer();
      procs[index] = fresh;
      watchExit(fresh);
      const restartAgent = new Agent({ ca, cert, key, keepAlive: true });
      try {
        await waitReady(restartAgent, server, procs);
      } finally {
        restartAgent.destroy();
      }
      log(`control plane: kube-apiserver restarted, down ${((Date.now() - downAt) / 1000).toFixed(2)} s`);
      return { downAt, readyAt: Date.now() };
    };

    let users = 0;
    const pid = (name: string) => procs.find((p) => p.name === name)?.child.pid;
    return {
      server,
      kubeconfigPath,
      auditLogPath,
      dir,
      // A getter: a restarted apiserver has a new pid, and stop() must be provably rid of that one.
      get pids() {
        return {
          etcd: pid("etcd") ?? 0,
          apiserver: pid("kube-apiserver") ?? 0,
          ...(components && {
            controllerManager: pid("kube-controller-manager"),
            scheduler: pid("kube-scheduler"),
            kwok: pid("kwok"),
          }),
        };
      },
      nodes,
      restartApiServer(restartOpts: { downMs?: number } = {}) {
        if (restarting) return Promise.reject(new Error("kube-apiserver is already being restarted"));
        restarting = restartApiServer(restartOpts.downMs ?? 0).finally(() => { restarting = undefined; });
        return restarting;
      },
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

const secondsSince = (start: number) => ((performance.now() - start) / 1000).toFixed(2);

// ---------------------------------------------------------------------------------------------------------------
// Controllers, scheduler, simulated nodes

interface Components {
  readonly kcm: { kubeconfig: string; port: number; caCert: string; caKey: string; serving: Issued; saKey: string };
  readonly scheduler: { kubeconfig: string; port: number; serving: Issued };
  readonly kwok: { kubeconfig: string; workDir: string };
}

/**
 * Certificates and kubeconfigs for the three components. Each has its own user (so that the audit log and
 * managedFields tell them apart from the admin and from Tack), in system:masters: kube-controller-manager runs
 * with --use-service-account-credentials=false, so one identity needs every controller's permissions.
 */
async function prepareComponents(
  dir: string,
  server: string,
  pki: Pki,
  ports: { kcmPort: number | undefined; schedulerPort: number | undefined; serving: Issued; sa: { privateKey: string } },
): Promise<Components> {
  const { kcmPort, schedulerPort, serving, sa } = ports;
  if (kcmPort === undefined || schedulerPort === undefined) throw new Error("could not allocate ports");
  const kubeconfig = async (file: string, user: string) => {
    const cred = await issue(pki, file, clientSubject(user, ["system:masters"]), "client");
    const path = join(dir, `${file}.kubeconfig`);
    await writeKubeconfig(path, server, pki, user, cred);
    return path;
  };
  const workDir = join(dir, "kwok");
  const [kcm, scheduler, kwok] = await Promise.all([
    kubeconfig("kube-controller-manager", "system:kube-controller-manager"),
    kubeconfig("kube-scheduler", "system:kube-scheduler"),
    kubeconfig("kwok", "kwok"),
    mkdir(workDir),
  ]);
  return {
    // They serve /healthz over HTTPS; the apiserver's serving certificate (for 127.0.0.1) spares two more.
    kcm: { kubeconfig: kcm, port: kcmPort, caCert: pki.caCert, caKey: pki.caKey, serving, saKey: sa.privateKey },
    scheduler: { kubeconfig: scheduler, port: schedulerPort, serving },
    kwok: { kubeconfig: kwok, workDir },
  };
}

/**
 * Started once the apiserver is ready, not with it: kube-controller-manager gives up (exits) when the apiserver is
 * not healthy within 10 s of its start, which a loaded 2-core machine can exceed.
 */
function launchComponents(binDir: string, c: Components): Proc[] {
  return [
    launch("kube-controller-manager", join(binDir, "kube-controller-manager"), [
      `--kubeconfig=${c.kcm.kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${c.kcm.port}`,
      `--tls-cert-file=${c.kcm.serving.certPath}`,
      `--tls-private-key-file=${c.kcm.serving.keyPath}`,
      `--controllers=${CONTROLLERS}`,
      "--leader-elect=false",
      "--use-service-account-credentials=false",
      `--service-account-private-key-file=${c.kcm.saKey}`,
      `--root-ca-file=${c.kcm.caCert}`,
      `--cluster-signing-cert-file=${c.kcm.caCert}`,
      `--cluster-signing-key-file=${c.kcm.caKey}`,
      `--cluster-name=${CLUSTER_NAME}`,
    ]),
    launch("kube-scheduler", join(binDir, "kube-scheduler"), [
      `--kubeconfig=${c.scheduler.kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${c.scheduler.port}`,
      `--tls-cert-file=${c.scheduler.serving.certPath}`,
      `--tls-private-key-file=${c.scheduler.serving.keyPath}`,
      "--leader-elect=false",
    ]),
    launch(
      "kwok",
      join(binDir, "kwok"),
      [
        `--kubeconfig=${c.kwok.kubeconfig}`,
        `--config=${KWOK_STAGES}`,
        "--manage-all-nodes=false",
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
        `--cidr=${POD_CIDR}`,
        // A kubelet's default. Without it kwok keeps no Lease in kube-node-lease, and kube-controller-manager's node
        // lifecycle controller, hearing nothing within --node-monitor-grace-period (50 s at 1.36), marks every node
        // NotReady: their pods go unready and every Healthy app turns Progressing about a minute in. kwok renews
        // each Lease every quarter of this (10 s).
        `--node-lease-duration-seconds=${NODE_LEASE_SECONDS}`,
      ],
      // kwok also reads $KWOK_WORKDIR/kwok.yaml (default ~/.kwok): a developer's own kwok config must not leak in.
      { KWOK_WORKDIR: c.kwok.workDir },
    ),
  ];
}

/**
 * Registers the fake nodes and waits until they are usable: kwok has made them Ready, and the node lifecycle
 * controller has removed the not-ready taint the apiserver put on them at creation. That proves kwok and
 * kube-controller-manager work before any test relies on them (a pod created earlier would wait in the
 * scheduler's backoff instead of running at once).
 */
async function registerNodes(agent: Agent, server: string, count: number, procs: readonly Proc[]): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `kwok-node-${i + 1}`);
  await Promise.all(
    names.map(async (name) => {
      const node = {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name,
          annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
          labels: {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            type: "kwok",
          },
        },
        spec: {},
        status: { capacity: NODE_CAPACITY, allocatable: NODE_CAPACITY },
      };
      const res = await call(agent, `${server}/api/v1/nodes`, "POST", node);
      if (res.status !== 201) throw new StartFailure(`creating node ${name}: HTTP ${res.status} ${res.body}`, procs);
    }),
  );
  await waitFor(procs, "fake nodes Ready and untainted", async () => {
    const res = await call(agent, `${server}/api/v1/nodes?labelSelector=type%3Dkwok`);
    if (res.status !== 200) return `HTTP ${res.status}`;
    const items = (JSON.parse(res.body) as { items: NodeObject[] }).items;
    const waiting = names.filter((name) => {
      const node = items.find((n) => n.metadata.name === name);
      const ready = node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      return !ready || (node?.spec?.taints?.length ?? 0) > 0;
    });
    return waiting.length === 0 ? true : `waiting for ${waiting.join(", ")}`;
  });
  return names;
}

interface NodeObject {
  metadata: { name: string };
  spec?: { taints?: unknown[] };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Polls check (true = done, a string = what is still awaited) until the deadline or until a process exits. */
async function waitFor(procs: readonly Proc[], what: string, check: () => Promise<true | string>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const anyExit = Promise.race(procs.map((p) => p.exited));
  let last = "not checked yet";
  for (;;) {
    const dead = procs.find((p) => p.exit);
    if (dead?.exit) throw new StartFailure(`${dead.name} ${describeExit(dead.exit)} while waiting for ${what}`, procs);
    if (Date.now() > deadline) throw new StartFailure(`${what}: not done after ${READY_TIMEOUT_MS / 1000} s; ${last}`, procs);
    try {
      const result = await check();
      if (result === true) return;
      last = result;
    } catch (err) {
      last = (err as Error).message;
    }
    await Promise.race([sleep(POLL_INTERVAL_MS), anyExit]);
  }
}

async function waitReady(agent: Agent, server: string, procs: readonly Proc[]): Promise<void> {
  await waitFor(procs, `${server}/readyz`, async () => {
    const { status, body } = await call(agent, `${server}/readyz?verbose`);
    if (status === 200) return true;
    // ?verbose lists every check; the failing ones ("[-]…") say what the apiserver is still waiting for.
    const failing = body.split("\n").filter((line) => line.startsWith("[-]"));
    return `last /readyz: HTTP ${status}${failing.length ? `: ${failing.join("; ")}` : ""}`;
  });
}
