// Read-only commands: `tack app list`, `tack app get NAME`, `tack app history NAME`.
import type { Application } from "../../api/index.ts";
import { bool, flag, outputFormat, type Parsed } from "./args.ts";
import type { CliIO, Session } from "./context.ts";
import { UsageError } from "./errors.ts";
import { age, operationOutcome, operationPhase, shortRevision, table, timestamp, timestampWithAge, toJson, toYaml } from "./format.ts";

export function destinationOf(app: Application): string {
  const d = app.spec?.destination ?? {};
  return `${d.server ?? d.name ?? ""}${d.namespace ? ` (namespace ${d.namespace})` : ""}`;
}

export function syncPolicyOf(app: Application): string {
  const automated = app.spec?.syncPolicy?.automated;
  if (!automated || automated.enabled === false) return "Manual";
  const options = [automated.prune ? "prune" : "", automated.selfHeal ? "selfHeal" : "", automated.allowEmpty ? "allowEmpty" : ""].filter(Boolean);
  return `Automated${options.length ? ` (${options.join(", ")})` : ""}`;
}

export function isAutomated(app: Application): boolean {
  const automated = app.spec?.syncPolicy?.automated;
  return automated !== undefined && automated.enabled !== false;
}

export async function listCommand(parsed: Parsed, session: Session, io: CliIO): Promise<number> {
  const output = outputFormat("tack app list", parsed, ["json", "yaml", "wide", "name"] as const);
  if (parsed.positional.length > 0) throw new UsageError(`tack app list takes no arguments (got '${parsed.positional.join(" ")}'); use tack app get NAME for one app`);
  const all = bool(parsed, "all-namespaces");
  const apps = await session.apps.list(all ? undefined : session.namespace, flag(parsed, "selector"));
  apps.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1);
  if (output === "json") { io.stdout(toJson({ apiVersion: "v1", kind: "List", items: apps })); return 0; }
  if (output === "yaml") { io.stdout(toYaml({ apiVersion: "v1", kind: "List", items: apps })); return 0; }
  if (output === "name") { for (const app of apps) io.stdout(`application.tack.dev/${app.metadata.name}\n`); return 0; }
  if (apps.length === 0) {
    io.stderr(all ? "No applications found.\n" : `No applications found in namespace '${session.namespace}' (-A lists every namespace).\n`);
    return 0;
  }
  const wide = output === "wide";
  const header = [...(all ? ["NAMESPACE"] : []), "NAME", "PROJECT", "SYNC", "HEALTH", "REVISION", "AGE",
    ...(wide ? ["REPO", "PATH", "TARGET", "DESTINATION", "SYNC POLICY", "OPERATION"] : [])];
  const rows = apps.map((app) => [
    ...(all ? [app.metadata.namespace] : []),
    app.metadata.name, app.spec?.project || "default", app.status?.sync?.status ?? "Unknown", app.status?.health?.status ?? "Unknown",
    wide ? app.status?.sync?.revision ?? "" : shortRevision(app.status?.sync?.revision), age(app.metadata.creationTimestamp),
    ...(wide ? [app.spec?.source?.repoURL ?? "", app.spec?.source?.path || ".", app.spec?.source?.targetRevision || "HEAD",
      destinationOf(app), syncPolicyOf(app), app.status?.operationState?.phase ?? ""] : []),
  ]);
  io.stdout(table(header, rows));
  return 0;
}

export async function getCommand(parsed: Parsed, session: Session, io: CliIO): Promise<number> {
  const output = outputFormat("tack app get", parsed, ["json", "yaml", "wide"] as const);
  const name = oneName("tack app get", parsed);
  const app = await session.apps.get(session.namespace, name);
  if (output === "json") { io.stdout(toJson(app)); return 0; }
  if (output === "yaml") { io.stdout(toYaml(app)); return 0; }
  io.stdout(describeApp(app, output === "wide"));
  return 0;
}

export function describeApp(app: Application, wide: boolean): string {
  const s = app.status ?? {};
  const src = app.spec?.source;
  const field = (label: string, value: string) => `${`${label}:`.padEnd(16)}${value}\n`;
  let out = "";
  out += field("Name", `${app.metadata.namespace}/${app.metadata.name}`);
  out += field("Project", app.spec?.project || "default");
  out += field("Repo", src?.repoURL ?? "");
  out += field("Target", src?.targetRevision || "HEAD");
  out += field("Path", src?.path || ".");
  out += field("Destination", destinationOf(app));
  out += field("Sync Policy", syncPolicyOf(app));
  out += field("Sync Status", `${s.sync?.status ?? "Unknown"}${s.sync?.revision ? ` to ${shortRevision(s.sync.revision)}` : ""}`);
  out += field("Health Status", `${s.health?.status ?? "Unknown"}${s.health?.message ? ` (${s.health.message})` : ""}`);
  if (app.metadata.deletionTimestamp) out += field("Deleting", `since ${app.metadata.deletionTimestamp} (finalizers: ${(app.metadata.finalizers ?? []).join(", ") || "none"})`);
  if (app.operation?.sync) out += field("Operation", `sync requested by ${app.operation.initiatedBy?.username ?? "?"}, waiting for the controller`);

  const conditions = s.conditions ?? [];
  if (conditions.length > 0) {
    out += "\nCONDITIONS\n";
    out += table(["TYPE", "STATUS", "REASON", "MESSAGE", "AGE"],
      conditions.map((c) => [c.type, c.status, c.reason ?? "", c.message ?? "", age(c.lastTransitionTime)]));
  }
  const op = s.operationState;
  if (op) {
    out += "\nLAST OPERATION\n";
    out += field("Phase", operationPhase(op));
    const outcome = operationOutcome(op);
    if (outcome) out += field("Message", outcome);
    if (op.syncResult?.revision) out += field("Revision", op.syncResult.revision);
    if (op.startedAt) out += field("Started", timestampWithAge(op.startedAt));
    if (op.finishedAt) out += field("Finished", timestampWithAge(op.finishedAt));
    if (op.operation?.initiatedBy) out += field("Initiated by", op.operation.initiatedBy.automated ? "automated sync" : op.operation.initiatedBy.username ?? "?");
  }
  const resources = s.resources ?? [];
  out += "\n";
  if (resources.length === 0) out += "No resources.\n";
  else {
    out += table(["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", ...(wide ? ["HEALTH MESSAGE"] : []), "MESSAGE"],
      resources.map((r) => [r.group ?? "", r.kind, r.namespace ?? "", r.name,
        `${r.status ?? ""}${r.requiresPruning ? " (requires pruning)" : ""}`, r.health?.status ?? "",
        ...(wide ? [r.health?.message ?? ""] : []), r.message ?? ""]));
  }
  return out;
}

export async function historyCommand(parsed: Parsed, session: Session, io: CliIO): Promise<number> {
  const output = outputFormat("tack app history", parsed, ["json", "yaml", "wide"] as const);
  const name = oneName("tack app history", parsed);
  const app = await session.apps.get(session.namespace, name);
  const history = [...(app.status?.history ?? [])].sort((a, b) => a.id - b.id);
  if (output === "json") { io.stdout(toJson(history)); return 0; }
  if (output === "yaml") { io.stdout(toYaml(history)); return 0; }
  if (history.length === 0) { io.stderr(`No history for ${app.metadata.namespace}/${app.metadata.name}: it has never been synced.\n`); return 0; }
  const wide = output === "wide";
  io.stdout(table(["ID", "DATE", "REVISION", "INITIATED BY", ...(wide ? ["REPO", "PATH", "STARTED"] : [])],
    history.map((h) => [String(h.id), timestamp(h.deployedAt), wide ? h.revision : `${shortRevision(h.revision)}${h.source?.targetRevision ? ` (${h.source.targetRevision})` : ""}`,
      h.initiatedBy?.automated ? "automated" : h.initiatedBy?.username ?? "",
      ...(wide ? [h.source?.repoURL ?? "", h.source?.path || ".", timestamp(h.deployStartedAt)] : [])])));
  return 0;
}

export function oneName(command: string, parsed: Parsed): string {
  const [name, ...extra] = parsed.positional;
  if (!name) throw new UsageError(`${command}: missing the application name (tack app list shows them)`);
  if (extra.length > 0) throw new UsageError(`${command}: unexpected arguments '${extra.join(" ")}'`);
  return name;
}
