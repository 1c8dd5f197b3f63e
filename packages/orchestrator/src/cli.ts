#!/usr/bin/env node
import { generateOrStream, health, models, select, validate } from "./cli/commands";
import { type Io, report } from "./cli/report";
import { demo } from "./cli/demo";
import { HELP } from "./cli/help";
import { dashboard } from "./cli/dashboard";
import { keys } from "./cli/keys";
import { replay } from "./cli/replay";
import { serve } from "./cli/serve";

const io: Io = { out: (text) => process.stdout.write(`${text}\n`), err: (text) => process.stderr.write(`${text}\n`) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "demo":
      return demo(rest, io);
    case "generate":
      return generateOrStream(rest, io, "generate");
    case "stream":
      return generateOrStream(rest, io, "stream");
    case "select":
      return select(rest, io);
    case "models":
      return models(rest, io);
    case "health":
      return health(rest, io);
    case "validate":
      return validate(rest, io);
    case "replay":
      return replay(rest, io);
    case "keys":
      return keys(rest, io);
    case "serve":
      return serve(rest, io);
    case "dashboard":
      return dashboard(rest, io);
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
main(argv).then(
  (code) => {
    process.exitCode = code;
    // A server that has drained and closed is done even when something outside our control still
    // holds the event loop (a process manager's IPC channel, as PM2's fork mode opens, or a
    // keep-alive socket a library forgot): leave after a grace period for stdout to flush.
    if (argv[0] === "serve" || argv[0] === "dashboard") setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    process.exitCode = report(error, io, argv.includes("--json"));
  },
);
