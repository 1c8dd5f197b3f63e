// Every preset against the loopback OpenAI server: a `baseURL` (Azure: `endpoint`) override points
// it at loopback; the tests check what the real service expects: its URL, path, key variable and header.
import { AuthenticationError, ConfigError, ModelCapabilities, ModelConstraints } from "@orchestrator-ts/core";
import { type OpenAIServer, rejectionOf, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AZURE_DEFAULT_API_VERSION,
  OPENAI_PRESETS,
  OPENAI_PRESET_NAMES,
  OpenAIModel,
  type OpenAIModelOptions,
  type OpenAIPresetName,
  openaiProvider,
} from "./index";

const KEY = "preset-key-0123456789abcdef";
let server: OpenAIServer;
// LM Studio takes no key: its stand-in checks none.
let keyless: OpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
  keyless = await startOpenAIServer();
});
afterAll(async () => {
  await server.close();
  await keyless.close();
});

const ENV_NAMES = [
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "OPENAI_API_VERSION",
  "AZURE_OPENAI_ENDPOINT",
  ...OPENAI_PRESET_NAMES.map((n) => OPENAI_PRESETS[n].apiKeyEnv).filter((v): v is string => v !== undefined),
];
const saved = new Map(ENV_NAMES.map((n) => [n, process.env[n]]));
afterEach(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  server.requests.length = 0;
});

const made: OpenAIModel[] = [];
afterAll(async () => {
  await Promise.all(made.map((m) => m.cleanup()));
});
function model(options: Partial<OpenAIModelOptions> & { preset: OpenAIPresetName }): OpenAIModel {
  const m = new OpenAIModel({ name: "m", ...options });
  made.push(m);
  return m;
}

// What each service documents: its base URL and the variable its key is read from.
const EXPECTED: Record<
  Exclude<OpenAIPresetName, "azure">,
  { baseURL: string; env: string | undefined; local: boolean }
> = {
  groq: { baseURL: "https://api.groq.com/openai/v1", env: "GROQ_API_KEY", local: false },
  together: { baseURL: "https://api.together.xyz/v1", env: "TOGETHER_API_KEY", local: false },
  deepseek: { baseURL: "https://api.deepseek.com", env: "DEEPSEEK_API_KEY", local: false },
  fireworks: { baseURL: "https://api.fireworks.ai/inference/v1", env: "FIREWORKS_API_KEY", local: false },
  openrouter: { baseURL: "https://openrouter.ai/api/v1", env: "OPENROUTER_API_KEY", local: false },
  mistral: { baseURL: "https://api.mistral.ai/v1", env: "MISTRAL_API_KEY", local: false },
  vllm: { baseURL: "http://localhost:8000/v1", env: "VLLM_API_KEY", local: true },
  "lm-studio": { baseURL: "http://localhost:1234/v1", env: undefined, local: true },
};

describe("OpenAI-compatible presets", () => {
  it("lists every preset the docs name", () => {
    expect([...OPENAI_PRESET_NAMES].sort()).toEqual([
      "azure",
      "deepseek",
      "fireworks",
      "groq",
      "lm-studio",
      "mistral",
      "openrouter",
      "together",
      "vllm",
    ]);
  });

  for (const [name, expected] of Object.entries(EXPECTED) as [
    Exclude<OpenAIPresetName, "azure">,
    (typeof EXPECTED)["groq"],
  ][]) {
    it(`${name}: the service's URL by default; the key from ${expected.env ?? "nowhere (none needed)"} as a bearer token; answers through a baseURL override`, async () => {
      for (const n of ENV_NAMES) delete process.env[n];
      // OpenAI's key must never be sent to another service.
      process.env.OPENAI_API_KEY = "sk-openai-must-not-leak-000000";
      process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/must-not-be-used";
      const plain = model({ preset: name });
      expect(plain.baseURL).toBe(expected.baseURL);
      expect(plain.provider).toBe(name);
      expect(plain.preset).toBe(name);
      expect(plain.isLocal).toBe(expected.local);
      if (expected.env) process.env[expected.env] = KEY;
      const target = expected.env ? server : keyless;
      const m = model({ preset: name, model: "some-model", baseURL: target.baseURL });
      expect(await m.generateResponse("hello preset")).toBe("Echo: hello preset");
      const request = target.requests.at(-1);
      expect(request?.path).toBe("/v1/chat/completions");
      expect(request?.headers.authorization).toBe(expected.env ? `Bearer ${KEY}` : "Bearer no-key");
      expect((request?.body as { model?: string } | undefined)?.model).toBe("some-model");
    });
  }

  it("a paid service's key variable missing → AuthenticationError naming it (OpenAI's key is not used)", async () => {
    for (const n of ENV_NAMES) delete process.env[n];
    process.env.OPENAI_API_KEY = "sk-openai-must-not-leak-000000";
    const error = await rejectionOf(
      model({ preset: "groq", model: "llama-3.3-70b-versatile" }).generate({
        messages: [{ role: "user", content: "x" }],
      }),
    );
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /No groq API key: pass `apiKey` or set the GROQ_API_KEY environment variable/,
    );
  });

  it("no invented prices: a paid preset's model is priced conservatively until declared; local servers are free", () => {
    const groq = model({ preset: "groq", model: "llama-3.3-70b-versatile" });
    expect(groq.priceSource).toBe("conservative-default");
    // What Groq documents of the model: its window and output limit, and tool use.
    expect(groq.capabilities.contextWindow).toBe(131_072);
    expect(groq.capabilities.maxOutputTokens).toBe(32_768);
    expect(groq.capabilities.functionCalling).toBe(true);
    const declared = model({
      preset: "groq",
      model: "llama-3.3-70b-versatile",
      capabilities: { inputCostPerToken: 0.59e-6, outputCostPerToken: 0.79e-6 },
    });
    expect(declared.priceSource).toBe("declared");
    expect(declared.capabilities.inputCostPerToken).toBe(0.59e-6);
    const vllm = model({ preset: "vllm", model: "Qwen/Qwen2.5-7B-Instruct" });
    expect(vllm.priceSource).toBe("local");
    expect(vllm.capabilities.inputCostPerToken).toBe(0);
    // A preset service's model is not OpenAI's, even when named alike.
    expect(model({ preset: "openrouter", model: "gpt-4o" }).priceSource).toBe("conservative-default");
  });

  it("mistral: the seed goes as random_seed and no stream_options is sent", async () => {
    const m = model({ preset: "mistral", model: "mistral-small-latest", apiKey: KEY, baseURL: server.baseURL });
    await m.generate({ messages: [{ role: "user", content: "x" }], seed: 42 });
    const body = (server.requests.at(-1)?.body ?? {}) as Record<string, unknown>;
    expect(body.random_seed).toBe(42);
    expect(body.seed).toBeUndefined();
    const chunks: string[] = [];
    for await (const piece of m.streamResponse("one two three")) chunks.push(piece);
    expect(chunks.join("")).toBe("Echo: one two three");
    expect((server.requests.at(-1)?.body as Record<string, unknown> | undefined)?.stream_options).toBeUndefined();
  });

  it("an unknown preset → ConfigError with the presets and the closest name", () => {
    expect(() => new OpenAIModel({ name: "x", preset: "grok" as OpenAIPresetName })).toThrow(ConfigError);
    expect(() => new OpenAIModel({ name: "x", preset: "grok" as OpenAIPresetName })).toThrow(
      /unknown preset "grok" \(did you mean "groq"\?\); presets: groq, together/,
    );
  });
});

describe("Azure OpenAI (preset: azure, the SDK's AzureOpenAI client)", () => {
  it("calls /openai/deployments/<deployment>/chat/completions?api-version=… with the api-key header from AZURE_OPENAI_API_KEY", async () => {
    for (const n of ENV_NAMES) delete process.env[n];
    process.env.AZURE_OPENAI_API_KEY = KEY;
    process.env.OPENAI_API_KEY = "sk-openai-must-not-leak-000000";
    // The SDK reads OPENAI_BASE_URL too; with an endpoint it must not get in the way.
    process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/must-not-be-used";
    const m = model({
      preset: "azure",
      name: "gpt-4o",
      endpoint: server.url,
      deployment: "prod-gpt4o",
      apiVersion: "2024-10-21",
    });
    expect(m.provider).toBe("azure");
    expect(m.baseURL).toBe(`${server.url}/openai/deployments/prod-gpt4o?api-version=2024-10-21`);
    expect(await m.generateResponse("hello azure")).toBe("Echo: hello azure");
    let request = server.requests.at(-1);
    expect(request?.path).toBe("/openai/deployments/prod-gpt4o/chat/completions");
    expect(request?.query).toBe("?api-version=2024-10-21");
    expect(request?.headers["api-key"]).toBe(KEY);
    expect(request?.headers.authorization).toBeUndefined();
    const pieces: string[] = [];
    for await (const piece of m.streamResponse("stream azure")) pieces.push(piece);
    expect(pieces.join("")).toBe("Echo: stream azure");
    request = server.requests.at(-1);
    expect(request?.path).toBe("/openai/deployments/prod-gpt4o/chat/completions");
    expect(await m.healthCheck()).toBe(true);
    expect(server.requests.at(-1)?.path).toBe("/openai/models");
    // The OpenAI table prices the model behind the deployment (Azure deploys OpenAI's models).
    expect(m.priceSource).toBe("table");
    // Deployment and api-version decide the answers: part of the cache identity; the key is not.
    expect(m.cacheIdentity).toContain("prod-gpt4o");
    expect(m.cacheIdentity).toContain("api-version=2024-10-21");
    expect(m.cacheIdentity).not.toContain(KEY);
  });

  it("endpoint from AZURE_OPENAI_ENDPOINT, deployment defaults to the model, api-version to OPENAI_API_VERSION else the GA default", async () => {
    for (const n of ENV_NAMES) delete process.env[n];
    process.env.AZURE_OPENAI_ENDPOINT = server.url;
    const m = model({ preset: "azure", name: "chat", model: "gpt-4o-mini", apiKey: KEY });
    await m.generate({ messages: [{ role: "user", content: "x" }] });
    expect(server.requests.at(-1)?.path).toBe("/openai/deployments/gpt-4o-mini/chat/completions");
    expect(server.requests.at(-1)?.query).toBe(`?api-version=${AZURE_DEFAULT_API_VERSION}`);
    process.env.OPENAI_API_VERSION = "2025-01-01-preview";
    const n = model({ preset: "azure", name: "chat", model: "gpt-4o-mini", apiKey: KEY });
    await n.generate({ messages: [{ role: "user", content: "x" }] });
    expect(server.requests.at(-1)?.query).toBe("?api-version=2025-01-01-preview");
  });

  it("no endpoint anywhere → ConfigError saying what to set", () => {
    for (const n of ENV_NAMES) delete process.env[n];
    expect(() => model({ preset: "azure", name: "x" })).toThrow(/Azure OpenAI needs `endpoint`.*AZURE_OPENAI_ENDPOINT/);
  });

  it("a wrong key → AuthenticationError (the server checks the api-key header)", async () => {
    for (const n of ENV_NAMES) delete process.env[n];
    const error = await rejectionOf(
      model({ preset: "azure", name: "x", endpoint: server.url, apiKey: "wrong-key-000000000" }).generate({
        messages: [{ role: "user", content: "x" }],
      }),
    );
    expect(AuthenticationError.isInstance(error)).toBe(true);
  });
});

describe("presets in YAML (config: { preset: … })", () => {
  it("preset, endpoint, deployment and api_version reach the model", async () => {
    for (const n of ENV_NAMES) delete process.env[n];
    const config = openaiProvider.configSchema.parse({
      preset: "azure",
      endpoint: server.url,
      deployment: "yaml-dep",
      apiVersion: "2024-10-21",
      apiKey: KEY,
    });
    const m = (await openaiProvider.create({
      name: "gpt-4o",
      config,
      capabilities: new ModelCapabilities(),
      constraints: new ModelConstraints(),
      capabilitiesDeclared: false,
    })) as OpenAIModel;
    made.push(m);
    expect(await m.generateResponse("from yaml")).toBe("Echo: from yaml");
    expect(server.requests.at(-1)?.path).toBe("/openai/deployments/yaml-dep/chat/completions");
    const groq = openaiProvider.configSchema.parse({ preset: "groq", baseUrl: server.baseURL, apiKey: KEY });
    const g = (await openaiProvider.create({
      name: "llama-3.1-8b-instant",
      config: groq,
      capabilities: new ModelCapabilities(),
      constraints: new ModelConstraints(),
      capabilitiesDeclared: false,
    })) as OpenAIModel;
    made.push(g);
    expect(g.provider).toBe("groq");
    expect(await g.generateResponse("groq yaml")).toBe("Echo: groq yaml");
  });

  it("an unknown preset in YAML is refused by the schema, naming the presets", () => {
    const result = openaiProvider.configSchema.safeParse({ preset: "grok" });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/groq/);
  });

  it("the plugin names every preset's key variable, so a validator can tell which to set", () => {
    expect(openaiProvider.envKeys).toEqual(
      expect.arrayContaining(["OPENAI_API_KEY", "GROQ_API_KEY", "AZURE_OPENAI_API_KEY", "MISTRAL_API_KEY"]),
    );
  });
});
