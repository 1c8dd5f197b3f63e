// `provider: ai-sdk` in YAML: the config loader expands variables and wraps secrets, the plugin
// imports the named AI SDK package (the real @ai-sdk/openai / @ai-sdk/anthropic) and wraps its model.
import { inspect } from "node:util";
import { buildModels, parseModelConfig } from "@orchestrator-ts/config";
import { ConfigError, isProviderPlugin } from "@orchestrator-ts/core";
import {
  type AnthropicServer,
  type OpenAIServer,
  rejectionOf,
  startAnthropicServer,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import defaultPlugin, { AISDKModel, aiSdkProvider } from "./index";

const KEY = "sk-aisdk-yaml-0123456789abcdef";
const ANTHROPIC_KEY = "sk-ant-aisdk-yaml-0123456789";
let server: OpenAIServer;
let anthropicServer: AnthropicServer;

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
  anthropicServer = await startAnthropicServer({ apiKey: ANTHROPIC_KEY });
});
afterAll(async () => {
  await server.close();
  await anthropicServer.close();
});

async function build(yaml: string, env: Record<string, string> = {}): Promise<AISDKModel[]> {
  const config = parseModelConfig(yaml, { env: { ...env }, providers: { "ai-sdk": aiSdkProvider } });
  const { models } = await buildModels(config, { providers: { "ai-sdk": aiSdkProvider } });
  return models as AISDKModel[];
}

describe("provider: ai-sdk", () => {
  it("is a provider plugin, the package's default export", () => {
    expect(isProviderPlugin(aiSdkProvider)).toBe(true);
    expect(defaultPlugin).toBe(aiSdkProvider);
    expect(aiSdkProvider.name).toBe("ai-sdk");
  });

  it("imports the named package, finds its create… factory, passes key and base URL, and answers", async () => {
    const [model] = await build(
      `models:
  - name: gpt-mini
    provider: ai-sdk
    config:
      package: "@ai-sdk/openai"
      model: gpt-4o-mini
      method: chat
      api_key: \${OPENAI_KEY}
      base_url: ${server.baseURL}
    capabilities:
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
`,
      { OPENAI_KEY: KEY },
    );
    expect(model).toBeInstanceOf(AISDKModel);
    expect(model?.provider).toBe("openai.chat");
    expect(model?.priceSource).toBe("declared");
    expect(model?.isLocal).toBe(true);
    const result = await model?.generate({ messages: [{ role: "user", content: "hello" }] });
    expect(result?.text).toBe("Echo: hello");
    expect(result?.costUsd).toBeGreaterThan(0);
    expect(server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.requests.at(-1)?.path).toBe("/v1/chat/completions");
    // The key stays out of every view of the model.
    expect(inspect(model, { depth: 10 })).not.toContain(KEY);
    expect(JSON.stringify(model)).not.toContain(KEY);
    expect(model?.cacheIdentity).not.toContain(KEY);
    expect(model?.cacheIdentity).toContain('"package":"@ai-sdk/openai"');
  });

  it("another package, its default method (languageModel) and headers; stream too", async () => {
    const [model] = await build(
      `models:
  - name: claude
    provider: ai-sdk
    config:
      package: "@ai-sdk/anthropic"
      model: claude-sonnet-4-5
      api_key: \${ANTHROPIC_KEY}
      base_url: ${anthropicServer.url}/v1
      headers:
        x-team: blue
`,
      { ANTHROPIC_KEY },
    );
    const chunks: string[] = [];
    for await (const chunk of model?.stream({ messages: [{ role: "user", content: "stream me" }] }) ?? [])
      if (chunk.type === "text") chunks.push(chunk.text);
    expect(chunks.join("")).toBe("Echo: stream me");
    const request = anthropicServer.requests.at(-1);
    expect(request?.headers["x-api-key"]).toBe(ANTHROPIC_KEY);
    expect(request?.headers["x-team"]).toBe("blue");
    expect(model?.cacheIdentity).toContain('"x-team":"blue"');
  });

  it("default provider options from config are sent with every call", async () => {
    const [model] = await build(`models:
  - name: gpt
    provider: ai-sdk
    config:
      package: "@ai-sdk/openai"
      model: gpt-4o-mini
      method: chat
      api_key: ${KEY}
      base_url: ${server.baseURL}
      provider_options:
        openai:
          user: config-user
`);
    await model?.generate({ messages: [{ role: "user", content: "x" }] });
    expect((server.requests.at(-1)?.body as { user?: string } | undefined)?.user).toBe("config-user");
  });

  it("a package that is not installed → ConfigError naming it and the install command", async () => {
    const error = await rejectionOf(
      build(`models:
  - name: g
    provider: ai-sdk
    config: { package: "@ai-sdk/not-a-real-provider", model: x }
`),
    );
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /@ai-sdk\/not-a-real-provider is not installed: npm install @ai-sdk\/not-a-real-provider/,
    );
  });

  it("a path or URL instead of a package name, or a missing model id → ConfigError at the key", async () => {
    for (const [config, where] of [
      ['{ package: "../evil.mjs", model: x }', /config\.package.*npm package/],
      ['{ package: "@ai-sdk/openai" }', /config\.model/],
      ['{ package: "@ai-sdk/openai", model: x, factory: "a-b" }', /config\.factory/],
    ] as const) {
      const error = await rejectionOf(build(`models:\n  - name: g\n    provider: ai-sdk\n    config: ${config}\n`));
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(where);
    }
  });

  it("a factory or method the package does not have → ConfigError listing what it has", async () => {
    const noFactory = await rejectionOf(
      build(`models:
  - name: g
    provider: ai-sdk
    config: { package: "@ai-sdk/openai", model: x, factory: createNothing }
`),
    );
    expect((noFactory as Error).message).toMatch(/exports no function "createNothing".*createOpenAI/);
    const noMethod = await rejectionOf(
      build(`models:
  - name: g
    provider: ai-sdk
    config: { package: "@ai-sdk/openai", model: x, method: chatty, api_key: k-000000 }
`),
    );
    expect((noMethod as Error).message).toMatch(/has no method "chatty".*chat/);
  });

  it("an unknown key in config → ConfigError at the key as written", async () => {
    const error = await rejectionOf(
      build(`models:
  - name: g
    provider: ai-sdk
    config: { package: "@ai-sdk/openai", model: x, temprature: 1 }
`),
    );
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/temprature/);
  });
});
