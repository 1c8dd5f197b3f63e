// AISDKModel through the real AI SDK providers (@ai-sdk/openai 3.x and 2.x, @ai-sdk/anthropic 3.x)
// against the loopback servers that speak OpenAI's and Anthropic's wire protocols.
import { inspect } from "node:util";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAI as createOpenAIV2 } from "@ai-sdk/openai-v2";
import {
  AbortError,
  AuthenticationError,
  ContextLengthError,
  type GenerateRequest,
  ModelCapabilities,
  ProviderError,
  RateLimitError,
  type StreamChunk,
  TimeoutError,
} from "@orchestrator-ts/core";
import {
  type AnthropicServer,
  collectAll,
  type OpenAIServer,
  rejectionOf,
  startAnthropicServer,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import { describeModelConformance } from "@orchestrator-ts/testing/conformance";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AISDKModel, type AISDKModelOptions, CONSERVATIVE_PRICE } from "./index";

const KEY = "sk-aisdk-loopback-0123456789abcdef";
const ANTHROPIC_KEY = "sk-ant-aisdk-loopback-0123456789";
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
afterEach(() => {
  for (const s of [server, anthropicServer]) {
    s.clearFaults();
    s.setReply(undefined);
    s.requests.length = 0;
    s.resetStats();
  }
});

const made: AISDKModel[] = [];
afterAll(async () => {
  await Promise.all(made.map((m) => m.cleanup()));
});

const PRICED = { inputCostPerToken: 0.15 / 1e6, outputCostPerToken: 0.6 / 1e6 };

function openaiModel(options: Partial<AISDKModelOptions> = {}, key = KEY): AISDKModel {
  const provider = createOpenAI({ apiKey: key, baseURL: server.baseURL });
  const m = new AISDKModel({
    name: "gpt-4o-mini",
    model: provider.chat("gpt-4o-mini"),
    capabilities: PRICED,
    ...options,
  });
  made.push(m);
  return m;
}

function anthropicModel(options: Partial<AISDKModelOptions> = {}): AISDKModel {
  const provider = createAnthropic({ apiKey: ANTHROPIC_KEY, baseURL: `${anthropicServer.url}/v1` });
  const m = new AISDKModel({
    name: "claude",
    model: provider("claude-sonnet-4-5"),
    capabilities: { inputCostPerToken: 3 / 1e6, outputCostPerToken: 15 / 1e6 },
    ...options,
  });
  made.push(m);
  return m;
}

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  ...extra,
});

function lastBody(s: { requests: { body: unknown }[] } = server): Record<string, unknown> {
  const body = s.requests.at(-1)?.body;
  if (typeof body !== "object" || body === null) throw new Error("no recorded body");
  return body as Record<string, unknown>;
}

describeModelConformance("AISDKModel (@ai-sdk/openai 3.x, LanguageModelV3)", () => openaiModel(), {
  secret: KEY,
  injectFailure: () => server.enqueueFault({ type: "status", status: 500 }),
  injectLatency: (_m, ms) => server.enqueueFault({ type: "latency", ms }),
});

describeModelConformance("AISDKModel (@ai-sdk/anthropic 3.x, LanguageModelV3)", () => anthropicModel(), {
  secret: ANTHROPIC_KEY,
  injectFailure: () => anthropicServer.enqueueFault({ type: "status", status: 500 }),
  injectLatency: (_m, ms) => anthropicServer.enqueueFault({ type: "latency", ms }),
});

describeModelConformance(
  "AISDKModel (@ai-sdk/openai 2.x, LanguageModelV2)",
  () => {
    const m = new AISDKModel({
      name: "gpt-4o-mini-v2",
      model: createOpenAIV2({ apiKey: KEY, baseURL: server.baseURL }).chat("gpt-4o-mini"),
      capabilities: PRICED,
    });
    made.push(m);
    return m;
  },
  {
    secret: KEY,
    injectFailure: () => server.enqueueFault({ type: "status", status: 500 }),
    injectLatency: (_m, ms) => server.enqueueFault({ type: "latency", ms }),
  },
);

describe("AISDKModel: what it wraps", () => {
  it("takes V3 and V2 models and says which; the provider label and model id come from the AI SDK", () => {
    const v3 = openaiModel();
    expect(v3.aiSdkSpecificationVersion).toBe("v3");
    expect(v3.provider).toBe("openai.chat");
    expect(v3.modelId).toBe("gpt-4o-mini");
    const v2 = new AISDKModel({
      name: "x",
      model: createOpenAIV2({ apiKey: KEY, baseURL: server.baseURL }).chat("gpt-4o"),
    });
    expect(v2.aiSdkSpecificationVersion).toBe("v2");
    expect(
      new AISDKModel({ name: "y", model: createOpenAI({ apiKey: KEY }).chat("gpt-4o"), provider: "openai" }).provider,
    ).toBe("openai");
  });

  it("refuses what is not a language model, saying what it needs", () => {
    expect(() => new AISDKModel({ name: "x", model: {} as never })).toThrow(
      /AI SDK language model of specification v2 or v3/,
    );
    expect(
      () => new AISDKModel({ name: "x", model: { specificationVersion: "v1", provider: "p", modelId: "m" } as never }),
    ).toThrow(/got a model of specification v1/);
  });

  it("prices from the declared capabilities; undeclared prices are conservative unless local", () => {
    expect(openaiModel().priceSource).toBe("declared");
    const unpriced = new AISDKModel({
      name: "u",
      model: createOpenAI({ apiKey: KEY }).chat("gpt-4o"),
      capabilities: new ModelCapabilities({ textGeneration: true, maxTokens: 8192 }),
    });
    expect(unpriced.priceSource).toBe("conservative-default");
    expect(unpriced.capabilities.inputCostPerToken).toBeCloseTo(CONSERVATIVE_PRICE.inputPerMillion / 1e6, 15);
    expect(unpriced.capabilities.maxTokens).toBe(8192);
    const local = new AISDKModel({ name: "l", model: createOpenAI({ apiKey: KEY }).chat("qwen"), isLocal: true });
    expect(local.priceSource).toBe("local");
    expect(local.capabilities.inputCostPerToken).toBe(0);
    expect(local.isLocal).toBe(true);
  });

  it("cache identity: the AI SDK's provider and model id, so two models named alike never share answers", () => {
    const a = openaiModel();
    const b = new AISDKModel({
      name: "gpt-4o-mini",
      model: createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).chat("gpt-4o"),
      capabilities: PRICED,
    });
    expect(a.cacheIdentity).toContain('"modelId":"gpt-4o-mini"');
    expect(a.cacheIdentity).toContain('"aiSdkProvider":"openai.chat"');
    expect(a.cacheIdentity).not.toBe(b.cacheIdentity);
    const c = new AISDKModel({
      name: "gpt-4o-mini",
      model: createOpenAI({ apiKey: KEY }).chat("gpt-4o-mini"),
      capabilities: PRICED,
      cacheIdentity: { baseURL: "https://eu.example" },
    });
    expect(c.cacheIdentity).not.toBe(a.cacheIdentity);
    expect(a.cacheIdentity).not.toContain(KEY);
  });

  it("never shows the wrapped model (it holds the key)", () => {
    const m = openaiModel();
    expect(inspect(m, { depth: 10 })).not.toContain(KEY);
    expect(JSON.stringify(m)).not.toContain(KEY);
  });
});

describe("AISDKModel: requests and answers", () => {
  it("sends messages, sampling settings and provider options as the provider's wire request", async () => {
    const m = openaiModel({ providerOptions: { openai: { user: "from-config", parallelToolCalls: false } } });
    const result = await m.generate({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "user", content: "again" },
      ],
      maxTokens: 20,
      temperature: 0.3,
      topP: 0.9,
      stop: ["END"],
      seed: 7,
      providerOptions: { openai: { user: "from-request" } },
    });
    expect(result.text).toBe("Echo: again");
    const body = lastBody();
    expect(body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "user", content: "again" },
    ]);
    expect(body).toMatchObject({
      model: "gpt-4o-mini",
      max_tokens: 20,
      temperature: 0.3,
      top_p: 0.9,
      stop: ["END"],
      seed: 7,
      user: "from-request",
      parallel_tool_calls: false,
    });
  });

  it("usage, cost and finish reason come back mapped", async () => {
    server.setReply(() => ({
      text: "four words right here",
      usage: { inputTokens: 11, outputTokens: 4 },
      finishReason: "length",
    }));
    const m = openaiModel();
    const result = await m.generate(ask("x"));
    expect(result.usage).toEqual({ inputTokens: 11, outputTokens: 4 });
    expect(result.costUsd).toBeCloseTo(11 * PRICED.inputCostPerToken + 4 * PRICED.outputCostPerToken, 15);
    expect(result.finishReason).toEqual({ unified: "length", raw: "length" });
    const chunks = await collectAll(m.stream(ask("x")));
    const finish = chunks.at(-1) as Extract<StreamChunk, { type: "finish" }>;
    expect(finish.usage).toEqual({ inputTokens: 11, outputTokens: 4 });
    expect(finish.finishReason).toEqual({ unified: "length", raw: "length" });
  });

  it("cached prompt tokens the AI SDK provider reports become cacheReadInputTokens", async () => {
    server.setReply(() => ({
      text: "cached",
      usage: { inputTokens: 1200, outputTokens: 1, cacheReadInputTokens: 1024 },
    }));
    const result = await openaiModel().generate(ask("x"));
    expect(result.usage).toEqual({ inputTokens: 1200, outputTokens: 1, cacheReadInputTokens: 1024 });
  });

  it("the provider's response id comes back as responseId, from a plain call and from a stream", async () => {
    const m = openaiModel();
    expect((await m.generate(ask("x"))).responseId).toMatch(/^chatcmpl-/);
    const finish = (await collectAll(m.stream(ask("x")))).at(-1) as Extract<StreamChunk, { type: "finish" }>;
    expect(finish.responseId).toMatch(/^chatcmpl-/);
  });

  it("usage the provider does not report stays undefined, never a made-up 0", async () => {
    server.setReply(() => ({ text: "no usage", usage: null }));
    const result = await openaiModel().generate(ask("x"));
    expect(result.usage.inputTokens).toBeUndefined();
    expect(result.usage.outputTokens).toBeUndefined();
    expect(result.costUsd).toBeUndefined();
  });

  it("V2 models: flat usage and string finish reasons are normalised", async () => {
    server.setReply(() => ({ text: "v2 answer", usage: { inputTokens: 9, outputTokens: 2 }, finishReason: "stop" }));
    const m = new AISDKModel({
      name: "v2",
      model: createOpenAIV2({ apiKey: KEY, baseURL: server.baseURL }).chat("gpt-4o-mini"),
      capabilities: PRICED,
    });
    made.push(m);
    const result = await m.generate(ask("x"));
    expect(result).toMatchObject({
      text: "v2 answer",
      usage: { inputTokens: 9, outputTokens: 2 },
      finishReason: { unified: "stop", raw: "stop" },
    });
    const chunks = await collectAll(m.stream(ask("x")));
    expect(
      chunks
        .filter((c) => c.type === "text")
        .map((c) => (c as { text: string }).text)
        .join(""),
    ).toBe("v2 answer");
    expect(chunks.at(-1)).toMatchObject({
      type: "finish",
      usage: { inputTokens: 9, outputTokens: 2 },
      finishReason: { unified: "stop" },
    });
  });

  it("tools go out as function tools (zod converted); tool calls come back parsed, generated and streamed", async () => {
    server.setReply(() => ({ toolCalls: [{ id: "call_1", name: "weather", arguments: { city: "Oslo" } }] }));
    const tools = [{ name: "weather", description: "Weather in a city", parameters: z.object({ city: z.string() }) }];
    const m = openaiModel();
    const result = await m.generate({ ...ask("weather?"), tools, toolChoice: { name: "weather" } });
    expect(result.toolCalls).toEqual([{ id: "call_1", name: "weather", arguments: { city: "Oslo" } }]);
    expect(result.finishReason.unified).toBe("tool-calls");
    const body = lastBody();
    expect(body.tools).toEqual([
      {
        type: "function",
        function: {
          name: "weather",
          description: "Weather in a city",
          parameters: expect.objectContaining({ type: "object", properties: { city: { type: "string" } } }),
        },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: "function", function: { name: "weather" } });
    const chunks = await collectAll(m.stream({ ...ask("weather?"), tools }));
    expect(chunks.filter((c) => c.type === "tool-call")).toEqual([
      { type: "tool-call", toolCall: { id: "call_1", name: "weather", arguments: { city: "Oslo" } } },
    ]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: { unified: "tool-calls" } });
  });

  it("tool calls and tool results in the conversation reach the provider (its tool name found from the call)", async () => {
    await openaiModel().generate({
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: "", toolCalls: [{ id: "call_9", name: "weather", arguments: { city: "Oslo" } }] },
        { role: "tool", toolCallId: "call_9", content: "12°C" },
      ],
    });
    expect(lastBody().messages).toEqual([
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_9", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }],
      },
      { role: "tool", tool_call_id: "call_9", content: "12°C" },
    ]);
    await anthropicModel().generate({
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "toolu_9", name: "weather", arguments: { city: "Oslo" } }],
        },
        { role: "tool", toolCallId: "toolu_9", content: "12°C" },
      ],
    });
    const messages = lastBody(anthropicServer).messages as {
      role: string;
      content: { type: string; id?: string; name?: string; tool_use_id?: string }[];
    }[];
    expect(messages[1]?.content[0]).toMatchObject({ type: "tool_use", id: "toolu_9", name: "weather" });
    expect(messages[2]?.content[0]).toMatchObject({ type: "tool_result", tool_use_id: "toolu_9" });
  });

  it("structured output: a zod schema goes out as the provider's JSON schema format", async () => {
    const Weather = z.object({ city: z.string(), celsius: z.number() });
    server.setReply(() => ({ text: '{"city":"Oslo","celsius":12}' }));
    const result = await openaiModel().generate({
      ...ask("as JSON"),
      responseFormat: { type: "json", schema: Weather, name: "weather" },
    });
    expect(Weather.parse(JSON.parse(result.text))).toEqual({ city: "Oslo", celsius: 12 });
    expect(lastBody().response_format).toMatchObject({
      type: "json_schema",
      json_schema: { name: "weather", schema: { type: "object" } },
    });
  });

  it("images: base64 data and data: URLs become the provider's image parts", async () => {
    await openaiModel().generate({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image", data: "iVBORw0KGgo=", mediaType: "image/png" },
            { type: "image", url: "data:image/jpeg;base64,/9j/4AAQ" },
          ],
        },
      ],
    });
    const content = (lastBody().messages as { content: unknown[] }[])[0]?.content;
    expect(content).toEqual([
      { type: "text", text: "what is this?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
    ]);
  });

  it("the AI SDK's warnings for unsupported settings come back in result.warnings", async () => {
    const result = await anthropicModel().generate({ ...ask("x"), seed: 3 });
    expect(result.warnings.join(" ")).toMatch(/seed/);
  });

  it("Anthropic through @ai-sdk/anthropic: system prompt, text, usage and stop reason", async () => {
    anthropicServer.setReply(() => ({ text: "Hello from loopback", usage: { inputTokens: 7, outputTokens: 3 } }));
    const result = await anthropicModel().generate({
      messages: [
        { role: "system", content: "Be kind." },
        { role: "user", content: "hi" },
      ],
      maxTokens: 50,
    });
    expect(result).toMatchObject({
      text: "Hello from loopback",
      usage: { inputTokens: 7, outputTokens: 3 },
      finishReason: { unified: "stop", raw: "end_turn" },
    });
    expect(lastBody(anthropicServer)).toMatchObject({
      model: "claude-sonnet-4-5",
      max_tokens: 50,
      system: [{ type: "text", text: "Be kind." }],
    });
    expect(anthropicServer.requests.at(-1)?.headers["x-api-key"]).toBe(ANTHROPIC_KEY);
  });
});

describe("AISDKModel: prompt-cache breakpoints", () => {
  it("the core's cacheControl reaches Anthropic through @ai-sdk/anthropic as cache_control, where it stood", async () => {
    anthropicServer.setReply(() => ({ text: "ok" }));
    await anthropicModel().generate({
      messages: [
        { role: "system", content: "A long manual.", cacheControl: { type: "ephemeral" } },
        { role: "user", content: [{ type: "text", text: "hi", cacheControl: { type: "ephemeral", ttl: "1h" } }] },
      ],
      tools: [
        {
          name: "lookup",
          parameters: { type: "object", properties: { q: { type: "string" } } },
          cacheControl: { type: "ephemeral" },
        },
      ],
      maxTokens: 50,
    });
    const body = lastBody(anthropicServer) as {
      system: unknown;
      messages: { content: unknown }[];
      tools: { cache_control?: unknown }[];
    };
    expect(body.system).toEqual([{ type: "text", text: "A long manual.", cache_control: { type: "ephemeral" } }]);
    expect(body.messages[0]?.content).toEqual([
      { type: "text", text: "hi", cache_control: { type: "ephemeral", ttl: "1h" } },
    ]);
    expect(body.tools[0]?.cache_control).toEqual({ type: "ephemeral" });
  });
});

describe("AISDKModel: failures in the typed error family", () => {
  it("429 with retry-after → RateLimitError with retryAfterMs", async () => {
    server.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 7 });
    const error = await rejectionOf(openaiModel().generate(ask("x")));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBe(7_000);
    expect((error as RateLimitError).retryable).toBe(true);
  });

  it("retry-after-ms wins over retry-after (OpenAI sends both)", async () => {
    server.enqueueFault({ type: "status", status: 429, retryAfterMs: 1_500 });
    const error = await rejectionOf(openaiModel().generate(ask("x")));
    expect((error as RateLimitError).retryAfterMs).toBe(1_500);
  });

  it("Anthropic's 429 with retry-after → RateLimitError too", async () => {
    anthropicServer.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 3 });
    const error = await rejectionOf(anthropicModel().generate(ask("x")));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBe(3_000);
  });

  it("401 → AuthenticationError, not retryable, with no key in sight", async () => {
    const wrong = "sk-wrong-key-000000000000000000";
    const error = await rejectionOf(openaiModel({}, wrong).generate(ask("x")));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).retryable).toBe(false);
    expect((error as AuthenticationError).status).toBe(401);
    const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { depth: 10 })}`;
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(KEY);
  });

  it("a missing key → AuthenticationError at the call (creating the model never throws)", async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const m = new AISDKModel({ name: "nokey", model: createOpenAI({ baseURL: server.baseURL }).chat("gpt-4o-mini") });
      const error = await rejectionOf(m.generate(ask("x")));
      expect(AuthenticationError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/API key/);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it("500 → retryable ProviderError with the status; one request only (the AI SDK's own retries are not used)", async () => {
    server.enqueueFault({ type: "status", status: 500 });
    const error = await rejectionOf(openaiModel().generate(ask("x")));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).status).toBe(500);
    expect((error as ProviderError).retryable).toBe(true);
    expect(server.stats.inferenceRequests).toBe(1);
  });

  it("context length exceeded → ContextLengthError", async () => {
    server.enqueueFault({ type: "context-length" });
    const error = await rejectionOf(openaiModel().generate(ask("x")));
    expect(ContextLengthError.isInstance(error)).toBe(true);
    expect((error as ContextLengthError).retryable).toBe(false);
  });

  it("a stream cut before its end (clean close) → retryable ProviderError, never a silent finish", async () => {
    server.setReply(() => ({ text: "one two three four five six" }));
    server.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of openaiModel().stream(ask("x"))) if (chunk.type === "text") seen.push(chunk.text);
      })(),
    );
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/ended before completion/);
    expect(seen.join("")).not.toBe("one two three four five six");
  });

  it("a stream whose connection is reset mid-way → retryable ProviderError", async () => {
    server.setReply(() => ({ text: "one two three four five six" }));
    server.enqueueFault({ type: "cut-stream", afterChunks: 2, mode: "destroy" });
    const error = await rejectionOf(collectAll(openaiModel().stream(ask("x"))));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
  });

  it("an Anthropic stream cut before message_stop → retryable ProviderError", async () => {
    anthropicServer.setReply(() => ({ text: "one two three four five six" }));
    anthropicServer.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const error = await rejectionOf(collectAll(anthropicModel().stream(ask("x"))));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
  });

  it("a malformed stream chunk → ProviderError", async () => {
    server.enqueueFault({ type: "malformed-chunk", afterChunks: 1 });
    const error = await rejectionOf(collectAll(openaiModel().stream(ask("x"))));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
  });

  it("a dropped connection → retryable ProviderError", async () => {
    server.enqueueFault({ type: "drop" });
    const error = await rejectionOf(openaiModel().generate(ask("x")));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
  });

  it("a caller's abort while the server hangs → AbortError at once (generate and stream)", async () => {
    for (const run of [
      (m: AISDKModel, r: GenerateRequest) => m.generate(r),
      (m: AISDKModel, r: GenerateRequest) => collectAll(m.stream(r)),
    ]) {
      server.enqueueFault({ type: "hang" });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const started = performance.now();
      const error = await rejectionOf(run(openaiModel(), ask("x", { signal: controller.signal })));
      expect(AbortError.isInstance(error)).toBe(true);
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });

  it("an abort mid-stream stops the stream (the connection is released) and rejects with AbortError", async () => {
    const slow = await startOpenAIServer({
      apiKey: KEY,
      chunkDelayMs: 100,
      reply: () => ({ text: "one two three four five six seven eight" }),
    });
    try {
      const m = new AISDKModel({
        name: "slow",
        model: createOpenAI({ apiKey: KEY, baseURL: slow.baseURL }).chat("gpt-4o-mini"),
      });
      made.push(m);
      const controller = new AbortController();
      const seen: string[] = [];
      const error = await rejectionOf(
        (async () => {
          for await (const chunk of m.stream(ask("x", { signal: controller.signal }))) {
            if (chunk.type === "text") {
              seen.push(chunk.text);
              if (seen.length === 2) controller.abort();
            }
          }
        })(),
      );
      expect(AbortError.isInstance(error)).toBe(true);
      expect(seen.length).toBe(2);
      expect((await m.generate(ask("again"))).text).toBe("one two three four five six seven eight");
    } finally {
      await slow.close();
    }
  });

  it("a server that hangs → TimeoutError at the model's deadline", async () => {
    server.enqueueFault({ type: "hang" });
    const started = performance.now();
    const error = await rejectionOf(openaiModel({ timeoutMs: 200 }).generate(ask("x")));
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(200);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("leaving a stream early cancels it; the model serves the next call", async () => {
    server.setReply(() => ({ text: "one two three four five six" }));
    const m = openaiModel();
    for await (const chunk of m.stream(ask("x"))) if (chunk.type === "text") break;
    expect((await m.generate(ask("x"))).text).toBe("one two three four five six");
  });
});
