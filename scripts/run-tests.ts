// The one test command (npm test): builds or finds the local control plane, type-checks, checks that crds/
// matches the zod schemas, then runs the unit and integration suites with Node's test runner, whose closing
// summary CI reads. Extra arguments are passed to `node --test` (e.g. a file or --test-name-pattern).
import { spawnSync } from "node:child_process";
import { ensureControlPlaneBinaries } from "../test/support/control-plane.ts";
import { ensurePrometheus } from "./ensure-prometheus.ts";
import { ensureTools } from "../test/support/tools.ts";

function run(label: string, command: string, args: string[]): void {
  process.stderr.write(`\n== ${label}\n`);
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status !== 0) {
    process.stderr.write(`\n${label} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}

const passThrough = process.argv.slice(2);
const files = passThrough.filter((a) => !a.startsWith("-"));
const flags = passThrough.filter((a) => a.startsWith("-"));

if (!process.env.TACK_TEST_KUBECONFIG) {
  process.stderr.write("== local control plane binaries (built once from the Go module proxy, then cached)\n");
  const dir = await ensureControlPlaneBinaries((line) => process.stderr.write(`${line}\n`));
  process.stderr.write(`   ${dir}\n`);
}
process.stderr.write("== helm and kustomize (pinned, built once from the Go module proxy, then cached)\n");
process.stderr.write(`   ${(await ensureTools()).dir}\n`);
process.stderr.write("== promtool and prometheus (Debian's prometheus package)\n");
await ensurePrometheus((line) => process.stderr.write(`${line}\n`));
run("typecheck", process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json", "--noEmit"]);
run("crds/ matches src/api", process.execPath, ["scripts/gen-crds.ts", "--check"]);
run("deploy/monitoring/rules.yml matches prometheus-rule.yaml", process.execPath, ["scripts/gen-monitoring-rules.ts", "--check"]);
run("tests", process.execPath, [
  "--test", "--test-reporter=spec", "--test-timeout=300000", ...flags,
  ...(files.length > 0 ? files : ["test/unit/**/*.test.ts", "test/monitoring/**/*.test.ts", "test/integration/**/*.test.ts"]),
]);
