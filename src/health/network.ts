// Service and Ingress: both are ready when something outside the API server (a cloud load balancer, an
// ingress controller) has written an entry back into status.loadBalancer.ingress.

import type { KubeObject } from "../api/kube-object.ts";
import { arr, at, rec, spec, str } from "./fields.ts";
import { healthy, progressing, type HealthStatus } from "./types.ts";

/**
 * The entries of status.loadBalancer.ingress. Any entry counts, even one with neither ip nor hostname: as in
 * Argo CD, an entry means the load balancer (or ingress controller) has taken the object on. Some implementations
 * write only `ports` or an empty entry (MetalLB in some modes, some ingress controllers behind a NodePort).
 */
function loadBalancerEntries(obj: KubeObject): unknown[] {
  return arr(at(obj, "status", "loadBalancer", "ingress"));
}

function addressesOf(entries: unknown[]): string {
  const addresses = entries.flatMap((entry) => {
    const e = rec(entry);
    const address = str(e?.hostname) || str(e?.ip);
    return address ? [address] : [];
  });
  return addresses.length > 0 ? ` at ${addresses.join(", ")}` : " (status.loadBalancer.ingress has an entry without an address)";
}

export function serviceHealth(obj: KubeObject): HealthStatus {
  const type = str(spec(obj).type) ?? "ClusterIP";
  if (type !== "LoadBalancer") return healthy(`Service of type ${type}`);
  const entries = loadBalancerEntries(obj);
  if (entries.length === 0) return progressing("Waiting for the load balancer to be assigned an address");
  return healthy(`Load balancer is ready${addressesOf(entries)}`);
}

export function ingressHealth(obj: KubeObject): HealthStatus {
  const entries = loadBalancerEntries(obj);
  if (entries.length === 0) return progressing("Waiting for the ingress controller to assign an address");
  return healthy(`Ingress is served${addressesOf(entries)}`);
}
