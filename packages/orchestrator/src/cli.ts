#!/usr/bin/env node
import { HELP } from "./cli/help";
import { type Io, report } from "./cli/report";

// Each command's module is imported when that command runs: `orchestrator --help` or `keys` does not
// load every provider, the server, Redis and the replay code (the CLI is built with code splitting).
const io: Io = { out: (text) => process.stdout.write(`${text}\n`), err: (text) => process.stderr.write(`${text}\n`) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "demo":
      return (await import("./cli/demo")).demo(rest, io);
    case "generate":
      return (await import("./cli/commands")).generateOrStream(rest, io, "generate");
    case "stream":
      return (await import("./cli/commands")).generateOrStream(rest, io, "stream");
    case "select":
      return (await import("./cli/commands")).select(rest, io);
    case "models":
      return (await import("./cli/commands")).models(rest, io);
    case "health":
      return (await import("./cli/commands")).health(rest, io);
    case "validate":
      return (await import("./cli/commands")).validate(rest, io);
    case "replay":
      return (await import("./cli/replay")).replay(rest, io);
    case "keys":
      return (await import("./cli/keys")).keys(rest, io);
    case "serve":
      return (await import("./cli/serve")).serve(rest, io);
    case "dashboard":
      return (await import("./cli/dashboard")).dashboard(rest, io);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.out(HELP.main ?? "");
      return 0;
    default:
      io.err(`unknown command "${command}"\n\n${HELP.main ?? ""}`);
      return 2;
  }
}

const argv = process.argv.slice(2);
let settled = false;
// A command whose work can no longer go on — something it awaits (a package's import, a plugin's
// loadDependencies, a call) will never settle and nothing else holds the event loop — would
// otherwise end the process silently with code 0, as if it had succeeded.
process.once("beforeExit", () => {
  if (settled) return;
  io.err(`orchestrator ${argv[0] ?? ""}: stopped before finishing: something it was waiting for can never complete`);
  process.exitCode = 1;
});
main(argv).then(
  (code) => {
    settled = true;
    process.exitCode = code;
    // A server that has drained and closed is done even when something outside our control still
    // holds the event loop (a process manager's IPC channel, as PM2's fork mode opens, or a
    // keep-alive socket a library forgot): leave after a grace period for stdout to flush.
    if (argv[0] === "serve" || argv[0] === "dashboard") setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    settled = true;
    process.exitCode = report(error, io, argv.includes("--json"));
  },
);
