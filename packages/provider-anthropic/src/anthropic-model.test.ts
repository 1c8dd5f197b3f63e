import { inspect } from "node:util";
import {
  AuthenticationError,
  type GenerateRequest,
  ProviderError,
  Secret,
  type StreamChunk,
  isProviderPlugin,
} from "@orchestrator-ts/core";
import {
  type AnthropicServer,
  collectAll,
  freePort,
  rejectionOf,
  startAnthropicServer,
} from "@orchestrator-ts/testing";
import { describeModelConformance, describeProviderFaults } from "@orchestrator-ts/testing/conformance";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  provider as namedPlugin,
  ANTHROPIC_MODELS,
  ANTHROPIC_PRICES_AS_OF,
  AnthropicModel,
  anthropicProvider,
  createAnthropic,
  lookupAnthropicModel,
  mapStopReason,
} from "./index";

const KEY = "sk-ant-loopback-secret-0123456789";
let server: AnthropicServer;

beforeAll(async () => {
  server = await startAnthropicServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.clearFaults();
  server.setReply(undefined);
  server.setDown(false);
  server.requests.length = 0;
});

const models: AnthropicModel[] = [];
function model(options: Partial<ConstructorParameters<typeof AnthropicModel>[0]> = {}): AnthropicModel {
  const m = new AnthropicModel({ name: "claude-sonnet-4-6", apiKey: KEY, baseURL: server.baseURL, ...options });
  models.push(m);
  return m;
}
afterAll(async () => {
  await Promise.all(models.map((m) => m.cleanup()));
});

const ask = (text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra,
});

function lastBody(): Record<string, unknown> {
  return server.requests.filter((r) => r.path === "/v1/messages").at(-1)?.body as Record<string, unknown>;
}

describeModelConformance("AnthropicModel", () => model(), {
  secret: KEY,
  injectFailure: () => server.enqueueFault({ type: "status", status: 500 }),
  injectLatency: (_m, ms) => server.enqueueFault({ type: "latency", ms }),
  timeoutMs: 10_000,
});

describe("AnthropicModel: the seed and the key", () => {
  it("maps the seed's claude-3-opus to a dated API id, 200k context and list prices", async () => {
    const seed = model({ name: "claude-3-opus" });
    expect(seed.modelId).toBe("claude-3-opus-20240229");
    expect(seed.capabilities.maxTokens).toBe(200_000);
    expect(seed.capabilities.maxOutputTokens).toBe(4_096);
    expect(seed.capabilities.inputCostPerToken).toBeCloseTo(15e-6, 12);
    expect(seed.capabilities.outputCostPerToken).toBeCloseTo(75e-6, 12);
    expect(seed.pricing).toMatchObject({ source: "table", asOf: ANTHROPIC_PRICES_AS_OF });
    await seed.generateResponse("hi");
    expect(lastBody()["model"]).toBe("claude-3-opus-20240229");
    expect(server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it.each(["constructor", "__proto__"])(
    "a model named %s is priced as an unknown Claude id, not a broken table entry",
    (name) => {
      expect(lookupAnthropicModel(name).source).toBe("unknown-estimate");
      expect(model({ name }).capabilities.inputCostPerToken).toBeGreaterThan(0);
    },
  );

  it("never prices an unknown Claude id as free: it takes its family's price and says so", () => {
    const future = lookupAnthropicModel("claude-opus-9-1");
    expect(future.source).toBe("family-estimate");
    expect(future.info.inputPerMTok).toBeGreaterThan(0);
    expect(lookupAnthropicModel("something-else").info.outputPerMTok).toBe(
      ANTHROPIC_MODELS["claude-3-opus"]?.outputPerMTok,
    );
    expect(lookupAnthropicModel("claude-sonnet-4.5").info.id).toBe("claude-sonnet-4-5-20250929");
    expect(model({ name: "x", model: "claude-opus-9-1" }).capabilities.inputCostPerToken).toBeGreaterThan(0);
  });

  it("lets pricing and declared capabilities win over the table", () => {
    const priced = model({ name: "claude-3-haiku", pricing: { inputPerMTok: 1, outputPerMTok: 2 } });
    expect(priced.capabilities.inputCostPerToken).toBeCloseTo(1e-6, 12);
    expect(priced.pricing.source).toBe("override");
    const declared = model({ name: "claude-3-haiku", capabilities: { maxTokens: 50_000, outputCostPerToken: 0.001 } });
    expect(declared.capabilities.contextWindow).toBe(50_000);
    expect(declared.capabilities.outputCostPerToken).toBe(0.001);
    expect(declared.capabilities.inputCostPerToken).toBeCloseTo(0.25e-6, 12);
    expect(declared.capabilities.functionCalling).toBe(true);
  });

  it("reads ANTHROPIC_API_KEY lazily and fails at first call with a clear AuthenticationError", async () => {
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      const m = model({ apiKey: undefined });
      const error = await rejectionOf(m.generate(ask("x")));
      expect(AuthenticationError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain("ANTHROPIC_API_KEY");
      process.env.ANTHROPIC_API_KEY = KEY;
      expect((await m.generate(ask("now"))).text).toBe("Echo: now");
      expect(inspect(m, { depth: 10, showHidden: true })).not.toContain(KEY);
    } finally {
      if (saved === undefined) delete process.env.ANTHROPIC_API_KEY;
      else process.env.ANTHROPIC_API_KEY = saved;
    }
  });
});

describe("AnthropicModel: request mapping (what the server recorded)", () => {
  it("joins system messages into `system` and keeps user/assistant turns", async () => {
    await model().generate({
      messages: [
        { role: "system", content: "Be terse." },
        { role: "system", content: "Answer in French." },
        { role: "user", content: "hello" },
        { role: "assistant", content: "bonjour" },
        { role: "user", content: "again" },
      ],
      stop: ["END"],
      maxTokens: 64,
    });
    const body = lastBody();
    expect(body["system"]).toBe("Be terse.\n\nAnswer in French.");
    expect(body["messages"]).toEqual([
      { role: "user", content: [{ type: "text", text: "hello" }] },
      { role: "assistant", content: [{ type: "text", text: "bonjour" }] },
      { role: "user", content: [{ type: "text", text: "again" }] },
    ]);
    expect(body["stop_sequences"]).toEqual(["END"]);
    expect(body["max_tokens"]).toBe(64);
  });

  it("sends the default max_tokens (Anthropic requires one), capped by the model's max output", async () => {
    await model().generate(ask("x"));
    expect(lastBody()["max_tokens"]).toBe(1024);
    expect(model({ name: "claude-3-haiku", defaultMaxTokens: 100_000 }).defaultMaxTokens).toBe(4096);
  });

  it("maps images to base64 and url sources", async () => {
    await model().generate({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "compare" },
            { type: "image", data: "iVBORw0KGgo=", mediaType: "image/png" },
            { type: "image", url: "data:image/jpeg;base64,/9j/4AAQ" },
            { type: "image", url: "https://example.com/cat.webp" },
          ],
        },
      ],
    });
    const content = (lastBody()["messages"] as { content: unknown[] }[])[0]?.content;
    expect(content).toEqual([
      { type: "text", text: "compare" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.webp" } },
    ]);
  });

  it("round-trips tools: zod schema → input_schema, tool_use → toolCalls, results → tool_result in a user turn", async () => {
    server.setReply(() => ({
      text: "Checking.",
      toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Paris" } }],
    }));
    const m = model();
    const tools = [{ name: "get_weather", description: "Weather by city", parameters: z.object({ city: z.string() }) }];
    const first = await m.generate({ ...ask("weather in Paris?"), tools, toolChoice: "required" });
    expect(first.text).toBe("Checking.");
    expect(first.toolCalls).toEqual([{ id: "toolu_1", name: "get_weather", arguments: { city: "Paris" } }]);
    expect(first.finishReason).toEqual({ unified: "tool-calls", raw: "tool_use" });
    const sent = lastBody();
    expect(sent["tools"]).toEqual([
      {
        name: "get_weather",
        description: "Weather by city",
        input_schema: expect.objectContaining({
          type: "object",
          properties: { city: { type: "string" } },
          required: ["city"],
        }),
      },
    ]);
    expect(sent["tool_choice"]).toEqual({ type: "any" });

    server.setReply(() => ({ text: "Sunny." }));
    const second = await m.generate({
      messages: [
        { role: "user", content: "weather in Paris?" },
        { role: "assistant", content: first.text, toolCalls: first.toolCalls },
        { role: "tool", toolCallId: "toolu_1", content: '{"temp":21}' },
        { role: "user", content: "thanks" },
      ],
      tools,
      toolChoice: { name: "get_weather" },
    });
    expect(second.text).toBe("Sunny.");
    const body = lastBody();
    expect(body["messages"]).toEqual([
      { role: "user", content: [{ type: "text", text: "weather in Paris?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: '{"temp":21}' },
          { type: "text", text: "thanks" },
        ],
      },
    ]);
    expect(body["tool_choice"]).toEqual({ type: "tool", name: "get_weather" });
  });

  it("streams tool calls natively: input_json_delta assembled into one tool-call chunk per block", async () => {
    server.setReply(() => ({
      text: "Let me look that up.",
      toolCalls: [{ name: "get_weather", arguments: { city: "Paris", unit: "C" } }],
    }));
    const chunks = await collectAll(
      model().stream({ ...ask("weather?"), tools: [{ name: "get_weather", parameters: { type: "object" } }] }),
    );
    const texts = chunks.filter((c) => c.type === "text");
    expect(texts.length).toBeGreaterThan(1);
    expect(chunks.filter((c) => c.type === "tool-call")).toEqual([
      {
        type: "tool-call",
        toolCall: {
          id: expect.stringMatching(/^toolu_/),
          name: "get_weather",
          arguments: { city: "Paris", unit: "C" },
        },
      },
    ]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: { unified: "tool-calls", raw: "tool_use" } });
  });

  it("gives structured output through a forced tool and returns its input as the JSON text", async () => {
    const schema = z.object({ name: z.string(), age: z.number() });
    server.setReply((req) => ({
      toolCalls: [{ name: req.tools.at(-1)?.name ?? "?", arguments: { name: "Ada", age: 36 } }],
    }));
    const m = model();
    const result = await m.generate({ ...ask("who?"), responseFormat: { type: "json", schema, name: "person" } });
    expect(JSON.parse(result.text)).toEqual({ name: "Ada", age: 36 });
    expect(result.toolCalls).toEqual([]);
    expect(result.finishReason).toEqual({ unified: "stop", raw: "tool_use" });
    const body = lastBody();
    expect(body["tool_choice"]).toEqual({ type: "tool", name: "person" });
    expect(body["tools"]).toEqual([
      expect.objectContaining({
        name: "person",
        input_schema: expect.objectContaining({ type: "object", required: ["name", "age"] }),
      }),
    ]);

    const chunks = await collectAll(
      m.stream({ ...ask("who?"), responseFormat: { type: "json", schema, name: "person" } }),
    );
    const text = chunks.map((c) => (c.type === "text" ? c.text : "")).join("");
    expect(JSON.parse(text)).toEqual({ name: "Ada", age: 36 });
    expect(chunks.filter((c) => c.type === "text").length).toBeGreaterThan(1);
    expect(chunks.some((c) => c.type === "tool-call")).toBe(false);
  });

  it("structured output beside the caller's tools: the model may call them (tool_choice any), and a call of one is tool-calls", async () => {
    // An agent with tools and an output type: before, the answer tool was forced, so the caller's
    // tools could never be called; and a call of one (thinking on: auto) finished as "stop".
    const schema = z.object({ city: z.string() });
    const tools = [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];
    server.setReply(() => ({ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] }));
    const m = model();
    const request = { ...ask("weather?"), tools, responseFormat: { type: "json" as const, schema, name: "report" } };
    const result = await m.generate(request);
    expect(lastBody()["tool_choice"]).toEqual({ type: "any" });
    expect((lastBody()["tools"] as { name: string }[]).map((t) => t.name)).toEqual(["get_weather", "report"]);
    expect(result.toolCalls).toMatchObject([{ name: "get_weather", arguments: { city: "Oslo" } }]);
    expect(result.finishReason).toEqual({ unified: "tool-calls", raw: "tool_use" });
    expect(result.warnings).toEqual([]);
    const chunks = await collectAll(m.stream(request));
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: { unified: "tool-calls", raw: "tool_use" } });
    // Then the answer tool: the answer as text, finishing as "stop".
    server.setReply(() => ({ toolCalls: [{ name: "report", arguments: { city: "Oslo" } }] }));
    const answer = await m.generate(request);
    expect(JSON.parse(answer.text)).toEqual({ city: "Oslo" });
    expect(answer.finishReason).toEqual({ unified: "stop", raw: "tool_use" });
    // A named tool stays forced; tools turned off leave the answer's tool forced.
    await m.generate({ ...request, toolChoice: { name: "get_weather" } });
    expect(lastBody()["tool_choice"]).toEqual({ type: "tool", name: "get_weather" });
    await m.generate({ ...request, toolChoice: "none" });
    expect(lastBody()["tool_choice"]).toEqual({ type: "tool", name: "report" });
  });

  it("tool call ids another model wrote (Kimi's functions.get_weather:0) reach Claude as ids it accepts, call and result alike", async () => {
    // A conversation begun on another model and continued on Claude (a fallback, a route): the API
    // refuses an id outside ^[a-zA-Z0-9_-]+$ with a 400, as the loopback server now does.
    const result = await model().generate({
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "functions.get_weather:0", name: "get_weather", arguments: {} }],
        },
        { role: "tool", toolCallId: "functions.get_weather:0", content: "sunny" },
      ],
      tools: [{ name: "get_weather", parameters: { type: "object" } }],
    });
    expect(result.text).not.toBe("");
    const sent = lastBody()["messages"] as { content: { type: string; id?: string; tool_use_id?: string }[] }[];
    const id = sent[1]?.content.find((b) => b.type === "tool_use")?.id;
    expect(id).toMatch(/^functions_get_weather_0_[a-z0-9]+$/);
    expect(sent[2]?.content[0]?.tool_use_id).toBe(id);
  });

  it("wraps a non-object schema and unwraps the answer", async () => {
    server.setReply(() => ({ toolCalls: [{ name: "json_response", arguments: { value: [1, 2, 3] } }] }));
    const result = await model().generate({
      ...ask("list"),
      responseFormat: { type: "json", schema: z.array(z.number()) },
    });
    expect(result.text).toBe("[1,2,3]");
    const tool = (lastBody()["tools"] as { input_schema: Record<string, unknown> }[])[0];
    expect(tool?.input_schema).toMatchObject({ type: "object", required: ["value"] });
  });

  it("says which settings it did not send", async () => {
    const result = await model().generate(ask("x", { temperature: 0.2, seed: 3 }));
    expect(result.warnings.join(" ")).toMatch(/temperature/);
    expect(result.warnings.join(" ")).toMatch(/seed/);
    expect(lastBody()).not.toHaveProperty("temperature");
    await model().generate(
      ask("x", { providerOptions: { anthropic: { temperature: 0.2, metadata: { user_id: "u1" } } } }),
    );
    expect(lastBody()).toMatchObject({ temperature: 0.2, metadata: { user_id: "u1" } });
  });
});

describe("AnthropicModel: usage, cost and stop reasons", () => {
  it("computes cost from the price table", async () => {
    server.setReply(() => ({ text: "ok", usage: { inputTokens: 1000, outputTokens: 500 } }));
    const m = model({ name: "claude-3-opus" });
    const result = await m.generate(ask("x"));
    expect(result.usage).toEqual({ inputTokens: 1000, outputTokens: 500 });
    expect(result.costUsd).toBeCloseTo(1000 * 15e-6 + 500 * 75e-6, 12);
    expect(m.metrics.snapshot().totalCost).toBeCloseTo(0.0525, 12);
    const streamed = await collectAll(m.stream(ask("x")));
    expect(streamed.at(-1)).toMatchObject({ type: "finish", usage: { inputTokens: 1000, outputTokens: 500 } });
  });

  it("prompt-cache reads are part of inputTokens and reported as cacheReadInputTokens, plain and streamed", async () => {
    server.setReply(() => ({ text: "ok", usage: { inputTokens: 1200, outputTokens: 2, cacheReadInputTokens: 1024 } }));
    const m = model();
    expect((await m.generate(ask("x"))).usage).toEqual({
      inputTokens: 1200,
      outputTokens: 2,
      cacheReadInputTokens: 1024,
    });
    const streamed = await collectAll(m.stream(ask("x")));
    expect(streamed.at(-1)).toMatchObject({
      type: "finish",
      usage: { inputTokens: 1200, outputTokens: 2, cacheReadInputTokens: 1024 },
    });
  });

  it("the message id (msg_…) comes back as responseId, from a plain call and from a stream", async () => {
    server.setReply(() => ({ text: "ok" }));
    const m = model();
    const result = await m.generate(ask("x"));
    expect(result.responseId).toMatch(/^msg_/);
    const finish = (await collectAll(m.stream(ask("x")))).at(-1);
    expect(finish?.type === "finish" ? finish.responseId : undefined).toMatch(/^msg_/);
    expect(finish?.type === "finish" ? finish.responseId : undefined).not.toBe(result.responseId);
  });

  it("leaves usage undefined (not 0) when the API omits it, and cost unknown", async () => {
    server.setReply(() => ({ text: "a b", usage: null }));
    const m = model();
    const result = await m.generate(ask("x"));
    expect(result.usage.inputTokens).toBeUndefined();
    expect(result.usage.outputTokens).toBeUndefined();
    expect(result.costUsd).toBeUndefined();
    const finish = (await collectAll(m.stream(ask("x")))).at(-1);
    expect(finish).toMatchObject({ type: "finish", usage: {} });
    expect(finish?.type === "finish" && finish.costUsd).toBeUndefined();
  });

  it("maps stop reasons to { unified, raw }", async () => {
    const cases: [string, string][] = [
      ["end_turn", "stop"],
      ["stop_sequence", "stop"],
      ["max_tokens", "length"],
      ["tool_use", "tool-calls"],
      ["refusal", "content-filter"],
      ["pause_turn", "other"],
      ["something_new", "other"],
    ];
    for (const [raw, unified] of cases) expect(mapStopReason(raw)).toEqual({ unified, raw });
    server.setReply(() => ({ text: "x", finishReason: "refusal" }));
    expect((await model().generate(ask("x"))).finishReason).toEqual({ unified: "content-filter", raw: "refusal" });
    server.setReply(undefined);
    expect((await model().generate(ask("a b c d e", { maxTokens: 2 }))).finishReason).toEqual({
      unified: "length",
      raw: "max_tokens",
    });
  });
});

describe("AnthropicModel: errors mapped to the core family", () => {
  it("401 and 403 → AuthenticationError (not retryable)", async () => {
    const wrong = model({ apiKey: "sk-ant-wrong-key-000000000" });
    const e401 = await rejectionOf(wrong.generate(ask("x")));
    expect(AuthenticationError.isInstance(e401)).toBe(true);
    expect((e401 as AuthenticationError).retryable).toBe(false);
    expect(JSON.stringify(e401) + inspect(e401)).not.toContain("sk-ant-wrong-key-000000000");
    server.enqueueFault({ type: "status", status: 403 });
    const e403 = await rejectionOf(model().generate(ask("x")));
    expect(AuthenticationError.isInstance(e403)).toBe(true);
    expect((e403 as AuthenticationError).status).toBe(403);
  });

  it("a fractional or infinite timeoutMs works for generate and stream (the SDK takes whole milliseconds)", async () => {
    for (const timeoutMs of [1_500.5, Number.POSITIVE_INFINITY]) {
      const m = model({ timeoutMs });
      expect((await m.generate(ask("a"))).text).toContain("a");
      const chunks: StreamChunk[] = [];
      for await (const chunk of m.stream(ask("b", { timeoutMs }))) chunks.push(chunk);
      expect(chunks.at(-1)?.type).toBe("finish");
    }
  });

  it("a request's infinite timeoutMs wins over the model's finite one", async () => {
    const m = model({ timeoutMs: 200 });
    server.enqueueFault({ type: "latency", ms: 400 });
    expect((await m.generate(ask("slow", { timeoutMs: Number.POSITIVE_INFINITY }))).text).toContain("slow");
  });
});

describe("AnthropicModel: health, plugin", () => {
  it("health uses GET /v1/models (no billed call) and fails on a bad key or a down server", async () => {
    const m = model();
    expect(await m.healthCheck()).toBe(true);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /v1/models"]);
    expect(await model({ apiKey: "sk-ant-wrong-key-111111111" }).healthCheck()).toBe(false);
    server.setDown(true);
    expect(await m.healthCheck()).toBe(false);
  });

  it("is a provider plugin for YAML: validated config, secret key named, the `provider` export", async () => {
    expect(isProviderPlugin(anthropicProvider)).toBe(true);
    expect(namedPlugin).toBe(anthropicProvider);
    expect(anthropicProvider.secretKeys).toContain("apiKey");
    expect(anthropicProvider.envKeys).toEqual(["ANTHROPIC_API_KEY"]);
    expect(anthropicProvider.configSchema.safeParse({ apiKey: KEY, unknown: 1 }).success).toBe(false);
    const config = anthropicProvider.configSchema.parse({
      apiKey: KEY,
      baseUrl: server.baseURL,
      model: "claude-sonnet-4-6",
      defaultMaxTokens: 256,
    });
    expect(config.baseURL).toBe(server.baseURL);
    const { ModelCapabilities, ModelConstraints } = await import("@orchestrator-ts/core");
    const created = await anthropicProvider.create({
      name: "claude",
      config,
      capabilities: new ModelCapabilities({}),
      constraints: new ModelConstraints({}),
      capabilitiesDeclared: false,
    });
    expect(created).toBeInstanceOf(AnthropicModel);
    models.push(created as AnthropicModel);
    await created.generate(ask("x"));
    expect(lastBody()).toMatchObject({ model: "claude-sonnet-4-6", max_tokens: 256 });
    const viaFactory = createAnthropic({ apiKey: KEY, baseURL: server.baseURL })("claude-3-5-haiku");
    models.push(viaFactory);
    expect(viaFactory.modelId).toBe("claude-3-5-haiku-20241022");
  });

  it("headers may hold Secrets (a proxy's key from YAML): the server receives them, inspect never shows them", async () => {
    const proxyKey = "proxy-key-0123456789abcdef";
    const config = anthropicProvider.configSchema.parse({
      apiKey: KEY,
      baseUrl: server.baseURL,
      headers: { "x-proxy-key": new Secret(proxyKey), "anthropic-beta": "tools-2024" },
    });
    const created = new AnthropicModel({ name: "claude-sonnet-4-6", ...config });
    models.push(created);
    await created.generate(ask("x"));
    expect(server.requests.at(-1)?.headers["x-proxy-key"]).toBe(proxyKey);
    expect(server.requests.at(-1)?.headers["anthropic-beta"]).toBe("tools-2024");
    expect(inspect(created, { depth: 20, showHidden: true })).not.toContain(proxyKey);
  });
});

describe("AnthropicModel: live API (opt-in)", () => {
  it.skipIf(!process.env.ANTHROPIC_API_KEY)(
    "live: generates and streams (skipped: ANTHROPIC_API_KEY not set)",
    { timeout: 60_000 },
    async () => {
      const live = new AnthropicModel({ name: "claude-haiku-4-5" });
      models.push(live);
      const result = await live.generate(ask("Reply with the single word: pong", { maxTokens: 16 }));
      expect(result.text.toLowerCase()).toContain("pong");
      expect(result.usage.inputTokens).toBeGreaterThan(0);
      expect(result.costUsd).toBeGreaterThan(0);
      const chunks = await collectAll(live.stream(ask("Count from 1 to 5.", { maxTokens: 64 })));
      expect(chunks.at(-1)?.type).toBe("finish");
      expect(await live.healthCheck()).toBe(true);
    },
  );
});

describe("a streamed event's size is bounded", () => {
  const textOf = async (stream: AsyncIterable<{ type: string; text?: string }>) => {
    let text = "";
    for await (const chunk of stream) if (chunk.type === "text") text += chunk.text;
    return text;
  };

  it("an event larger than maxEventBytes (default 4 MiB) fails the stream with a non-retryable ProviderError", async () => {
    // One 6 MB word: one content_block_delta event. The SDK's own parser buffered it without bound, rescanning it on every read.
    server.setReply(() => ({ text: "x".repeat(6 * 1024 * 1024) }));
    const error = await rejectionOf(textOf(model().stream(ask("big"))));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).message).toMatch("sent an event larger than 4194304 bytes");
    expect((error as ProviderError).retryable).toBe(false);
    expect((error as ProviderError).model).toBe("claude-sonnet-4-6");
  });

  it("maxEventBytes raises the bound: a 6 MB event arrives whole", async () => {
    server.setReply(() => ({ text: "y".repeat(6 * 1024 * 1024) }));
    const text = await textOf(model({ maxEventBytes: 8 * 1024 * 1024 }).stream(ask("big")));
    expect(text.length).toBe(6 * 1024 * 1024);
  });
});

describe("AnthropicModel: an unreachable API", () => {
  it("→ retryable ProviderError naming the address and the cause, never userinfo or key", async () => {
    const port = await freePort();
    const error = await rejectionOf(
      model({ baseURL: `http://127.0.0.1:${port}?key=key-in-query-123` }).generate(ask("x")),
    );
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
    expect((error as Error).message).toBe(
      `Could not reach the Anthropic API at http://127.0.0.1:${port}: Connection error. (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
    const withUser = await rejectionOf(
      model({ baseURL: `http://someone:pw-in-url-123@127.0.0.1:${port}` }).generate(ask("x")),
    );
    expect((withUser as Error).message).toMatch(
      new RegExp(`^Could not reach the Anthropic API at http://127\\.0\\.0\\.1:${port}: `),
    );
    for (const e of [error, withUser])
      expect(`${(e as Error).message} ${inspect(e)} ${JSON.stringify(e)}`).not.toMatch(
        /key-in-query-123|someone|pw-in-url-123/,
      );
  });
});

describeProviderFaults("AnthropicModel", {
  startServer: (options) => startAnthropicServer({ apiKey: KEY, ...options }),
  model: (s, options) => model({ baseURL: s.baseURL, ...options }),
  // 529 is Anthropic's "overloaded".
  serverErrorStatuses: [500, 502, 503, 529],
});
