import { ModelCapabilities, ModelConstraints, isProviderPlugin } from "@orchestrator-ts/core";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provider as namedPlugin, OpenAIModel, createOpenAI, openai, openaiProvider } from "./index";

const KEY = "sk-test-provider-0123456789abcdef";
let server: OpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
});

describe("openaiProvider (YAML plugin)", () => {
  it("is the package's `provider` export and a provider plugin", () => {
    expect(namedPlugin).toBe(openaiProvider);
    expect(isProviderPlugin(openaiProvider)).toBe(true);
    expect(openaiProvider.secretKeys).toEqual(["apiKey"]);
    expect(openaiProvider.envKeys?.[0]).toBe("OPENAI_API_KEY");
  });

  it("creates a working model from a config block (base_url arrives as baseUrl; empty VAR expansions are unset)", async () => {
    const config = openaiProvider.configSchema.parse({ apiKey: KEY, organization: "", baseUrl: server.baseURL });
    const model = await openaiProvider.create({
      name: "gpt-4o-mini",
      config,
      capabilities: new ModelCapabilities(),
      constraints: new ModelConstraints({ maxRequestsPerMinute: 100 }),
      capabilitiesDeclared: false,
    });
    expect(model).toBeInstanceOf(OpenAIModel);
    expect((model as OpenAIModel).organization).toBeUndefined();
    expect(model.constraints.maxRequestsPerMinute).toBe(100);
    expect(model.capabilities.vision).toBe(true);
    expect(await model.generateResponse("from yaml")).toBe("Echo: from yaml");
    expect(JSON.stringify(config)).not.toContain(KEY);
    await model.cleanup();
  });

  it("keeps declared capabilities", async () => {
    const model = await openaiProvider.create({
      name: "gpt-4",
      config: openaiProvider.configSchema.parse({}),
      capabilities: new ModelCapabilities({ textGeneration: true, codeGeneration: true, maxTokens: 8192 }),
      constraints: new ModelConstraints(),
      capabilitiesDeclared: true,
    });
    expect(model.capabilities.maxTokens).toBe(8192);
    expect(model.capabilities.inputCostPerToken).toBeGreaterThan(0);
  });

  it("rejects unknown config keys", () => {
    expect(openaiProvider.configSchema.safeParse({ api_key: "x", typo: 1 }).success).toBe(false);
  });
});

describe("createOpenAI / openai", () => {
  it("makes models by id with shared settings", async () => {
    const provider = createOpenAI({ apiKey: KEY, baseURL: server.baseURL });
    const model = provider("gpt-4o-mini");
    expect(model.name).toBe("gpt-4o-mini");
    expect(provider.chat("gpt-4o", { name: "smart" }).name).toBe("smart");
    expect(await model.generateResponse("factory")).toBe("Echo: factory");
    await model.cleanup();
  });

  it("the default instance constructs without a key (read at first call)", () => {
    expect(openai("gpt-4o-mini")).toBeInstanceOf(OpenAIModel);
  });
});
