// Service and Ingress: both are ready when something outside the API server (a cloud load balancer, an
// ingress controller) has written an address back.

import type { KubeObject } from "../api/kube-object.ts";
import { arr, at, rec, spec, str } from "./fields.ts";
import { healthy, progressing, type HealthStatus } from "./types.ts";

function loadBalancerAddresses(obj: KubeObject): string[] {
  return arr(at(obj, "status", "loadBalancer", "ingress")).flatMap((entry) => {
    const e = rec(entry);
    const address = str(e?.hostname) || str(e?.ip);
    return address ? [address] : [];
  });
}

export function serviceHealth(obj: KubeObject): HealthStatus {
  const type = str(spec(obj).type) ?? "ClusterIP";
  if (type !== "LoadBalancer") return healthy(`Service of type ${type}`);
  const addresses = loadBalancerAddresses(obj);
  if (addresses.length === 0) return progressing("Waiting for the load balancer to be assigned an address");
  return healthy(`Load balancer is ready at ${addresses.join(", ")}`);
}

export function ingressHealth(obj: KubeObject): HealthStatus {
  const addresses = loadBalancerAddresses(obj);
  if (addresses.length === 0) return progressing("Waiting for the ingress controller to assign an address");
  return healthy(`Ingress is served at ${addresses.join(", ")}`);
}
