// The cluster an integration test runs against: a local control plane by default, or any cluster named by
// TACK_TEST_KUBECONFIG (for example a kind cluster, to run the same suite against kubelets and controllers).

import { readFile } from "node:fs/promises";
import { ensureControlPlaneBinaries, startControlPlane, type ControlPlane } from "./control-plane.ts";

export interface TestCluster {
  kubeconfigPath: string;
  auditLogPath: string | undefined;
  external: boolean;
  /** The local control plane, for tests that act on its processes (restart the apiserver); undefined when external. */
  controlPlane: ControlPlane | undefined;
  stop(): Promise<void>;
}

/**
 * TACK_TEST_KUBECONFIG set → that cluster (external: true, stop is a no-op, no audit log); otherwise
 * ensureControlPlaneBinaries + startControlPlane, with its controllers, scheduler and simulated nodes unless
 * `controllers: false` (a test that only stores and reads objects starts about a second faster without them).
 */
export async function startTestCluster(
  opts: { log?: (line: string) => void; controllers?: boolean } = {},
): Promise<TestCluster> {
  const external = process.env["TACK_TEST_KUBECONFIG"];
  if (external) {
    // Not ours to stop, and its audit log (if any) is out of reach: tests that count requests must skip.
    return { kubeconfigPath: external, auditLogPath: undefined, external: true, controlPlane: undefined, stop: async () => {} };
  }
  await ensureControlPlaneBinaries(opts.log);
  const cp = await startControlPlane({
    ...(opts.log && { log: opts.log }),
    ...(opts.controllers !== undefined && { controllers: opts.controllers }),
  });
  return { kubeconfigPath: cp.kubeconfigPath, auditLogPath: cp.auditLogPath, external: false, controlPlane: cp, stop: () => cp.stop() };
}

/** The fields of an audit.k8s.io/v1 Event that tests look at; the log holds more. */
export interface AuditEvent {
  verb: string;
  stage: string;
  requestURI: string;
  userAgent?: string;
  user: { username: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  responseStatus?: { code?: number };
}

/**
 * Parses the audit log lines (JSON), for tests that count requests: returns the events (typed minimally: verb,
 * user.username, userAgent, objectRef {resource, namespace, name, apiGroup}, requestURI, stage,
 * responseStatus.code). Only stage ResponseComplete, so that each finished request counts once (a watch also
 * logs ResponseStarted).
 */
export async function readAuditEvents(auditLogPath: string): Promise<AuditEvent[]> {
  const lines = (await readFile(auditLogPath, "utf8")).split("\n");
  const events: AuditEvent[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch (err) {
      // Only the last line may be cut: the apiserver can be writing it while we read.
      if (i === lines.length - 1) break;
      throw new Error(`${auditLogPath}:${i + 1}: not JSON`, { cause: err });
    }
    if (event.stage === "ResponseComplete") events.push(event);
  }
  return events;
}
