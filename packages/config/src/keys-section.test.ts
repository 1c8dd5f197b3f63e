import { inspect } from "node:util";
import { ConfigError, type ConfigIssue, formatConfigIssue } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { parseModelConfig } from "./index";

const MODELS = `models:
  - name: small
    provider: fake
  - name: large
    provider: fake
routes:
  - name: cheap
    type: selector
    requirements: { max_cost: 0.01 }
`;

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseModelConfig(text, { source: "models.yaml", env });
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    return error.issues.map((i: ConfigIssue) => formatConfigIssue(i));
  }
  throw new Error("expected a ConfigError");
}

describe("keys:", () => {
  it("reads static virtual keys with $ENV values into their TypeScript spelling; the key stays a Secret", () => {
    const value = "sk-team-a-0123456789abcdef";
    const config = parseModelConfig(
      `${MODELS}keys:
  - name: team-a
    key: \${TEAM_A_KEY}
    budget_usd: 5
    budget_period: day
    rpm: 60
    tpm: 100000
    models: [small, cheap, auto]
    metadata: { owner: ana }
`,
      { source: "models.yaml", env: { TEAM_A_KEY: value } },
    );
    const key = config.keys?.[0];
    expect(key).toMatchObject({
      name: "team-a",
      budgetUsd: 5,
      budgetPeriod: "day",
      rpm: 60,
      tpm: 100000,
      models: ["small", "cheap", "auto"],
      metadata: { owner: "ana" },
      location: { source: "models.yaml", line: 11 },
    });
    expect(key?.key.reveal()).toBe(value);
    expect(JSON.stringify(config.keys)).not.toContain(value);
    expect(inspect(config, { depth: 10 })).not.toContain(value);
  });

  it("reports every bad entry at its file:line, and never echoes a key's value", () => {
    const short = "sk-short";
    const list = problems(
      `${MODELS}keys:
  - name: a
    key: ${short}
  - name: b
    key: sk-long-enough-0123456789
    budget_period: week
    rpm: -1
    models: [smal]
  - name: a
    key: sk-long-enough-0123456789
  - name: c
`,
    );
    const text = list.join("\n");
    expect(text).toContain("models.yaml:12:10");
    expect(text).toMatch(/keys\[0\]\.key.*too short/);
    expect(text).toMatch(/models\.yaml:15:\d+.*keys\[1\]\.budget_period/);
    expect(text).toMatch(/keys\[1\]\.rpm/);
    expect(text).toMatch(/keys\[1\]\.models\[0\].*unknown model or route "smal".*small/);
    expect(text).toMatch(/keys\[2\]\.name.*duplicate key name "a"/);
    expect(text).toMatch(/keys\[2\]\.key.*the same key as keys\[1\]/);
    expect(text).toMatch(/keys\[3\].*needs "key"/);
    expect(text).not.toContain(short);
    expect(text).not.toContain("sk-long-enough");
  });
});
