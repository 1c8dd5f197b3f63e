// A model's warnings reach streams as they reach generate: `streamText` through `orchestrator(id)`
// (the real `ai` package) has them in `result.warnings`, the registry's stream has them by its first
// chunk, and an AISDKModel takes its AI SDK model's `stream-start` warnings as its own. Real SDKs
// (`@anthropic-ai/sdk`, `openai`, `@ai-sdk/anthropic`) against the loopback servers.
import { createAnthropic } from "@ai-sdk/anthropic";
import type { StreamChunk } from "@orchestrator-ts/core";
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { CostBasedSelector, ModelRegistry } from "@orchestrator-ts/registry";
import {
  type AnthropicServer,
  type OpenAIServer,
  startAnthropicServer,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import { generateText, streamText } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AISDKModel, createOrchestratorProvider } from "./index";

const KEY = "sk-warnings-loopback-0123456789abcdef";
const ANTHROPIC_KEY = "sk-ant-warnings-loopback-012345";
const TEMPERATURE = /Messages API \(SDK 1\.14\) takes no `temperature`; not sent/;
let openaiServer: OpenAIServer;
let anthropicServer: AnthropicServer;
let registry: ModelRegistry;
let aiSdkClaude: AISDKModel;

// The AI SDK prints every call's warnings to the console; these tests make warnings on purpose.
const logWarnings = (globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS;

beforeAll(async () => {
  (globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = false;
  openaiServer = await startOpenAIServer({ apiKey: KEY });
  anthropicServer = await startAnthropicServer({ apiKey: ANTHROPIC_KEY });
  registry = new ModelRegistry({ modelSelector: new CostBasedSelector(), maxRetries: 0 });
  registry.registerModel(
    new OpenAIModel({
      name: "gpt-4o-mini",
      apiKey: KEY,
      baseURL: openaiServer.baseURL,
      capabilities: { inputCostPerToken: 0.15e-6, outputCostPerToken: 0.6e-6 },
    }),
  );
  registry.registerModel(
    new AnthropicModel({
      name: "claude-sonnet-4-6",
      apiKey: ANTHROPIC_KEY,
      baseURL: anthropicServer.baseURL,
      capabilities: { inputCostPerToken: 3e-6, outputCostPerToken: 15e-6 },
    }),
  );
  // Claude through @ai-sdk/anthropic, which warns about `seed` (the Messages API has none).
  aiSdkClaude = new AISDKModel({
    name: "ai-sdk-claude",
    model: createAnthropic({ apiKey: ANTHROPIC_KEY, baseURL: `${anthropicServer.url}/v1` })("claude-sonnet-4-5"),
    capabilities: { inputCostPerToken: 3e-6, outputCostPerToken: 15e-6 },
  });
  registry.registerModel(aiSdkClaude);
});
afterAll(async () => {
  (globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = logWarnings;
  await registry.cleanup();
  await Promise.all([openaiServer.close(), anthropicServer.close()]);
});

/** The stream's warnings when its first chunk arrived, and its finish chunk. */
async function consume(stream: AsyncIterable<StreamChunk> & { readonly warnings: readonly string[] }) {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  const atFirstChunk = [...stream.warnings];
  let last: StreamChunk | undefined = first.done ? undefined : first.value;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) last = next.value;
  return { first: first.value as StreamChunk | undefined, atFirstChunk, finish: last };
}

describe("streamText through orchestrator(id): the model's warnings", () => {
  it("an Anthropic model's warning (no `temperature` sent) is in `await result.warnings`, as generateText has it", async () => {
    const orchestrator = createOrchestratorProvider({ registry });
    const model = orchestrator("claude-sonnet-4-6");
    const generated = await generateText({ model, prompt: "hello", temperature: 0.3 });
    const expected = { type: "other", message: expect.stringMatching(TEMPERATURE) };
    expect(generated.warnings).toEqual([expected]);

    const result = streamText({ model, prompt: "hello", temperature: 0.3 });
    expect(await result.text).toBe("Echo: hello");
    expect(await result.warnings).toEqual(generated.warnings);
    expect(anthropicServer.requests.at(-1)?.body).not.toHaveProperty("temperature");
  });

  it("the bridge's own warnings and the model's come together in stream-start", async () => {
    const orchestrator = createOrchestratorProvider({ registry });
    const result = streamText({
      model: orchestrator("claude-sonnet-4-6"),
      prompt: "hello",
      temperature: 0.3,
      headers: { "x-trace-id": "t1" },
    });
    await result.consumeStream();
    const warnings = await result.warnings;
    expect(warnings).toContainEqual(expect.objectContaining({ type: "unsupported", feature: "headers" }));
    expect(warnings).toContainEqual({ type: "other", message: expect.stringMatching(TEMPERATURE) });
  });

  it("a model that takes the request as it is adds no warnings", async () => {
    const orchestrator = createOrchestratorProvider({ registry });
    const result = streamText({ model: orchestrator("gpt-4o-mini"), prompt: "hello", temperature: 0.3 });
    await result.consumeStream();
    expect(await result.warnings).toEqual([]);
  });

  it("an AISDKModel's AI SDK warnings cross the registry and come back to streamText", async () => {
    const orchestrator = createOrchestratorProvider({ registry });
    const result = streamText({ model: orchestrator("ai-sdk-claude"), prompt: "hello", seed: 7 });
    await result.consumeStream();
    expect(await result.warnings).toContainEqual({ type: "other", message: expect.stringMatching(/seed/) });
  });
});

describe("registry.stream: the answering model's warnings by the first chunk", () => {
  it("AnthropicModel: on the stream as its first chunk arrives, and on the finish chunk", async () => {
    const stream = registry.stream({
      messages: [{ role: "user", content: "hi" }],
      temperature: 0.3,
      route: "claude-sonnet-4-6",
    });
    const { first, atFirstChunk, finish } = await consume(stream);
    expect(first?.type).toBe("text");
    expect(atFirstChunk).toEqual([expect.stringMatching(TEMPERATURE)]);
    expect(finish).toMatchObject({ type: "finish", model: "claude-sonnet-4-6", warnings: atFirstChunk });
  });

  it("AISDKModel: its AI SDK model's stream-start warnings are its own, by the first chunk", async () => {
    const stream = aiSdkClaude.stream({ messages: [{ role: "user", content: "hi" }], seed: 7 });
    const { first, atFirstChunk, finish } = await consume(stream);
    expect(first?.type).toBe("text");
    expect(atFirstChunk).toEqual([expect.stringMatching(/seed/)]);
    expect(finish).toMatchObject({ type: "finish", warnings: atFirstChunk });
    const generated = await aiSdkClaude.generate({ messages: [{ role: "user", content: "hi" }], seed: 7 });
    expect(generated.warnings).toEqual(atFirstChunk);
  });
});
