// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text; ${VAR} in them is the subject under test.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, defineProvider, formatConfigIssue } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildModels, expandEnv, parseModelConfig } from "./index";

// Each case runs in its own process with a small heap and a wall-clock limit: a bomb that gets
// through crashes or is killed, and the test fails instead of taking the test run down with it.
const HEAP_MB = 128;
const WALL_MS = 60_000;
// The parse itself, measured in the child (CI machines are shared and slow: generous, but far
// below what the unbounded code took: 3.9 s for 5 levels of aliases, minutes for 6).
const PARSE_MS = 5_000;
const runner = fileURLToPath(new URL("../test/hostile-case.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "hostile-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  case: string;
  ms: number;
  heapMB: number;
  thrown: string;
  totalIssues?: number;
  issues?: number;
  message?: string;
}

function runCase(
  name: string,
): Promise<{ code: number | null; signal: string | null; outcome?: Outcome; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, "--import", "tsx", runner, name, dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), WALL_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      resolve({
        code,
        signal,
        stderr: stderr.slice(-2_000),
        ...(line ? { outcome: JSON.parse(line) as Outcome } : {}),
      });
    });
  });
}

const cases: [name: string, message: RegExp][] = [
  ["alias-bomb-5", /aliases expand to more than 50,000 values/],
  ["alias-bomb-9", /aliases expand to more than 50,000 values/],
  ["alias-flood", /aliases expand to more than 50,000 values/],
  ["nested-defaults", /\$\{…\} references nested more than 16 deep/],
  ["block-nesting-2000", /the config is 2,0\d\d,\d\d\d bytes, more than 262,144 bytes/],
  ["block-nesting", /the YAML is nested more than 64 levels deep/],
  ["compact-nesting", /the YAML is nested more than 64 levels deep/],
  ["flow-nesting", /the YAML is nested more than 64 levels deep/],
  ["million-references", /the config is 4,000,0\d\d bytes, more than 262,144 bytes/],
  ["long-expansion", /models\[0\]\.config\.x: expands to more than 1,048,576 characters/],
  ["total-expansion", /expand to more than 16,777,216 characters in total/],
  [
    "repeated-typo",
    /\(3000 problems\):[\s\S]*unknown key "max_token" — did you mean "max_tokens"\?[\s\S]*\n {2}… and 2980 more$/,
  ],
  ["duplicate-keys", /duplicate key "a"/],
  ["many-secrets", /unknown provider|.*/],
  ["too-large-file", /huge\.yaml: the config is 2,000,0\d\d bytes, more than 262,144 bytes/],
  ["endless-device", /\/dev\/zero: the config is more than 262,144 bytes/],
];

describe(`hostile config input (each case in a child process: ${HEAP_MB} MB heap, ${WALL_MS / 1000} s wall clock)`, () => {
  for (const [name, message] of cases) {
    it(`${name}: a ConfigError within ${PARSE_MS / 1000} s`, { timeout: WALL_MS + 10_000 }, async () => {
      const { code, signal, outcome, stderr } = await runCase(name);
      expect({ code, signal, stderr: outcome ? "" : stderr }).toEqual({ code: 0, signal: null, stderr: "" });
      if (!outcome) throw new Error("no outcome");
      if (name === "many-secrets") {
        // Valid (no provider table to check against): what mattered was the time and the heap.
        expect(outcome.thrown).toBe("nothing");
      } else {
        expect(outcome.thrown).toBe("ConfigError");
        expect(outcome.message).toMatch(message);
      }
      expect(outcome.ms).toBeLessThan(PARSE_MS);
    });
  }

  it(
    "repeated-typo: the error keeps and prints the first 20 of 3,000 problems, and counts the rest",
    async () => {
      const { outcome } = await runCase("repeated-typo");
      expect(outcome?.totalIssues).toBe(3_000);
      expect(outcome?.issues).toBe(20);
      expect(outcome?.message?.split("\n")).toHaveLength(22);
    },
    WALL_MS + 10_000,
  );
});

describe("prototype names are plain data", () => {
  const echo = defineProvider({
    name: "echo",
    // Passes any keys through, so what reaches a plugin can be seen.
    configSchema: z.object({}).catchall(z.unknown()),
    create: (spec) =>
      Object.assign(new FakeModel({ name: spec.name, capabilities: spec.capabilities }), { received: spec.config }),
  });
  const providers = { echo };
  const issuesOf = (text: string): string[] => {
    try {
      parseModelConfig(text, { env: {}, providers });
    } catch (error) {
      if (ConfigError.isInstance(error)) return error.issues.map(formatConfigIssue);
      throw error;
    }
    return [];
  };

  it("`__proto__:` and `constructor:` at the top are unknown keys (constructor used to pass as a section)", () => {
    expect(
      issuesOf("models:\n  - name: a\n    provider: echo\n__proto__:\n  polluted: true\nconstructor: 1\n"),
    ).toEqual([
      '<inline>:4:1: __proto__: unknown key "__proto__" (expected one of: models, selector, cache, health, execution, redis, routes, keys, telemetry)',
      '<inline>:6:1: constructor: unknown key "constructor" (expected one of: models, selector, cache, health, execution, redis, routes, keys, telemetry)',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("models named toString, constructor and __proto__ are ordinary models; weights and fallbacks name them", async () => {
    const text = [
      "models:",
      ...["toString", "constructor", "__proto__", "hasOwnProperty"].flatMap((name) => [
        `  - name: "${name}"`,
        "    provider: echo",
      ]),
      "selector:",
      "  type: weighted-random",
      "  weights: { toString: 1, constructor: 2, hasOwnProperty: 3 }",
      "execution:",
      "  fallbacks:",
      '    toString: [constructor, "__proto__"]',
    ].join("\n");
    const config = parseModelConfig(text, { env: {}, providers });
    expect(config.models.map((m) => m.name)).toEqual(["toString", "constructor", "__proto__", "hasOwnProperty"]);
    expect(config.selector?.weights).toEqual({ toString: 1, constructor: 2, hasOwnProperty: 3 });
    expect(Object.hasOwn(config.execution?.fallbacks ?? {}, "toString")).toBe(true);
    expect(config.execution?.fallbacks?.toString).toEqual(["constructor", "__proto__"]);
    const { models } = await buildModels(config, { providers });
    expect(await models[2]?.generateResponse("hi")).toContain("hi");
  });

  it("a `__proto__` key inside a config block is an own key of plain data, never the prototype", async () => {
    const text =
      "models:\n  - name: a\n    provider: echo\n    config:\n      nested:\n        __proto__: { polluted: true }\n        kept: 1\n";
    const config = parseModelConfig(text, { env: {}, providers });
    const nested = config.models[0]?.config.nested as Record<string, unknown>;
    expect(Object.getPrototypeOf(nested)).toBe(Object.prototype);
    expect(Object.keys(nested)).toEqual(["__proto__", "kept"]);
    expect(Object.hasOwn(nested, "__proto__")).toBe(true);
    expect(nested.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("${constructor} and ${toString} are unset variables, not Object.prototype members", () => {
    expect(expandEnv("${constructor}${toString:-fallback}", {})).toEqual({
      value: "fallback",
      used: [],
      missing: [{ name: "constructor", empty: false }],
      errors: [],
    });
  });
});
