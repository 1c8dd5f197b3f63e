import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCustomServer } from "@acme/orchestrator-provider-custom/server";
import { ModelRegistry } from "@orchestrator-ts/registry";
import {
  FakeModel,
  type RedisServerHandle,
  startAnthropicServer,
  startHuggingFaceServer,
  startOllamaServer,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import { writeTinyGguf } from "@orchestrator-ts/gguf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerBuiltIns } from "./built-in-integrations";
import { cachedTwice } from "./caching";
import { logs, main } from "./complete-example";
import { fromConfig } from "./configuration";
import { healthMonitoring } from "./health-monitoring";
import { registryArchitecture } from "./model-registry";
import { quantizedModel } from "./quantization";
import { strategies } from "./selection-strategies";

const KEY = "your-api-key";
let custom: Awaited<ReturnType<typeof startCustomServer>>;
beforeAll(async () => {
  custom = await startCustomServer(KEY);
});
afterAll(() => custom.close());

describe("seed: Model Registry Architecture", () => {
  it("registers custom-gpt and selects it for text generation under the cost and speed caps", async () => {
    const { bestModel } = registryArchitecture(custom.url, KEY);
    expect(bestModel.name).toBe("custom-gpt");
    expect(await bestModel.generateResponse("Explain quantum computing")).toBe("Echo: Explain quantum computing");
  });
});

describe("seed: Built-in Model Integrations", () => {
  it("registers and calls OpenAI, Anthropic, Hugging Face and Ollama models", async () => {
    const [openai, anthropic, hf, ollama] = await Promise.all([
      startOpenAIServer({ apiKey: KEY }),
      startAnthropicServer({ apiKey: KEY }),
      startHuggingFaceServer({ apiKey: "hf_your_token" }),
      startOllamaServer({ models: ["llama2:7b"] }),
    ]);
    try {
      const registry = new ModelRegistry();
      const models = registerBuiltIns(registry, {
        openaiBaseURL: `${openai.url}/v1`,
        anthropicBaseURL: anthropic.url,
        huggingfaceEndpointUrl: hf.url,
        ollamaHost: "127.0.0.1",
        ollamaPort: ollama.port,
      });
      expect(registry.listProviders().sort()).toEqual(["anthropic", "huggingface", "ollama", "openai"]);
      for (const model of Object.values(models)) expect(await model.generateResponse("Hello")).toBe("Echo: Hello");
      expect(models.anthropicModel.capabilities.contextWindow).toBe(200_000);
      await registry.cleanup();
    } finally {
      await Promise.all([openai.close(), anthropic.close(), hf.close(), ollama.close()]);
    }
  });
});

describe("seed: Model Selection Strategies", () => {
  it("builds the three selectors with the seed's settings", () => {
    const { ucb, registry, cost, performance } = strategies();
    expect(registry.selector).toBe(ucb);
    expect([ucb.name, cost.name, performance.name]).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ucb/i),
        expect.stringMatching(/cost/i),
        expect.stringMatching(/perf/i),
      ]),
    );
  });
});

describe("seed: Model Health Monitoring", () => {
  it("reports a failing gpt-4's issues", async () => {
    const { registry, issues } = await healthMonitoring((r) => {
      r.registerModel(new FakeModel({ name: "gpt-4", healthy: false }));
    });
    expect(issues?.join(" ")).toMatch(/health check/i);
    await registry.cleanup();
  });
});

describe("seed: Model Caching and Optimization", () => {
  let redis: RedisServerHandle;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis.stop());

  it("answers the second identical request from Redis", async () => {
    const model = new FakeModel({ name: "cached-model" });
    const { cache, response1, response2 } = await cachedTwice(model, redis.url);
    expect(response2).toBe(response1);
    expect(model.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ misses: 1 });
    expect(cache.stats().hits + cache.stats().coalesced).toBe(1);
    await cache.close();
  });
});

describe("seed: Model Quantization and Optimization", () => {
  it("loads the int8 file of a directory on first use and generates", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "seed-quant-"));
    await writeTinyGguf(join(dir, "model-q8_0.gguf"), { quantization: "q8_0" });
    await writeTinyGguf(join(dir, "model-q4_0.gguf"), { quantization: "q4_0" });
    const model = quantizedModel(dir);
    expect(model.quantization).toEqual({ family: "int8", type: "Q8_0" });
    expect(model.file.path).toMatch(/model-q8_0.gguf$/);
    const text = await model.generateResponse("Explain quantum computing", { maxTokens: 8, seed: 1, temperature: 0.8 });
    expect(text.length).toBeGreaterThan(0);
    await model.cleanup();
  });
});

describe("seed: Model Configuration Management", () => {
  it("loads config/models.yaml unchanged and builds the registry from it", async () => {
    const env = {
      OPENAI_API_KEY: "sk-seed-0000000000000000",
      OPENAI_ORG_ID: "org-seed",
      ANTHROPIC_API_KEY: "sk-ant-seed-000000000000",
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const { config, registry } = await fromConfig(join(__dirname, "config/models.yaml"));
      expect(config.models.map((m) => m.name)).toEqual(["gpt-4", "claude-3-opus", "local-llama"]);
      expect(registry.listModels().map((m) => m.provider)).toEqual(["openai", "anthropic", "ollama"]);
      expect(registry.getModel("claude-3-opus").capabilities.maxTokens).toBe(200_000);
      expect(registry.getModel("gpt-4").constraints.maxRequestsPerMinute).toBe(100);
      expect(JSON.stringify(config)).not.toContain("sk-seed-0000000000000000");
      await registry.cleanup();
    } finally {
      process.env = saved;
    }
  });
});

describe("seed: Complete Custom Model Implementation", () => {
  it("runs main()", async () => {
    expect(await main(custom.url, KEY)).toBe("Echo: Explain quantum computing");
    expect(logs).toContain("INFO Initialized model my-custom-model");
  });
});
