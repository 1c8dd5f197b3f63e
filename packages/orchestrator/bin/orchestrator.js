#!/usr/bin/env node
// The `orchestrator` command. A committed file rather than dist/cli/cli.js itself: npm links a
// package's bin only if the file exists at install time, and in a fresh clone `npm ci` runs
// before anything is built.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = new URL("../dist/cli/cli.js", import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    `orchestrator: the CLI is not built (${fileURLToPath(cli)} is missing).\n` +
      "In a clone of the repository, run `npm run build` (or `npm run demo`) at its root first.\n",
  );
  process.exit(1);
}
await import(cli.href);
