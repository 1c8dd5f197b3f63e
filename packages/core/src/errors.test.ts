import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  ConfigError,
  MAX_CONFIG_ISSUES,
  ContextLengthError,
  ModelNotFoundError,
  NoEligibleModelError,
  OrchestratorError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  errorFromStatus,
  parseRetryAfter,
} from "./index";

describe("error family", () => {
  it("classifies with isInstance along the class chain", () => {
    const e = new RateLimitError("slow down", { retryAfterMs: 1500, provider: "openai" });
    expect(RateLimitError.isInstance(e)).toBe(true);
    expect(ProviderError.isInstance(e)).toBe(true);
    expect(OrchestratorError.isInstance(e)).toBe(true);
    expect(AuthenticationError.isInstance(e)).toBe(false);
    expect(e.code).toBe("rate_limit_error");
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBe(1500);
    expect(OrchestratorError.isInstance(new Error("x"))).toBe(false);
    expect(OrchestratorError.isInstance(null)).toBe(false);
  });

  it("isInstance works across two separately loaded copies of the package", () => {
    // Copy the built package to a second folder and load both copies in one process: instanceof fails, isInstance does not.
    const dist = resolve(__dirname, "../dist");
    // Inside the workspace's node_modules so that the copy resolves zod as an installed package would.
    const cacheDir = resolve(__dirname, "../../../node_modules/.cache");
    mkdirSync(cacheDir, { recursive: true });
    const dir = mkdtempSync(join(cacheDir, "orch-copy-"));
    cpSync(dist, join(dir, "copy"), { recursive: true });
    const script = `
      const a = require(${JSON.stringify(join(dist, "index.cjs"))});
      const b = require(${JSON.stringify(join(dir, "copy", "index.cjs"))});
      const err = new b.RateLimitError("x", { retryAfterMs: 5 });
      console.log(JSON.stringify({
        differentClasses: a.RateLimitError !== b.RateLimitError,
        instanceOf: err instanceof a.RateLimitError,
        isInstance: a.RateLimitError.isInstance(err),
        providerIsInstance: a.ProviderError.isInstance(err),
        wrongClass: a.TimeoutError.isInstance(err),
      }));`;
    writeFileSync(join(dir, "check.cjs"), script);
    const out = JSON.parse(execFileSync(process.execPath, [join(dir, "check.cjs")], { encoding: "utf8" }));
    rmSync(dir, { recursive: true, force: true });
    expect(out).toEqual({
      differentClasses: true,
      instanceOf: false,
      isInstance: true,
      providerIsInstance: true,
      wrongClass: false,
    });
  });

  it("maps statuses to classes", () => {
    expect(AuthenticationError.isInstance(errorFromStatus(401, "no"))).toBe(true);
    expect(AuthenticationError.isInstance(errorFromStatus(403, "no"))).toBe(true);
    expect(RateLimitError.isInstance(errorFromStatus(429, "no", { retryAfterMs: 10 }))).toBe(true);
    expect(TimeoutError.isInstance(errorFromStatus(504, "no"))).toBe(true);
    expect(ContextLengthError.isInstance(errorFromStatus(400, "too long", { contextLength: true }))).toBe(true);
    const bad = errorFromStatus(400, "bad request");
    expect(bad.retryable).toBe(false);
    expect(errorFromStatus(503, "down").retryable).toBe(true);
  });

  it("parses retry-after in ms, seconds and dates", () => {
    const h = (m: Record<string, string>) => (n: string) => m[n];
    expect(parseRetryAfter(h({ "retry-after-ms": "250" }))).toBe(250);
    expect(parseRetryAfter(h({ "retry-after": "2" }))).toBe(2000);
    expect(parseRetryAfter(h({ "retry-after": new Date(10_000).toUTCString() }), 4_000)).toBe(6000);
    expect(parseRetryAfter(h({}))).toBeUndefined();
  });

  it("suggests close names for a missing model", () => {
    const e = new ModelNotFoundError("gpt4", ["gpt-4", "claude-3-opus", "local-llama"]);
    expect(e.suggestions).toEqual(["gpt-4"]);
    expect(e.message).toContain('Did you mean "gpt-4"');
  });

  it("carries every exclusion reason", () => {
    const e = new NoEligibleModelError([
      { model: "a", code: "cost", reason: "estimated cost 0.02 USD exceeds maxCost 0.01" },
      { model: "b", code: "capability", reason: "lacks vision" },
    ]);
    expect(e.excluded).toHaveLength(2);
    expect(e.message).toContain("a: estimated cost");
    expect(JSON.parse(JSON.stringify(e)).excluded[1].reason).toBe("lacks vision");
  });

  it("formats config issues with file and line", () => {
    const e = new ConfigError([
      { path: "models[0].name", message: "required", source: "models.yaml", line: 3, column: 5 },
    ]);
    expect(e.message).toBe("Invalid configuration: models.yaml:3:5: models[0].name: required");
  });

  it("keeps and shows the first MAX_CONFIG_ISSUES problems, and counts the rest (31,000 repeated typos printed 4.2 MB)", () => {
    const issues = Array.from({ length: 31_000 }, (_, i) => ({
      path: `models[${i}].capabilities.max_token`,
      message: 'unknown key "max_token"',
      source: "m.yaml",
      line: 4 * i + 5,
      column: 7,
    }));
    const e = new ConfigError(issues);
    expect(e.totalIssues).toBe(31_000);
    expect(e.issues).toHaveLength(MAX_CONFIG_ISSUES);
    const lines = e.message.split("\n");
    expect(lines[0]).toBe("Invalid configuration (31000 problems):");
    expect(lines).toHaveLength(MAX_CONFIG_ISSUES + 2);
    expect(lines.at(-1)).toBe(`  … and ${31_000 - MAX_CONFIG_ISSUES} more`);
    const json = JSON.stringify(e);
    expect(json.length).toBeLessThan(10_000);
    expect(JSON.parse(json).totalIssues).toBe(31_000);
  });
});
