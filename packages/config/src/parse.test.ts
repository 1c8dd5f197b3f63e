// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text; ${VAR} in them is the subject under test.
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { ConfigError, type ConfigIssue, ModelCapabilities, Secret, formatConfigIssue } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { providers } from "../test/plugins";
import { type ParseOptions, parseModelConfig } from "./index";

const seed = readFileSync(new URL("../test/fixtures/seed-models.yaml", import.meta.url), "utf8");
const seedEnv = {
  OPENAI_API_KEY: "sk-seed-openai-0123456789",
  OPENAI_ORG_ID: "org-seed",
  ANTHROPIC_API_KEY: "sk-ant-seed-0123456789",
};

/** Every problem of a config, formatted as users see them (`file:line:col: path: message`). */
function problems(text: string, options: ParseOptions = {}): string[] {
  try {
    parseModelConfig(text, { source: "models.yaml", env: {}, ...options });
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    return error.issues.map((i: ConfigIssue) => formatConfigIssue(i));
  }
  throw new Error("expected a ConfigError");
}

const model = (extra = "") => `models:\n  - name: a\n    provider: fake\n${extra}`;

describe("the seed's config/models.yaml", () => {
  it("loads unchanged, with snake_case keys mapped to the TypeScript names", () => {
    const config = parseModelConfig(seed, { env: seedEnv, source: "config/models.yaml", providers });
    expect(config.source).toBe("config/models.yaml");
    expect(config.models.map((m) => [m.name, m.provider])).toEqual([
      ["gpt-4", "openai"],
      ["claude-3-opus", "anthropic"],
      ["local-llama", "ollama"],
    ]);
    const [gpt4, claude, llama] = config.models;
    expect(gpt4?.capabilities).toBeInstanceOf(ModelCapabilities);
    expect(gpt4?.capabilities).toMatchObject({ textGeneration: true, codeGeneration: true, maxTokens: 8192 });
    expect(gpt4?.constraints.maxRequestsPerMinute).toBe(100);
    // constraints.cost_per_token prices both directions.
    expect(gpt4?.capabilities.inputCostPerToken).toBe(0.00003);
    expect(gpt4?.capabilities.outputCostPerToken).toBe(0.00003);
    expect(claude?.capabilities.maxTokens).toBe(200000);
    expect(llama?.config).toEqual({ host: "localhost", port: 11434, modelPath: "llama2:7b" });
    expect(gpt4?.location).toEqual({ source: "config/models.yaml", line: 3, column: 5 });
    expect(gpt4?.capabilitiesDeclared).toBe(true);
    // Secrets arrive as Secret; the real value is one reveal() away.
    expect(gpt4?.config.apiKey).toBeInstanceOf(Secret);
    expect((gpt4?.config.apiKey as Secret | undefined)?.reveal()).toBe(seedEnv.OPENAI_API_KEY);
    expect(gpt4?.config.organization).toBe("org-seed");
  });

  it("never shows a key in inspection or JSON", () => {
    const config = parseModelConfig(seed, { env: seedEnv });
    const shown = [inspect(config, { depth: 10 }), JSON.stringify(config), String(config.models[0]?.config.apiKey)];
    for (const text of shown) {
      expect(text).not.toContain(seedEnv.OPENAI_API_KEY);
      expect(text).not.toContain(seedEnv.ANTHROPIC_API_KEY);
      expect(text).toContain("[REDACTED]");
    }
  });

  it("strict: a missing OPENAI_ORG_ID is an error naming the variable, its line and column", () => {
    const { OPENAI_ORG_ID: _, ...env } = seedEnv;
    expect(problems(seed, { env })).toEqual([
      "models.yaml:7:21: models[0].config.organization: environment variable OPENAI_ORG_ID is not set (write ${OPENAI_ORG_ID:-default} to give a default)",
    ]);
  });

  it("lenient: the model that needs it is marked unavailable, the others load", () => {
    const { OPENAI_ORG_ID: _, ...env } = seedEnv;
    const config = parseModelConfig(seed, { env: { ...env, OPENAI_API_KEY: "" }, lenient: true });
    expect(config.models.map((m) => [m.name, m.unavailable])).toEqual([
      ["gpt-4", "OPENAI_API_KEY and OPENAI_ORG_ID are not set"],
      ["claude-3-opus", undefined],
      ["local-llama", undefined],
    ]);
  });
});

describe("secrets", () => {
  it("wraps values of secret keys (any depth) and values read from secret-named variables", () => {
    const text = model(
      '    config:\n      password: "hunter2-literal"\n      headers:\n        Authorization: "Bearer abc.def.ghi"\n      endpoint: "${SERVICE_TOKEN}"\n      region: "${REGION}"\n',
    );
    const config = parseModelConfig(text, { env: { SERVICE_TOKEN: "tok-very-secret", REGION: "eu-west-1" } });
    const block = config.models[0]?.config ?? {};
    expect(block.password).toBeInstanceOf(Secret);
    expect((block.headers as Record<string, unknown>).Authorization).toBeInstanceOf(Secret);
    expect(block.endpoint).toBeInstanceOf(Secret);
    expect(block.region).toBe("eu-west-1");
    const shown = inspect(config, { depth: 10 }) + JSON.stringify(config);
    for (const secret of ["hunter2-literal", "abc.def.ghi", "tok-very-secret"]) expect(shown).not.toContain(secret);
  });

  it("keeps a secret-named variable's value out of error messages, even where it does not belong", () => {
    expect(
      problems(model("    capabilities:\n      max_tokens: ${BILLING_API_KEY}\n"), {
        env: { BILLING_API_KEY: "billing-key-0123456789" },
      }),
    ).toEqual(['models.yaml:5:19: models[0].capabilities.max_tokens: expected a number, got "[REDACTED]"']);
  });

  it("treats a Redis URL with a password as a secret", () => {
    const config = parseModelConfig(
      model('cache:\n  backend: redis\n  redis:\n    url: "redis://:pa55word@cache:6379/0"\n'),
      { env: {} },
    );
    expect(config.cache?.redis?.url).toBeInstanceOf(Secret);
    expect(JSON.stringify(config)).not.toContain("pa55word");
    expect(inspect(config, { depth: 10 })).not.toContain("pa55word");
  });
});

describe("the rest of the file: selector, cache, health, execution", () => {
  it("maps every section to camelCase, durations to milliseconds", () => {
    const text = `${model()}  - name: b\n    provider: fake\nselector:\n  type: performance\n  min_tokens_per_second: 50\n  max_response_time: 5.0\n  prefer_streaming: true\ncache:\n  backend: redis\n  ttl: 3600\n  max_size: 10000\n  namespace: prod\n  redis:\n    url: "redis://localhost:6379"\n    key_prefix: "orc:"\nhealth:\n  check_interval: 300\n  failure_threshold: 3\n  recovery_threshold: 2\n  timeout: "500ms"\n  concurrency: 4\nexecution:\n  max_retries: 2\n  max_fallbacks: 1\n  timeout: 2m\n  backoff:\n    initial: 250ms\n    max: 10s\n    multiplier: 2\n    jitter: true\n  fallbacks:\n    a: [b]\n`;
    const config = parseModelConfig(text, { env: {} });
    expect(config.selector).toEqual({
      type: "performance",
      minTokensPerSecond: 50,
      maxResponseTimeMs: 5000,
      preferStreaming: true,
    });
    expect(config.cache).toEqual({
      enabled: true,
      backend: "redis",
      ttlMs: 3_600_000,
      maxSize: 10000,
      namespace: "prod",
      redis: { url: "redis://localhost:6379", keyPrefix: "orc:" },
    });
    expect(config.health).toEqual({
      enabled: true,
      checkIntervalMs: 300_000,
      failureThreshold: 3,
      recoveryThreshold: 2,
      timeoutMs: 500,
      concurrency: 4,
    });
    expect(config.execution).toEqual({
      maxRetries: 2,
      maxFallbacks: 1,
      timeoutMs: 120_000,
      backoff: { initialMs: 250, maxMs: 10_000, multiplier: 2, jitter: true },
      fallbacks: { a: ["b"] },
    });
  });

  it("reads the telemetry section: enabled by default once present, content capture off unless asked", () => {
    expect(parseModelConfig(`${model()}telemetry:\n  capture_content: true\n`, { env: {} }).telemetry).toEqual({
      enabled: true,
      captureContent: true,
    });
    expect(parseModelConfig(`${model()}telemetry:\n  enabled: false\n`, { env: {} }).telemetry).toEqual({
      enabled: false,
    });
    expect(parseModelConfig(model(), { env: {} }).telemetry).toBeUndefined();
  });

  it("sets only what the file says: defaults belong to the packages that use each section", () => {
    const config = parseModelConfig(`${model()}selector:\n  exploration_factor: 2.0\n  min_trials: 5\n`, { env: {} });
    expect(config.selector).toEqual({ type: "ucb", explorationFactor: 2, minTrials: 5 });
    const contextual = parseModelConfig(
      `${model()}selector:\n  type: contextual\n  exploration: thompson\n  alpha: 0.5\n  budget_per_request: \${BUDGET}\n  learn_from: reward\n  dimensions: 512\n  decision_log: decisions.jsonl\n`,
      { env: { BUDGET: "0.00125" } },
    );
    expect(contextual.selector).toEqual({
      type: "contextual",
      exploration: "thompson",
      alpha: 0.5,
      budgetPerRequest: 0.00125,
      learnFrom: "reward",
      dimensions: 512,
      decisionLog: "decisions.jsonl",
    });
    expect(config.cache).toBeUndefined();
    expect(config.models[0]?.capabilitiesDeclared).toBe(false);
  });

  it("keeps declared input/output prices over cost_per_token", () => {
    const config = parseModelConfig(
      model(
        "    capabilities:\n      input_cost_per_token: 0.00001\n    constraints:\n      cost_per_token: 0.00003\n",
      ),
      { env: {} },
    );
    expect(config.models[0]?.capabilities.inputCostPerToken).toBe(0.00001);
    expect(config.models[0]?.capabilities.outputCostPerToken).toBe(0.00003);
  });

  it("supports anchors and merge keys, with positions of the written keys", () => {
    const text =
      "models:\n  - &base\n    name: a\n    provider: fake\n    capabilities: {max_tokens: 1000}\n  - <<: *base\n    name: b\n    capabilities: {max_tokens: 0}\n";
    expect(problems(text)).toEqual([
      "models.yaml:8:32: models[1].capabilities.max_tokens: must be greater than 0, got 0",
    ]);
  });
});

describe("broken configurations: each gives its exact error", () => {
  const cases: [string, string, ParseOptions | undefined, string[]][] = [
    [
      "YAML: item indented wrongly",
      "models:\n  - name: a\n   provider: b\n",
      undefined,
      ["models.yaml:3:1: YAML syntax error: Sequence item without - indicator"],
    ],
    [
      "YAML: unclosed quote",
      'models:\n  - name: "a\n',
      undefined,
      ['models.yaml:3:1: YAML syntax error: Missing closing "quote'],
    ],
    [
      "YAML: duplicate key",
      "models:\n  - name: a\n    name: b\n    provider: fake\n",
      undefined,
      ['models.yaml:3:5: duplicate key "name" (each key may appear once in a mapping)'],
    ],
    [
      "empty file",
      "# nothing here\n",
      undefined,
      ['models.yaml:1:1: the file is empty: expected a mapping with a "models" list'],
    ],
    [
      "a list at the top",
      "- name: a\n",
      undefined,
      ['models.yaml:1:1: expected a mapping with a "models" list at the top of the file, got a list'],
    ],
    [
      "unknown top-level key, near miss",
      "model:\n  - name: a\n",
      undefined,
      [
        'models.yaml:1:1: model: unknown key "model" — did you mean "models"?',
        'models.yaml:1:1: models: missing required key "models"',
      ],
    ],
    [
      "no models list",
      "selector:\n  type: ucb\n",
      undefined,
      ['models.yaml:1:1: models: missing required key "models"'],
    ],
    ["empty models list", "models: []\n", undefined, ["models.yaml:1:9: models: must not be empty"]],
    [
      "models is a mapping",
      "models:\n  gpt-4: {provider: openai}\n",
      undefined,
      ["models.yaml:2:3: models: expected a list, got a mapping"],
    ],
    [
      "an entry that is just a name",
      "models:\n  - gpt-4\n",
      undefined,
      ['models.yaml:2:5: models[0]: expected a mapping, got "gpt-4"'],
    ],
    [
      "entry without name",
      "models:\n  - provider: fake\n",
      undefined,
      ['models.yaml:2:5: models[0].name: missing required key "name"'],
    ],
    [
      "entry without provider",
      "models:\n  - name: a\n    config: {}\n",
      undefined,
      ['models.yaml:2:5: models[0].provider: missing required key "provider"'],
    ],
    [
      "empty name",
      'models:\n  - name: ""\n    provider: fake\n',
      undefined,
      ["models.yaml:2:11: models[0].name: must not be empty"],
    ],
    [
      "duplicate model name",
      `${model()}  - name: a\n    provider: fake\n`,
      undefined,
      ['models.yaml:4:11: models[1].name: duplicate model name "a" (first defined at models.yaml:2:11, models[0])'],
    ],
    [
      "misspelt entry key",
      model("    capabilites:\n      max_tokens: 10\n"),
      undefined,
      ['models.yaml:4:5: models[0].capabilites: unknown key "capabilites" — did you mean "capabilities"?'],
    ],
    [
      "misspelt capability",
      model("    capabilities:\n      max_token: 10\n"),
      undefined,
      ['models.yaml:5:7: models[0].capabilities.max_token: unknown key "max_token" — did you mean "max_tokens"?'],
    ],
    [
      "a word for a number",
      model("    capabilities:\n      max_tokens: lots\n"),
      undefined,
      ['models.yaml:5:19: models[0].capabilities.max_tokens: expected a number, got "lots"'],
    ],
    [
      "zero tokens",
      model("    capabilities:\n      max_tokens: 0\n"),
      undefined,
      ["models.yaml:5:19: models[0].capabilities.max_tokens: must be greater than 0, got 0"],
    ],
    [
      "fractional tokens",
      model("    capabilities:\n      max_tokens: 1.5\n"),
      undefined,
      ["models.yaml:5:19: models[0].capabilities.max_tokens: expected a whole number, got 1.5"],
    ],
    [
      "yes is not a boolean in YAML 1.2",
      model("    capabilities:\n      vision: yes\n"),
      undefined,
      ['models.yaml:5:15: models[0].capabilities.vision: expected true or false, got "yes"'],
    ],
    [
      "capabilities as a list",
      model("    capabilities: [text_generation]\n"),
      undefined,
      ["models.yaml:4:19: models[0].capabilities: expected a mapping, got a list"],
    ],
    [
      "config as a list",
      model("    config: [a, b]\n"),
      undefined,
      ["models.yaml:4:13: models[0].config: expected a mapping, got a list"],
    ],
    [
      "misspelt constraint",
      model("    constraints:\n      max_requests_per_min: 5\n"),
      undefined,
      [
        'models.yaml:5:7: models[0].constraints.max_requests_per_min: unknown key "max_requests_per_min" — did you mean "max_requests_per_minute"?',
      ],
    ],
    [
      "negative price",
      model("    constraints:\n      cost_per_token: -1\n"),
      undefined,
      ["models.yaml:5:23: models[0].constraints.cost_per_token: must be at least 0, got -1"],
    ],
    [
      "unknown provider lists the known ones",
      "models:\n  - name: a\n    provider: opnai\n",
      { providers },
      [
        'models.yaml:3:15: models[0].provider: unknown provider "opnai" — did you mean "openai"?; known providers: openai, anthropic, ollama, fake, huggingface, llama-cpp, ai-sdk (or name an installed plugin package)',
      ],
    ],
    [
      "missing variable outside config",
      model("    capabilities:\n      max_tokens: ${MAX_TOKENS}\n"),
      { lenient: true },
      [
        "models.yaml:5:19: models[0].capabilities.max_tokens: environment variable MAX_TOKENS is not set (write ${MAX_TOKENS:-default} to give a default)",
      ],
    ],
    [
      "unterminated ${",
      model('    config:\n      response: "${NAME"\n'),
      undefined,
      ['models.yaml:5:17: models[0].config.response: unterminated "${" in "${NAME" (missing "}")'],
    ],
    [
      "invalid variable name",
      model('    config:\n      response: "${1NAME}"\n'),
      undefined,
      [
        'models.yaml:5:17: models[0].config.response: invalid variable reference "${1NAME}": a name is letters, digits and "_", not starting with a digit; a default is written ${NAME:-default}',
      ],
    ],
    [
      "bash-style default without dash",
      model('    config:\n      response: "${NAME:default}"\n'),
      undefined,
      [
        'models.yaml:5:17: models[0].config.response: invalid variable reference "${NAME:default}": a name is letters, digits and "_", not starting with a digit; a default is written ${NAME:-default}',
      ],
    ],
    [
      "unknown selector type",
      `${model()}selector:\n  type: ucbb\n`,
      undefined,
      [
        'models.yaml:5:9: selector.type: expected one of "ucb", "thompson", "cost", "performance", "weighted-random", "round-robin", "contextual", got "ucbb" — did you mean "ucb"?',
      ],
    ],
    [
      "contextual option on ucb",
      `${model()}selector:\n  type: ucb\n  budget_per_request: 0.001\n`,
      undefined,
      [
        'models.yaml:6:3: selector.budget_per_request: "budget_per_request" is an option of the "contextual" selector, not of "ucb"',
      ],
    ],
    [
      "option of another selector",
      `${model()}selector:\n  type: ucb\n  max_cost_per_request: 0.1\n`,
      undefined,
      [
        'models.yaml:6:3: selector.max_cost_per_request: "max_cost_per_request" is an option of the "cost" selector, not of "ucb"',
      ],
    ],
    [
      "weights name an unknown model",
      `${model()}selector:\n  type: weighted-random\n  weights:\n    b: 2\n`,
      undefined,
      ['models.yaml:7:5: selector.weights.b: unknown model "b" — did you mean "a"?'],
    ],
    [
      "unknown cache backend",
      `${model()}cache:\n  backend: memcached\n`,
      undefined,
      ['models.yaml:5:12: cache.backend: expected one of "memory", "redis", got "memcached"'],
    ],
    [
      "duration without a known unit",
      `${model()}cache:\n  ttl: 1 hour\n`,
      undefined,
      [
        'models.yaml:5:8: cache.ttl: invalid duration "1 hour": use a number of seconds (300) or a number with a unit: "500ms", "30s", "5m", "1h"',
      ],
    ],
    [
      "redis settings on the memory backend",
      `${model()}cache:\n  redis:\n    url: redis://localhost\n`,
      undefined,
      ['models.yaml:5:3: cache.redis: redis settings are given but backend is "memory" (set backend: redis)'],
    ],
    [
      "negative cache size",
      `${model()}cache:\n  max_size: -5\n`,
      undefined,
      ["models.yaml:5:13: cache.max_size: must be greater than 0, got -5"],
    ],
    [
      "zero failure threshold",
      `${model()}health:\n  failure_threshold: 0\n`,
      undefined,
      ["models.yaml:5:22: health.failure_threshold: must be greater than 0, got 0"],
    ],
    [
      "misspelt health key",
      `${model()}health:\n  check_intervall: 300\n`,
      undefined,
      ['models.yaml:5:3: health.check_intervall: unknown key "check_intervall" — did you mean "check_interval"?'],
    ],
    [
      "unknown top-level key, far off",
      `${model()}logging: debug\n`,
      undefined,
      [
        'models.yaml:4:1: logging: unknown key "logging" (expected one of: models, selector, cache, health, execution, redis, routes, keys, telemetry)',
      ],
    ],
    [
      "fallback to an unknown model",
      `${model()}execution:\n  fallbacks:\n    a: [claude]\n`,
      undefined,
      ['models.yaml:6:9: execution.fallbacks.a[0]: unknown model "claude" (expected one of: a)'],
    ],
    [
      "a model as its own fallback",
      `${model()}execution:\n  fallbacks:\n    a: [a]\n`,
      undefined,
      ['models.yaml:6:9: execution.fallbacks.a[0]: model "a" cannot be its own fallback'],
    ],
    [
      "backoff that starts above its max",
      `${model()}execution:\n  backoff:\n    initial: 5s\n    max: 1s\n`,
      undefined,
      ["models.yaml:6:14: execution.backoff.initial: initial backoff (5000 ms) is longer than max (1000 ms)"],
    ],
    [
      "telemetry switch as a word",
      `${model()}telemetry:\n  enabled: on\n`,
      undefined,
      ['models.yaml:5:12: telemetry.enabled: expected true or false, got "on"'],
    ],
    [
      "misspelt telemetry key",
      `${model()}telemetry:\n  capture_contents: true\n`,
      undefined,
      ['models.yaml:5:3: telemetry.capture_contents: unknown key "capture_contents" — did you mean "capture_content"?'],
    ],
    [
      "negative retries",
      `${model()}execution:\n  max_retries: -1\n`,
      undefined,
      ["models.yaml:5:16: execution.max_retries: must be at least 0, got -1"],
    ],
    [
      "plugin config: misspelt key",
      "models:\n  - name: a\n    provider: openai\n    config:\n      api_kye: x\n",
      { providers },
      [
        'models.yaml:4:5: models[0].config.api_key: missing required key "api_key"',
        'models.yaml:5:7: models[0].config.api_kye: unknown key "api_kye" — did you mean "api_key"?',
      ],
    ],
    [
      "plugin config: wrong type",
      "models:\n  - name: a\n    provider: ollama\n    config:\n      model_path: llama2\n      port: high\n",
      { providers },
      ['models.yaml:6:13: models[0].config.port: expected a number, got "high"'],
    ],
    [
      "same setting spelt twice",
      'models:\n  - name: a\n    provider: openai\n    config:\n      api_key: "k1"\n      apiKey: "k2"\n',
      undefined,
      ['models.yaml:6:7: models[0].config.apiKey: "apiKey" and "api_key" are the same setting (apiKey); keep one'],
    ],
  ];

  it("has at least 30 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)("%s", (_title, text, options, expected) => {
    expect(problems(text, options)).toEqual(expected);
  });

  it("reports every problem of a file at once, in file order, as one typed ConfigError", () => {
    const text =
      "models:\n  - name: a\n    provider: fake\n    capabilities: {max_token: 1}\n  - name: b\n  - name: a\n    provider: fake\ncache:\n  ttl: soon\n";
    let error: unknown;
    try {
      parseModelConfig(text, { source: "models.yaml", env: {} });
    } catch (e) {
      error = e;
    }
    expect(ConfigError.isInstance(error)).toBe(true);
    const configError = error as ConfigError;
    expect(configError.code).toBe("config_error");
    expect(configError.issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      "4:20 models[0].capabilities.max_token",
      "5:5 models[1].provider",
      "6:11 models[2].name",
      "9:8 cache.ttl",
    ]);
    expect(configError.message).toContain("Invalid model configuration (4 problems):");
  });
});
