// The shipped monitoring files: promtool checks and unit-tests the alert rules (test/monitoring/rules.test.yml:
// each alert fires, and stays silent when it should), rules.yml is exactly the PrometheusRule's groups, and
// the rules and the dashboard use only metrics Tack exports.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { load, loadAll } from "js-yaml";
import { ensurePrometheus, type PrometheusBinaries } from "../../scripts/ensure-prometheus.ts";
import { PROMETHEUS_RULE, RULES_FILE, renderRulesFile } from "../../scripts/gen-monitoring-rules.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const at = (path: string) => `${ROOT}${path}`;

interface Rule { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface Group { name: string; rules: Rule[] }

let bins: PrometheusBinaries;
let groups: Group[];

before(async () => {
  bins = await ensurePrometheus((line) => process.stderr.write(`${line}\n`));
  groups = (load(await readFile(PROMETHEUS_RULE, "utf8")) as { spec: { groups: Group[] } }).spec.groups;
});

const ALERTS = ["TackAppOutOfSync", "TackAppDegraded", "TackAppSyncFailed", "TackAppUnknown", "TackGitFetchFailing", "TackControllerDown"];

describe("alert rules", () => {
  test("promtool check rules accepts rules.yml", async () => {
    const { stdout } = await run(bins.promtool, ["check", "rules", RULES_FILE]);
    assert.match(stdout, new RegExp(`SUCCESS: ${ALERTS.length} rules found`));
  });

  test("promtool test rules: every alert fires and stays silent as the unit cases say", async () => {
    const result = await run(bins.promtool, ["test", "rules", at("test/monitoring/rules.test.yml")]).catch((err: { stdout?: string; stderr?: string }) => {
      assert.fail(`promtool test rules failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    });
    assert.match(result.stdout, /SUCCESS/);
    const cases = (load(await readFile(at("test/monitoring/rules.test.yml"), "utf8")) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> }).tests
      .flatMap((t) => t.alert_rule_test);
    for (const alert of ALERTS) {
      assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0), `${alert} has a case where it fires`);
      assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0), `${alert} has a case where it stays silent`);
    }
  });

  test("rules.yml holds exactly the PrometheusRule's groups (regenerate with node scripts/gen-monitoring-rules.ts)", async () => {
    assert.equal(await readFile(RULES_FILE, "utf8"), await renderRulesFile());
    const plain = load(await readFile(RULES_FILE, "utf8")) as { groups: Group[] };
    assert.deepEqual(plain.groups, groups);
  });

  test("the issue's six alerts exist, each with a severity, a summary and a description; app alerts name the app", () => {
    const rules = groups.flatMap((g) => g.rules);
    assert.deepEqual(rules.map((r) => r.alert).sort(), [...ALERTS].sort());
    for (const rule of rules) {
      assert.ok(rule.labels?.severity, `${rule.alert} has a severity`);
      assert.ok(rule.annotations?.summary, `${rule.alert} has a summary`);
      assert.ok((rule.annotations?.description ?? "").length > 80, `${rule.alert}'s description says what to look at`);
      if (rule.alert.startsWith("TackApp")) assert.match(rule.annotations!.summary!, /\{\{ \$labels\.namespace \}\}\/\{\{ \$labels\.name \}\}/);
    }
    assert.equal(rules.find((r) => r.alert === "TackAppOutOfSync")?.for, "15m");
  });

  test("the PrometheusRule, ServiceMonitor and kustomization are well-formed", async () => {
    const [rule] = loadAll(await readFile(PROMETHEUS_RULE, "utf8")) as Array<{ apiVersion: string; kind: string }>;
    assert.equal(rule?.apiVersion, "monitoring.coreos.com/v1");
    assert.equal(rule?.kind, "PrometheusRule");
    const monitor = load(await readFile(at("deploy/monitoring/service-monitor.yaml"), "utf8")) as { kind: string; spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } };
    assert.equal(monitor.kind, "ServiceMonitor");
    // It must select the controller's Service, on the port the Service names.
    const service = (loadAll(await readFile(at("deploy/base/deployment.yaml"), "utf8")) as Array<{ kind: string; metadata: { name: string; labels: Record<string, string> }; spec: { ports: Array<{ name: string }> } }>)
      .find((d) => d.kind === "Service");
    assert.ok(service);
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels[k], v, `Service label ${k}`);
    assert.ok(service.spec.ports.some((p) => p.name === monitor.spec.endpoints[0]?.port));
    assert.match(groups.flatMap((g) => g.rules).find((r) => r.alert === "TackControllerDown")!.expr, new RegExp(`job="${service.metadata.name}"`));
  });
});

describe("dashboard", () => {
  test("is valid Grafana JSON with the panels the issue asks for, on metrics Tack exports", async () => {
    const dashboard = JSON.parse(await readFile(at("deploy/monitoring/grafana-dashboard.json"), "utf8")) as { uid: string; panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    assert.equal(dashboard.uid, "tack-overview");
    const titles = dashboard.panels.map((p) => p.title);
    for (const wanted of ["Sync and health per application", "Sync rate by phase", "Reconcile latency", "Git errors by repository"]) {
      assert.ok(titles.includes(wanted), `panel '${wanted}'`);
    }
    const exported = new Set([...(await readFile(at("src/metrics/index.ts"), "utf8")).matchAll(/name: "(tack_\w+)"/g)].map((m) => m[1]!));
    const exprs = [...dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr), ...groups.flatMap((g) => g.rules.map((r) => r.expr))];
    for (const expr of exprs) {
      for (const [metric] of expr.matchAll(/tack_\w+/g)) {
        const base = metric.replace(/_(bucket|sum|count)$/, "");
        assert.ok(exported.has(metric) || exported.has(base), `${metric} (in ${expr}) is exported by src/metrics`);
      }
    }
  });
});
