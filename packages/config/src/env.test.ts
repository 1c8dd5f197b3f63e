// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text; ${VAR} in them is the subject under test.
import { ConfigError, Secret } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { expandEnv, parseDuration, parseModelConfig } from "./index";

const env = { A: "alpha", B: "beta", EMPTY: "", PORT: "8080", FLAG: "true", MY_API_TOKEN: "tok-0123456789" };

describe("${VAR} expansion", () => {
  it.each([
    ["plain reference", "${A}", "alpha"],
    ["text around references", "prefix-${A}-${B}-suffix", "prefix-alpha-beta-suffix"],
    ["default when unset", "${MISSING:-fallback}", "fallback"],
    ["default when empty", "${EMPTY:-fallback}", "fallback"],
    ["value wins over default", "${A:-fallback}", "alpha"],
    ["empty default", "${MISSING:-}", ""],
    ["default holding a reference", "${MISSING:-${B}}", "beta"],
    ["default holding :- and spaces", "${MISSING:-a:-b c}", "a:-b c"],
    ["$${ escapes", "$${A}", "${A}"],
    ["escape next to a reference", "$${A}=${A}", "${A}=alpha"],
    ["$VAR without braces is literal", "$A and $$ and a$", "$A and $$ and a$"],
    ["no references", "just text", "just text"],
  ])("%s: %s → %s", (_title, input, expected) => {
    const result = expandEnv(input, env);
    expect(result.errors).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.value).toBe(expected);
  });

  it("reports unset and empty variables without a default, never expanding them to empty text", () => {
    expect(expandEnv("x-${NOPE}-${EMPTY}", env).missing).toEqual([
      { name: "NOPE", empty: false },
      { name: "EMPTY", empty: true },
    ]);
  });

  it.each([
    ["${A", 'unterminated "${" in "${A" (missing "}")'],
    [
      "${}",
      'invalid variable reference "${}": a name is letters, digits and "_", not starting with a digit; a default is written ${NAME:-default}',
    ],
    [
      "${A B}",
      'invalid variable reference "${A B}": a name is letters, digits and "_", not starting with a digit; a default is written ${NAME:-default}',
    ],
    [
      "${A-x}",
      'invalid variable reference "${A-x}": a name is letters, digits and "_", not starting with a digit; a default is written ${NAME:-default}',
    ],
  ])("rejects %s", (input, message) => {
    expect(expandEnv(input, env).errors).toEqual([message]);
  });

  it("records which variables were used (for secret detection)", () => {
    expect(expandEnv("${A}${MISSING:-${B}}", env).used).toEqual(["A", "B"]);
  });
});

describe("expansion inside a config file", () => {
  const file = (value: string, key = "response") =>
    `models:\n  - name: m\n    provider: fake\n    config:\n      ${key}: ${value}\n`;
  const parse = (value: string, key?: string) =>
    parseModelConfig(file(value, key), { env, source: "m.yaml" }).models[0]?.config ?? {};

  it("reads an unquoted reference as the number or boolean it expands to", () => {
    expect(parse("${PORT}", "port")).toEqual({ port: 8080 });
    expect(parse("${FLAG}", "tls")).toEqual({ tls: true });
    expect(parse("${MISSING:-42}", "port")).toEqual({ port: 42 });
  });

  it("keeps a quoted reference a string", () => {
    expect(parse('"${PORT}"', "port")).toEqual({ port: "8080" });
  });

  it("expands values, not keys, and leaves comments alone", () => {
    const text = "models:\n  - name: m # ${NOT_EXPANDED}\n    provider: fake\n    config:\n      ${A}: x\n";
    expect(parseModelConfig(text, { env }).models[0]?.config).toEqual({ "${A}": "x" });
  });

  it("names the variable and points at the value, on the right line of a multi-line file", () => {
    const text =
      "models:\n  - name: m\n    provider: fake\n    config:\n      response: >\n        folded text\n        with ${NOPE}\n";
    try {
      parseModelConfig(text, { env, source: "m.yaml" });
      expect.unreachable();
    } catch (error) {
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as ConfigError).issues).toEqual([
        {
          path: "models[0].config.response",
          message: "environment variable NOPE is not set (write ${NOPE:-default} to give a default)",
          source: "m.yaml",
          line: 5,
          column: 17,
        },
      ]);
    }
  });

  it("says when a variable is set but empty", () => {
    expect(() => parseModelConfig(file('"${EMPTY}"'), { env, source: "m.yaml" })).toThrow(
      "m.yaml:5:17: models[0].config.response: environment variable EMPTY is set but empty (write ${EMPTY:-} to allow an empty value)",
    );
  });

  it("expands every use of an anchored value", () => {
    const text =
      "models:\n  - name: m\n    provider: fake\n    config: &shared\n      response: ${A}\n  - name: n\n    provider: fake\n    config: *shared\n";
    expect(parseModelConfig(text, { env }).models.map((m) => m.config)).toEqual([
      { response: "alpha" },
      { response: "alpha" },
    ]);
  });

  it("treats values read from KEY/TOKEN/SECRET/PASSWORD variables as secrets", () => {
    const value = parse("${MY_API_TOKEN}", "endpoint");
    expect(value.endpoint).toBeInstanceOf(Secret);
    expect((value.endpoint as Secret).reveal()).toBe("tok-0123456789");
  });
});

describe("durations", () => {
  it.each([
    [300, 300_000],
    [0.5, 500],
    ["300", 300_000],
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["1d", 86_400_000],
    [" 2 m ", 120_000],
  ])("%j → %d ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  // 1e308 seconds is Infinity in milliseconds: a duration nothing could use (it was read as null further on).
  it.each([
    [-1],
    ["5 minutes"],
    ["ms"],
    [""],
    [true],
    [null],
    ["1x"],
    [Number.POSITIVE_INFINITY],
    [1e308],
    ["9".repeat(400)],
  ])("rejects %j", (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});
