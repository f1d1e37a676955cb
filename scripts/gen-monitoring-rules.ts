// Writes deploy/monitoring/rules.yml (a plain Prometheus rules file) from deploy/monitoring/prometheus-rule.yaml
// (the PrometheusRule): one source of truth for the alert rules. `--check` exits 1 when rules.yml is stale.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dump, load } from "js-yaml";

const DIR = fileURLToPath(new URL("../deploy/monitoring/", import.meta.url));
export const PROMETHEUS_RULE = `${DIR}prometheus-rule.yaml`;
export const RULES_FILE = `${DIR}rules.yml`;

const HEADER = `# Tack's alert rules for a plain Prometheus (rule_files: [rules.yml]).
# Generated from prometheus-rule.yaml by \`node scripts/gen-monitoring-rules.ts\`. Do not edit: change
# prometheus-rule.yaml (its header says how to tune thresholds such as TackAppOutOfSync's 15m) and regenerate.
`;

export async function renderRulesFile(): Promise<string> {
  const rule = load(await readFile(PROMETHEUS_RULE, "utf8")) as { spec?: { groups?: unknown[] } };
  if (!rule.spec?.groups) throw new Error(`${PROMETHEUS_RULE}: no spec.groups`);
  return HEADER + dump({ groups: rule.spec.groups }, { lineWidth: -1, noRefs: true, sortKeys: false });
}

if (import.meta.main) {
  const text = await renderRulesFile();
  if (process.argv.includes("--check")) {
    const current = await readFile(RULES_FILE, "utf8").catch(() => "");
    if (current !== text) {
      console.error(`${RULES_FILE} differs from prometheus-rule.yaml: run node scripts/gen-monitoring-rules.ts`);
      process.exit(1);
    }
  } else {
    await writeFile(RULES_FILE, text);
    console.log(`wrote ${RULES_FILE}`);
  }
}
