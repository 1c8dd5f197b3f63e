import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { FakeModel } from "./fake-model";
import { describeModelConformance } from "./conformance";

// The suite passes for a well-behaved model…
describeModelConformance(
  "FakeModel",
  () =>
    new FakeModel({
      name: "fake",
      capabilities: { supportsStreaming: true, inputCostPerToken: 1e-6, outputCostPerToken: 2e-6 },
    }),
  {
    injectFailure: (model) => (model as FakeModel).enqueue({ fail: "server-error" }),
    injectLatency: (model, ms) => (model as FakeModel).setLatency(ms),
  },
);
describeModelConformance(
  "FakeModel without native streaming",
  () => new FakeModel({ name: "fake-nostream", streaming: false }),
);

// …and fails for models that leak their key or whose stream disagrees with generate.
describe("the conformance suite catches bad models", () => {
  it("fails the leaky model's secret check and the disagreeing model's stream check", { timeout: 60_000 }, async () => {
    const fixtures = resolve(__dirname, "../test/fixtures");
    const out = join(mkdtempSync(join(tmpdir(), "conformance-")), "report.json");
    const vitest = resolve(__dirname, "../../../node_modules/vitest/vitest.mjs");
    const run = await promisify(execFile)(
      process.execPath,
      [vitest, "run", "--config", join(fixtures, "vitest.config.ts"), "--reporter=json", `--outputFile=${out}`],
      {
        cwd: fixtures,
      },
    ).then(
      () => ({ exitCode: 0 }),
      (e: { code?: number }) => ({ exitCode: e.code ?? -1 }),
    );
    expect(run.exitCode).not.toBe(0);
    const report = JSON.parse(readFileSync(out, "utf8")) as {
      testResults: { assertionResults: { fullName: string; status: string }[] }[];
    };
    const failed = report.testResults.flatMap((f) =>
      f.assertionResults.filter((a) => a.status === "failed").map((a) => a.fullName),
    );
    expect(failed).toEqual([
      "model conformance: leaky never shows its secret in inspection, JSON or errors",
      "model conformance: disagreeing streams text that assembles to what generate returns",
    ]);
  });
});
