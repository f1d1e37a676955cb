// The `tack` command. Subcommands: controller (run the operator), health (assess objects in YAML files),
// version. Exit codes: 0 success, 1 failure, 2 bad usage or unreadable input.
import { ConfigError, configHelp, loadConfig } from "../config.ts";
import { createLogger, startTack, VERSION } from "../main.ts";
import { runHealthCommand } from "./health-command.ts";
import { runRenderCommand } from "./render-command.ts";
import { runAppCommand, runDiffCommand, type CliIO } from "./app/index.ts";

const USAGE = `tack ${VERSION}: GitOps reconciliation for Kubernetes

Usage:
  tack controller [flags]          run the controller (in-cluster, or with KUBECONFIG / --kubeconfig)
  tack render [DIR] [flags]        print the manifests the controller would render from a local directory
  tack health [-o json] FILE...    health of the objects in YAML files, as the controller assesses it;
                                   exits 1 if one is Degraded (--allow-degraded: report only)
  tack app COMMAND                 operate Applications with your kubeconfig: list, get, history, diff,
                                   sync, refresh, rollback, wait, delete ('tack app --help')
  tack diff --local DIR --app NAME compare a local directory of manifests with the live Application
  tack version                     print the version
  tack help                        this text

Run 'tack controller --help' for the controller's settings, 'tack app --help' for the app commands.`;

const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };

function appIO(): CliIO {
  return { ...io, env: process.env, stdoutIsTTY: process.stdout.isTTY === true,
    ...(process.stdin.isTTY ? { confirm: confirmOnTerminal } : {}) };
}

async function confirmOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try { return /^y(es)?$/i.test((await rl.question(question)).trim()); } finally { rl.close(); }
}

async function runController(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(`Usage: tack controller [flags]\n\n${configHelp()}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig(process.env, args);
  } catch (err) {
    if (err instanceof ConfigError) { io.stderr(`tack controller: ${err.message}\n`); return 2; }
    throw err;
  }
  const logger = createLogger(config);
  let tack;
  try {
    tack = await startTack(config, { logger });
  } catch (err) {
    logger.fatal({ err }, "could not start");
    return 1;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "shutting down: finishing writes in flight");
      resolve();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  await tack.stop();
  logger.info("stopped");
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "controller": return runController(rest);
    case "health": return runHealthCommand(rest, io);
    case "render": return runRenderCommand(rest, { ...io, env: process.env });
    case "app": return runAppCommand(rest, appIO());
    case "diff": return runDiffCommand(rest, appIO());
    case "version": case "--version": io.stdout(`${VERSION}\n`); return 0;
    case undefined: case "help": case "--help": case "-h": io.stdout(`${USAGE}\n`); return 0;
    default: io.stderr(`tack: unknown command '${command}'\n\n${USAGE}\n`); return 2;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stderr.write(`tack: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
