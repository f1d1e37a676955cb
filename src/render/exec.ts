// Running the render tools (helm, kustomize, kubectl): no shell, a clean environment, a time limit, a cap
// on what they print, and errors that name the tool, say how to install it, and carry no credentials.
import { spawn } from "node:child_process";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { redactSecrets } from "../redact.ts";
import { decodeUtf8 } from "./manifests.ts";
import { PINNED_TOOL_VERSIONS } from "./tools.ts";

export type ToolName = "helm" | "kustomize" | "kubectl";

// The pinned build that hack/tools/build.sh makes is found without help (tools.ts); the hint says so.
const INSTALL_HINT: Record<ToolName, string> = {
  helm: `install helm ${PINNED_TOOL_VERSIONS.helm} (go install helm.sh/helm/v3/cmd/helm@${PINNED_TOOL_VERSIONS.helm}, or 'bash hack/tools/build.sh', whose build Tack finds by itself) and put it on PATH, or name it with --helm-binary or TACK_HELM_BINARY`,
  kustomize: `install kustomize ${PINNED_TOOL_VERSIONS.kustomize} (go install sigs.k8s.io/kustomize/kustomize/v5@${PINNED_TOOL_VERSIONS.kustomize}, or 'bash hack/tools/build.sh', whose build Tack finds by itself) and put it on PATH, or name it with --kustomize-binary or TACK_KUSTOMIZE_BINARY`,
  kubectl: "install kubectl and put it on PATH, or configure the kustomize binary instead",
};

export interface ToolRun {
  tool: ToolName;
  /** Path or bare name (looked up on PATH). */
  binary: string;
  args: string[];
  cwd?: string;
  /** The complete environment of the tool (nothing is inherited but PATH). */
  env?: Record<string, string>;
  stdin?: string;
  timeoutMs: number;
  /** Bound on stdout; stderr is kept to its last 64 KiB. */
  maxOutputBytes: number;
  signal?: AbortSignal;
  /** Values masked in every error text (passwords, tokens). */
  secrets?: string[];
  /** Says what was being done, for messages: "helm template of 'charts/app'". */
  what: string;
  /** Rewrites the tool's messages (temp paths → repo-relative ones). */
  tidy?: (text: string) => string;
  /** Whether a failing exit is worth retrying (network fetches) or not (a template error). */
  terminalOnFailure?: boolean;
}

const STDERR_KEEP = 64 * 1024;

/** Runs the tool and returns its stdout; throws a ComparisonError on every failure. */
export function runTool(run: ToolRun): Promise<string> {
  const secrets = run.secrets ?? [];
  const clean = (text: string) => redactSecrets(run.tidy ? run.tidy(text) : text, secrets);
  return new Promise<string>((resolve, reject) => {
    if (run.signal?.aborted) { reject(new ComparisonError(ErrorReason.RenderError, `${run.what}: cancelled`)); return; }
    const child = spawn(run.binary, run.args, {
      cwd: run.cwd, env: { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", ...run.env },
      // Its own process group, so that a timeout also stops what the tool started (plugins, a shell's sleep).
      shell: false, stdio: ["pipe", "pipe", "pipe"], windowsHide: true, detached: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    let failure: ComparisonError | undefined;
    const fail = (e: ComparisonError) => {
      if (failure) return;
      failure = e;
      try { if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL"); } catch { child.kill("SIGKILL"); }
    };
    const timer = setTimeout(() => fail(new ComparisonError(ErrorReason.RenderTimeout,
      `${run.what}: ${run.tool} did not finish within ${formatMs(run.timeoutMs)}; it was stopped (raise the render timeout if the chart is legitimately slow)`)),
    run.timeoutMs);
    const onAbort = () => fail(new ComparisonError(ErrorReason.RenderError, `${run.what}: cancelled`));
    run.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > run.maxOutputBytes) {
        fail(new ComparisonError(ErrorReason.ManifestTooLarge,
          `${run.what}: ${run.tool} printed more than ${run.maxOutputBytes} bytes of manifests; raise --max-manifest-bytes or split the app`, { terminal: true }));
        return;
      }
      out.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
      if (err.length > STDERR_KEEP * 2) err = err.slice(-STDERR_KEEP);
    });
    child.stdin.on("error", () => { /* the tool may exit without reading stdin */ });
    child.stdin.end(run.stdin ?? "");
    const done = () => { clearTimeout(timer); run.signal?.removeEventListener("abort", onAbort); };
    child.on("error", (e: NodeJS.ErrnoException) => {
      done();
      if (e.code === "ENOENT" || e.code === "EACCES") {
        reject(new ComparisonError(ErrorReason.ToolNotFound,
          `${run.what}: ${run.tool} not found (${e.code === "EACCES" ? "not executable" : "no such file"}: '${run.binary}'); ${INSTALL_HINT[run.tool]}`));
      } else {
        reject(new ComparisonError(ErrorReason.RenderError, `${run.what}: could not start ${run.tool}: ${clean(e.message)}`));
      }
    });
    // A killed tool's grandchildren may hold its pipes open: a failure is reported when the tool itself exits.
    child.on("exit", () => { if (failure) { done(); reject(failure); } });
    child.on("close", (code, signal) => {
      done();
      if (failure) { reject(failure); return; }
      if (code === 0) {
        try { resolve(decodeUtf8(Buffer.concat(out), `${run.what}: ${run.tool}'s output`)); } catch (e) { reject(e); }
        return;
      }
      const detail = clean(lastLines(err.trim(), 20)) || `exit ${code ?? signal}`;
      reject(new ComparisonError(ErrorReason.RenderError, `${run.what} failed: ${detail}`, { terminal: run.terminalOnFailure ?? true }));
    });
  });
}

function lastLines(text: string, n: number): string {
  const lines = text.split("\n");
  const kept = lines.slice(-n).join("\n");
  return kept.length > 4000 ? `…${kept.slice(-4000)}` : kept;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s` : `${ms} ms`;
}
