#!/usr/bin/env node
// Makes the README's commands work on a fresh clone: installs dependencies when they are missing
// or older than the lock file, and (for `demo`/`bench`) builds the packages they run from.
import { execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const marker = join(root, "node_modules/.package-lock.json");
const lock = join(root, "package-lock.json");
const run = (cmd) => execSync(cmd, { cwd: root, stdio: "inherit", env: { ...process.env, NX_DAEMON: "false" } });

if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.log("Installing dependencies (npm ci)…");
  run("npm ci --no-audit --no-fund");
}
if (process.argv[2] === "demo" || process.argv[2] === "bench") {
  // The benchmarks also run the gateway (@orchestrator-ts/server), which the CLI does not need.
  const projects = process.argv[2] === "bench" ? "orchestrator-ts @orchestrator-ts/server" : "orchestrator-ts";
  // Nx's cache makes this a no-op when nothing changed; after a pull it rebuilds what did.
  if (!existsSync(join(root, "packages/orchestrator/dist/cli/cli.js"))) console.log("Building the packages (first run)…");
  const quiet = existsSync(join(root, "packages/orchestrator/dist/cli/cli.js"));
  try {
    execSync(`npx nx run-many -t build -p ${projects} --outputStyle=static`, {
      cwd: root,
      stdio: quiet ? "pipe" : "inherit",
      env: { ...process.env, NX_DAEMON: "false" },
    });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ""}${error.stderr ?? ""}\nThe build failed; see above.\n`);
    process.exit(1);
  }
}
