import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runScript } from "./run-script";

// The workspace's closing test summary (tools/scripts/test-summary.mjs, run by `npm test`): it
// lives beside the process-level test tools, so its tests do too.
const SCRIPT = fileURLToPath(new URL("../../../../tools/scripts/test-summary.mjs", import.meta.url));

type Status = "passed" | "failed" | "skipped";

function workspace(packages: Record<string, { file: string; tests: [string, Status][] }>): string {
  const root = mkdtempSync(join(tmpdir(), "test-summary-"));
  for (const [name, { file, tests }] of Object.entries(packages)) {
    const dir = join(root, "packages", name.split("/").at(-1) as string);
    mkdirSync(join(dir, "test-results"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name }));
    const count = (status: Status) => tests.filter(([, s]) => s === status).length;
    const report = {
      numPassedTests: count("passed"),
      numFailedTests: count("failed"),
      numPendingTests: count("skipped"),
      numTodoTests: 0,
      testResults: [
        {
          name: join(dir, file),
          assertionResults: tests.map(([title, status]) => ({ title, fullName: title, status })),
        },
      ],
    };
    writeFileSync(join(dir, "test-results/vitest.json"), JSON.stringify(report));
  }
  return root;
}

it("names each skipped test and why, then the closing line", async () => {
  const root = workspace({
    "@orchestrator-ts/provider-openai": {
      file: "src/live.test.ts",
      tests: [
        ["maps errors", "passed"],
        ["live OpenAI: gpt-4o-mini generates and streams (skipped: OPENAI_API_KEY not set)", "skipped"],
      ],
    },
    "@orchestrator-ts/provider-ollama": {
      file: "src/ollama-model.test.ts",
      tests: [["live: generates and streams (skipped: OLLAMA_HOST not set)", "skipped"]],
    },
  });
  const run = await runScript({ file: SCRIPT }, { args: [root] });
  expect(run.code).toBe(0);
  expect(run.stdout).toBe(
    [
      "Skipped: 2 opt-in live test(s), which call a real service only when its credentials are set:",
      "  - @orchestrator-ts/provider-ollama src/ollama-model.test.ts: live: generates and streams (OLLAMA_HOST not set)",
      "  - @orchestrator-ts/provider-openai src/live.test.ts: live OpenAI: gpt-4o-mini generates and streams (OPENAI_API_KEY not set)",
      "Tests: 1 passed, 0 failed, 2 skipped",
      "",
    ].join("\n"),
  );
});

it("does not call a skip without a stated reason opt-in; failures make the exit code 1", async () => {
  const root = workspace({
    "@orchestrator-ts/core": {
      file: "src/model.test.ts",
      tests: [
        ["works", "passed"],
        ["breaks", "failed"],
        ["someday", "skipped"],
      ],
    },
  });
  const run = await runScript({ file: SCRIPT }, { args: [root] });
  expect(run.code).toBe(1);
  expect(run.stdout).toContain(
    "Skipped: 1 test(s):\n  - @orchestrator-ts/core src/model.test.ts: someday (no reason given in its title)\n",
  );
  expect(run.stdout.trim().split("\n").at(-1)).toBe("Tests: 1 passed, 1 failed, 1 skipped");
});
