// A separate process that updates unmanaged ConfigMaps at a fixed rate, so that B4 can measure Tack's CPU
// (process.cpuUsage of the bench process) without the load generator's own cost.
// Usage: node bench/churn.ts KUBECONFIG NAMESPACE COUNT RATE_PER_SECOND SECONDS
import { KubeClient } from "../src/cluster/index.ts";

const [kubeconfigPath, namespace, countText, rateText, secondsText] = process.argv.slice(2);
if (!kubeconfigPath || !namespace) throw new Error("usage: churn.ts KUBECONFIG NAMESPACE COUNT RATE SECONDS");
const count = Number(countText ?? 50);
const rate = Number(rateText ?? 50);
const seconds = Math.min(600, Number(secondsText ?? 10));   // bounded, whatever the caller asks
const client = KubeClient.load({ kubeconfigPath, userAgent: "tack-bench-churn" });
const total = Math.round(rate * seconds);
let sent = 0;
let failed = 0;
let inFlight = 0;
const started = performance.now();
await new Promise<void>((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due && inFlight < 8) {
      const i = sent++;
      inFlight++;
      client.request({
        method: "PATCH", path: `/api/v1/namespaces/${namespace}/configmaps/unmanaged-${i % count}`,
        contentType: "application/merge-patch+json", body: { data: { tick: String(i) } },
      }).catch(() => { failed++; }).finally(() => { inFlight--; });
    }
    if (sent >= total && inFlight === 0) return resolve();
    setTimeout(tick, 5);
  };
  tick();
});
process.stdout.write(JSON.stringify({ sent, failed, seconds: (performance.now() - started) / 1000 }) + "\n");
process.exit(0);
