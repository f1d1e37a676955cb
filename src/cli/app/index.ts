// `tack app …` and `tack diff --local`: the operator's commands, talking to the Kubernetes API with the
// user's kubeconfig (no Tack server to run). They read and write Applications as kubectl would (the
// `operation` field, the refresh annotation, finalizers) and leave the work to the controller; `diff` renders
// locally with the controller's own modules and asks the API server for a dry run.
//
// Exit status: 0 success, 1 failure (not found, forbidden, unreachable, sync failed, wait timed out; for diff:
// differences found), 2 usage or input errors (for diff: any error).
//
// Imports api/, cluster/, diff/, git/, render/ and controller/desired.ts; nothing imports this but cli/main.ts.
import { parseArgs, bool, flag, type FlagSpecs, type Parsed } from "./args.ts";
import { openSession, type CliIO } from "./context.ts";
import { diffCommand } from "./diff.ts";
import { CliError, UsageError } from "./errors.ts";
import { deleteCommand, refreshCommand, rollbackCommand, syncCommand, waitCommand } from "./operate.ts";
import { getCommand, historyCommand, listCommand } from "./view.ts";

export type { CliIO } from "./context.ts";

const GLOBAL_HELP = `Global flags:
  -n, --namespace NS      the Applications' namespace (default: the controller's, TACK_NAMESPACE, else tack-system)
      --kubeconfig FILE   kubeconfig to use (default: KUBECONFIG, else ~/.kube/config, else in-cluster)
      --context NAME      kubeconfig context to use
  -h, --help              this help`;

interface Command {
  summary: string;
  usage: string;
  flags: FlagSpecs;
  /** Required positional arguments, by name. */
  args?: string[];
  help: string;
  run: (parsed: Parsed, io: CliIO) => Promise<number>;
}

const output = { output: { value: true, short: "o" } };

const COMMANDS: Record<string, Command> = {
  list: {
    summary: "list Applications (NAME, PROJECT, SYNC, HEALTH, REVISION, AGE)",
    usage: "tack app list [-n NS | -A] [-l SELECTOR] [-o wide|json|yaml|name]",
    flags: { ...output, "all-namespaces": { short: "A" }, selector: { value: true, short: "l" } },
    help: `  -A, --all-namespaces    list the Applications of every namespace
  -l, --selector SEL      only Applications whose labels match (e.g. team=web)
  -o, --output FORMAT     wide (repo, path, target, destination, sync policy, operation), json, yaml, name`,
    run: (p, io) => listCommand(p, openSession(p, io), io),
  },
  get: {
    args: ["NAME"],
    summary: "show one Application: spec summary, conditions, last operation, resources",
    usage: "tack app get NAME [-o wide|json|yaml]",
    flags: output,
    help: "  -o, --output FORMAT     wide (adds each resource's health message), json, yaml",
    run: (p, io) => getCommand(p, openSession(p, io), io),
  },
  history: {
    args: ["NAME"],
    summary: "list the Application's deployments (ids for rollback)",
    usage: "tack app history NAME [-o wide|json|yaml]",
    flags: output,
    help: "  -o, --output FORMAT     wide (full revision, repo, path, start time), json, yaml",
    run: (p, io) => historyCommand(p, openSession(p, io), io),
  },
  diff: {
    args: ["NAME"],
    summary: "show what a sync would change (exit 1 when anything differs)",
    usage: "tack app diff NAME [--revision REF] [--local DIR] [--color]",
    flags: { revision: { value: true }, local: { value: true }, color: {}, "repo-creds-namespace": { value: true } },
    help: `  --revision REF          compare with a branch, tag or commit instead of spec.source.targetRevision
  --local DIR             compare with the manifests in a local directory (the app's path, checked out)
  --color                 colour the diff even when stdout is not a terminal (--color=false: never; NO_COLOR works too)
  --repo-creds-namespace NS
                          where Tack's repository Secrets live (default: the controller's namespace,
                          TACK_NAMESPACE, else tack-system); read only if you may

Desired objects are rendered as the controller renders them; each is compared with what a server-side-apply
dry run (field manager tack-controller) says it would become, so fields the server defaults do not show.
Needs get and patch (dry run only: nothing is changed) on the app's resources. Secret values are masked.
Exit status: 0 no differences, 1 differences, 2 error.`,
    run: (p, io) => diffCommand(p, openSession(p, io), io, nameAndSource(p)),
  },
  sync: {
    args: ["NAME"],
    summary: "sync the Application now and show progress until it finishes",
    usage: "tack app sync NAME [--revision REF] [--prune] [--dry-run] [--async] [--timeout DURATION]",
    flags: { revision: { value: true }, prune: {}, "dry-run": {}, async: {}, timeout: { value: true } },
    help: `  --revision REF          sync to this branch, tag or commit instead of spec.source.targetRevision
  --prune                 delete the app's resources that are no longer in Git
  --dry-run               run the sync as a server-side dry run: nothing is changed
  --async                 return once the sync is requested
  --timeout DURATION      give up waiting after this long (e.g. 90s, 5m; default: no limit); the sync goes on

Sets the Application's 'operation' field, as kubectl patch would; the controller runs it and clears it.
Exit status: 0 the sync succeeded, 1 it failed or the wait timed out.`,
    run: (p, io) => syncCommand(p, openSession(p, io), io),
  },
  refresh: {
    args: ["NAME"],
    summary: "re-read Git and compare now",
    usage: "tack app refresh NAME [--hard] [--async] [--timeout DURATION]",
    flags: { hard: {}, async: {}, timeout: { value: true } },
    help: `  --hard                  also bypass the render cache
  --async                 return once the refresh is requested
  --timeout DURATION      how long to wait for the controller to take it (default 120s)

Sets the annotation tack.dev/refresh (normal or hard); the controller removes it when done.`,
    run: (p, io) => refreshCommand(p, openSession(p, io), io),
  },
  rollback: {
    args: ["NAME", "ID"],
    summary: "sync to the revision of an earlier deployment (automated sync must be off)",
    usage: "tack app rollback NAME ID [--prune] [--async] [--timeout DURATION]",
    flags: { prune: {}, async: {}, timeout: { value: true } },
    help: `  ID                      a history id (tack app history NAME)
  --prune                 delete resources that the old revision does not have
  --async, --timeout      as for tack app sync

Refused while automated sync is on: it would sync straight back to the target revision.`,
    run: (p, io) => rollbackCommand(p, openSession(p, io), io),
  },
  wait: {
    args: ["NAME"],
    summary: "wait until the Application is Synced and/or Healthy, showing progress",
    usage: "tack app wait NAME [--sync] [--health] [--operation] [--timeout DURATION]",
    flags: { sync: {}, health: {}, operation: {}, timeout: { value: true } },
    help: `  --sync                  wait for Synced
  --health                wait for Healthy
  --operation             wait until no sync operation is pending or running
                          (none of the three: all of them)
  --timeout DURATION      give up after this long (e.g. 60, 90s, 5m; default: no limit)

A status older than the spec (observedGeneration behind generation) never counts.
Exit status: 0 reached, 1 timed out or the app is gone.`,
    run: (p, io) => waitCommand(p, openSession(p, io), io),
  },
  delete: {
    args: ["NAME"],
    summary: "delete the Application (and, by default, its resources)",
    usage: "tack app delete NAME [--cascade=false] [--yes] [--wait] [--timeout DURATION]",
    flags: { cascade: {}, yes: { short: "y" }, wait: {}, timeout: { value: true } },
    help: `  --cascade=false         delete only the Application; its resources stay in the cluster
  -y, --yes               do not ask for confirmation (only asked on a terminal)
  --wait                  wait until the Application is gone; --timeout bounds the wait

With cascade (the default) the finalizer resources-finalizer.tack.dev is added before the delete, as Argo CD
does with resources-finalizer.argocd.argoproj.io: the controller deletes the app's resources, then removes the
finalizer, and the Application goes. --cascade=false removes that finalizer (also from an app already being
deleted), so the resources stay.`,
    run: (p, io) => deleteCommand(p, openSession(p, io), io),
  },
};

function nameAndSource(p: Parsed): { name: string; revision?: string; localDir?: string } {
  const [name, ...extra] = p.positional;
  if (!name) throw new UsageError("tack app diff: missing the application name (tack app list shows them)");
  if (extra.length > 0) throw new UsageError(`tack app diff: unexpected arguments '${extra.join(" ")}'`);
  const revision = flag(p, "revision");
  const localDir = flag(p, "local");
  if (revision && localDir) throw new UsageError("tack app diff: --revision and --local exclude each other");
  return { name, ...(revision ? { revision } : {}), ...(localDir ? { localDir } : {}) };
}

export function appUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return `Usage: tack app COMMAND [flags]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width + 2)}${c.summary}`).join("\n")}

${GLOBAL_HELP}

Run 'tack app COMMAND --help' for a command's flags.
Exit status: 0 success, 1 failure (diff: differences found), 2 usage or input error (diff: any error).
`;
}

function commandHelp(c: Command): string {
  return `Usage: ${c.usage}\n\n${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.\n\nFlags:\n${c.help}\n\n${GLOBAL_HELP}\n`;
}

async function run(label: string, c: Command, args: string[], io: CliIO): Promise<number> {
  try {
    const parsed = parseArgs(label, args, c.flags);
    if (bool(parsed, "help")) { io.stdout(commandHelp(c)); return 0; }
    // Arguments are checked before the kubeconfig is read: a usage error is reported as one.
    const min = c.args?.length ?? 0;
    if (parsed.positional.length < min) throw new UsageError(`${label}: missing ${c.args!.slice(parsed.positional.length).join(" ")} (usage: ${c.usage})`);
    return await c.run(parsed, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(err.message.startsWith(`${label}: `) ? `${err.message}\n` : `${label}: ${err.message}\n`);
      if (err instanceof UsageError) io.stderr(`Run '${label} --help' for usage.\n`);
      return err.exitCode;
    }
    throw err;
  }
}

export async function runAppCommand(args: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") { io.stdout(appUsage()); return 0; }
  const command = COMMANDS[name];
  if (!command) { io.stderr(`tack app: unknown command '${name}'\n\n${appUsage()}`); return 2; }
  return run(`tack app ${name}`, command, rest, io);
}

/** `tack diff --local DIR --app NAME`, Argo CD's shape of a local diff. */
export async function runDiffCommand(args: string[], io: CliIO): Promise<number> {
  const command: Command = {
    ...COMMANDS.diff!,
    summary: "compare a local directory of manifests (or a revision) with the live Application",
    usage: "tack diff --app NAME (--local DIR | --revision REF) [-n NS] [--color]",
    flags: { ...COMMANDS.diff!.flags, app: { value: true } },
    args: [],
    run: (p, io) => {
      const name = flag(p, "app");
      if (!name) throw new UsageError("tack diff: --app NAME is required");
      if (p.positional.length > 0) throw new UsageError(`tack diff: unexpected arguments '${p.positional.join(" ")}'`);
      if (!flag(p, "local") && !flag(p, "revision")) throw new UsageError("tack diff: give --local DIR (or use tack app diff NAME)");
      return diffCommand(p, openSession(p, io), io, nameAndSource({ ...p, positional: [name] }));
    },
  };
  return run("tack diff", command, args, io);
}
