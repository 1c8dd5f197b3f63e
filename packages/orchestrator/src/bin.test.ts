import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runScript } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "../../..");
const BIN = resolve(__dirname, "../bin/orchestrator.js");

function npx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // The user's command, offline: it must come from the workspace's own install, never from the registry
    // (where "orchestrator" is another project's package).
    execFile(
      "npx",
      ["--offline", ...args],
      { cwd: ROOT, env: { ...process.env, npm_config_update_notifier: "false" }, timeout: 60_000 },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe("the orchestrator bin", () => {
  it("is a committed file that npm links at install, so `npx orchestrator` runs in a clone once it is built", {
    timeout: 90_000,
  }, async () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, "../package.json"), "utf8")) as {
      bin: Record<string, string>;
      files: string[];
    };
    expect(pkg.bin.orchestrator).toBe("./bin/orchestrator.js");
    expect(pkg.files).toContain("bin");
    const help = await npx(["orchestrator", "--help"]);
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: orchestrator <command> [options]");
    // Exit codes pass through the bin.
    const unknown = await npx(["orchestrator", "fly"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "fly"');
  });

  it("without a build, says to run `npm run build` and exits 1", { timeout: 60_000 }, async () => {
    // A copy of the bin in a folder with no dist/ beside it: what a fresh clone has before the build.
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-bin-"));
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    copyFileSync(BIN, join(dir, "bin/orchestrator.js"));
    const run = await runScript(
      { file: join(dir, "bin/orchestrator.js") },
      { args: ["--help"], cwd: dir, timeoutMs: 30_000 },
    );
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`the CLI is not built (${join(dir, "dist/cli/cli.js")} is missing)`);
    expect(run.stderr).toContain("npm run build");
  });
});
