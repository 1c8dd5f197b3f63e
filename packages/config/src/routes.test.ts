import { ConfigError, type ConfigIssue, formatConfigIssue } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { parseModelConfig } from "./index";

function problems(text: string): string[] {
  try {
    parseModelConfig(text, { source: "models.yaml", env: {} });
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    return error.issues.map((i: ConfigIssue) => formatConfigIssue(i));
  }
  throw new Error("expected a ConfigError");
}

const MODELS = `models:
  - name: yi
    provider: fake
  - name: mixtral
    provider: fake
  - name: gpt-4
    provider: fake
`;

describe("routes:", () => {
  it("reads cascade and selector routes into their TypeScript spelling, with where each was written", () => {
    const config = parseModelConfig(
      `${MODELS}routes:
  - name: mcq
    type: cascade
    stages:
      - models: [yi, mixtral]
        parallel: true
      - models: [gpt-4]
    extract: choice
    accept: unanimous
    budget_per_request: 0.00125
    tasks:
      winogrande:
        extract: "choice:AB"
        accept: { at_least: 2 }
  - name: cheap-code
    type: selector
    requirements:
      capabilities: [code_generation]
      max_cost: 0.01
      max_latency: 2s
    selector:
      type: cost
      max_cost_per_request: 0.02
`,
      { source: "models.yaml", env: {} },
    );
    expect(config.routes).toEqual([
      {
        type: "cascade",
        name: "mcq",
        stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
        extract: "choice",
        accept: "unanimous",
        budgetPerRequest: 0.00125,
        tasks: { winogrande: { extract: "choice:AB", accept: { atLeast: 2 } } },
        location: { source: "models.yaml", line: 9, column: 5 },
      },
      {
        type: "selector",
        name: "cheap-code",
        requirements: { capabilities: ["codeGeneration"], maxCost: 0.01, maxLatencyMs: 2000 },
        selector: { type: "cost", maxCostPerRequest: 0.02 },
        location: { source: "models.yaml", line: 22, column: 5 },
      },
    ]);
  });

  it("points at each problem: unknown models, extractors, types, keys, duplicate and clashing names", () => {
    expect(
      problems(`${MODELS}routes:
  - name: mcq
    type: cascade
    stages:
      - models: [yi, mixtrl]
    extract: letter
  - name: mcq
    type: cascad
  - name: yi
    type: selector
    requirements: { capabilities: [code_gen] }
    selector: { type: cost, exploration_factor: 2 }
  - name: x
    type: cascade
    stages: [{ models: [yi], parallel: maybe }]
    extract: number
    acept: unanimous
`),
    ).toEqual([
      'models.yaml:12:22: routes[0].stages[0].models[1]: unknown model "mixtrl" — did you mean "mixtral"?',
      "models.yaml:13:14: routes[0].extract: unknown extractor: use choice (A–D), choice:<LETTERS> (choice:AB), number, first-number, json:<field.path>, text",
      'models.yaml:14:11: routes[1].name: duplicate route name "mcq" (first defined at models.yaml:9:11, routes[0])',
      'models.yaml:15:11: routes[1].type: type must be one of "cascade", "selector", got "cascad" — did you mean "cascade"?',
      'models.yaml:16:11: routes[2].name: "yi" is also a model\'s name: a request for it could not tell the two apart',
      'models.yaml:18:36: routes[2].requirements.capabilities[0]: unknown capability "code_gen" — did you mean "code_generation"?',
      'models.yaml:19:29: routes[2].selector.exploration_factor: "exploration_factor" is an option of the "ucb" selector, not of "cost"',
      'models.yaml:22:40: routes[3].stages[0].parallel: expected true or false, got "maybe"',
      'models.yaml:24:5: routes[3].acept: unknown key "acept" — did you mean "accept"?',
    ]);
  });
});
