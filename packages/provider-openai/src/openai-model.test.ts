import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import {
  AbortError,
  AuthenticationError,
  ModelCapabilities,
  ProviderError,
  RateLimitError,
  Secret,
  TimeoutError,
} from "@orchestrator-ts/core";
import { toJsonSchema } from "@orchestrator-ts/core/internal";
import {
  collectAll,
  freePort,
  type OpenAIServer,
  rejectionOf,
  startHuggingFaceServer,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import { describeModelConformance, describeProviderFaults } from "@orchestrator-ts/testing/conformance";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { OpenAIModel, type OpenAIModelOptions } from "./openai-model";

const KEY = "sk-test-openai-0123456789abcdef";
let server: OpenAIServer;

beforeAll(async () => {
  server = await startOpenAIServer({
    apiKey: KEY,
    models: ["gpt-4o-mini", "gpt-4o", "gpt-4", "o3-mini", "my-local-model"],
  });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.clearFaults();
  server.setReply(undefined);
  server.requests.length = 0;
  server.resetStats();
});

const made: OpenAIModel[] = [];
afterAll(async () => {
  await Promise.all(made.map((m) => m.cleanup()));
});

function model(options: Partial<OpenAIModelOptions> = {}): OpenAIModel {
  const m = new OpenAIModel({ name: "gpt-4o-mini", apiKey: KEY, baseURL: server.baseURL, ...options });
  made.push(m);
  return m;
}

const ask = (content: string) => ({ messages: [{ role: "user" as const, content }] });

/** A server that answers `status` with the start of `body` and then stalls; `use` gets its base URL. */
async function withStalledBody(status: number, body: string, use: (baseURL: string) => Promise<void>): Promise<void> {
  const stalled = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(status, { "content-type": "application/json" });
      res.write(body);
    });
  });
  await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
  try {
    await use(`http://127.0.0.1:${(stalled.address() as AddressInfo).port}/v1`);
  } finally {
    stalled.closeAllConnections();
    await new Promise((resolve) => stalled.close(resolve));
  }
}

function lastBody(): Record<string, unknown> {
  const body = server.requests.at(-1)?.body;
  if (typeof body !== "object" || body === null) throw new Error("no recorded body");
  return body as Record<string, unknown>;
}

describeModelConformance("OpenAIModel", () => model(), {
  secret: KEY,
  injectFailure: () => server.enqueueFault({ type: "status", status: 500 }),
  injectLatency: (_m, ms) => server.enqueueFault({ type: "latency", ms }),
});

describe("OpenAIModel: the seed's constructor", () => {
  it("takes name, apiKey and organization and sends the organization header", async () => {
    const m = model({ name: "gpt-4", organization: "org-seed" });
    expect(m.modelId).toBe("gpt-4");
    expect(m.provider).toBe("openai");
    expect(await m.generateResponse("hi")).toBe("Echo: hi");
    expect(server.requests.at(-1)?.headers["openai-organization"]).toBe("org-seed");
    expect(lastBody().model).toBe("gpt-4");
  });

  it("sends `model` as the API id when it differs from the registry name", async () => {
    const m = model({ name: "fast", model: "gpt-4o" });
    const result = await m.generate(ask("x"));
    expect(lastBody().model).toBe("gpt-4o");
    expect(result.model).toBe("fast");
  });
});

describe("OpenAIModel: API key", () => {
  const saved = { key: process.env.OPENAI_API_KEY, base: process.env.OPENAI_BASE_URL };
  afterEach(() => {
    for (const [name, value] of [
      ["OPENAI_API_KEY", saved.key],
      ["OPENAI_BASE_URL", saved.base],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("constructs without a key and fails at first call with an AuthenticationError naming OPENAI_API_KEY", async () => {
    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_BASE_URL;
    const m = new OpenAIModel({ name: "gpt-4o" });
    const error = await rejectionOf(m.generate(ask("x")));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("OPENAI_API_KEY");
    expect(await m.healthCheck()).toBe(false);
  });

  it("reads OPENAI_API_KEY and OPENAI_BASE_URL lazily", async () => {
    delete process.env.OPENAI_API_KEY;
    process.env.OPENAI_BASE_URL = server.baseURL;
    const m = new OpenAIModel({ name: "gpt-4o-mini" });
    made.push(m);
    process.env.OPENAI_API_KEY = KEY;
    expect(await m.generateResponse("late key")).toBe("Echo: late key");
    expect(server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("never shows the key: inspect, JSON, and a 401 whose message quotes it", async () => {
    const m = model();
    await m.generate(ask("x"));
    server.enqueueFault({ type: "status", status: 401, message: `Incorrect API key provided: ${KEY}.` });
    const error = await rejectionOf(m.generate(ask("x")));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).retryable).toBe(false);
    const views = [
      inspect(m, { depth: 20, showHidden: true }),
      JSON.stringify(m),
      inspect(error, { depth: 20 }),
      JSON.stringify(error),
      String((error as Error).stack),
    ];
    for (const view of views) expect(view).not.toContain(KEY);
    expect((error as Error).message).toContain("[REDACTED]");
  });
});

describe("OpenAIModel: secrets the library never registered", () => {
  it("a server that echoes a defaultHeaders key, sig= and code= parameters and a bearer token leaks none of them", async () => {
    const gatewayKey = "gw-live-7f3a9c2e51";
    const m = model({
      name: "gpt-4o-mini",
      defaultHeaders: { "x-gateway-key": gatewayKey, "x-request-tag": "tag-visible-42" },
    });
    await m.generate(ask("x"));
    expect(server.requests.at(-1)?.headers["x-gateway-key"]).toBe(gatewayKey);
    const echoed = [
      `header x-gateway-key=${gatewayKey} (tag tag-visible-42) is not valid`,
      "for https://files.example/a.png?sv=1&sig=AbC123xyzSIG&se=2",
      "and https://app.example/cb?state=s&code=oauthcode4242",
      "Authorization: Bearer unregistered0token99",
    ].join("; ");
    server.enqueueFault({ type: "status", status: 400, message: echoed });
    const error = await rejectionOf(m.generate(ask("x")));
    const views = [
      String((error as Error).message),
      inspect(error, { depth: 20 }),
      JSON.stringify(error),
      String((error as Error).stack),
      JSON.stringify(m.metrics.snapshot()),
      JSON.stringify(m.metrics.lastError),
    ];
    for (const view of views) {
      for (const secret of [gatewayKey, "AbC123xyzSIG", "oauthcode4242", "unregistered0token99"])
        expect(view).not.toContain(secret);
    }
    // What is not a credential stays readable.
    expect((error as Error).message).toContain("tag-visible-42");
    expect(m.metrics.lastError?.message).toContain("sig=[REDACTED]");
  });

  it("a password in baseURL never shows: not in {...model}, inspect, JSON or errors", async () => {
    const m = model({ name: "behind-proxy", baseURL: `${server.baseURL.replace("://", "://proxyuser:pr0xy-pa55@")}` });
    expect(m.baseURL).toContain("proxyuser:[REDACTED]@");
    const views = [
      JSON.stringify({ ...m }),
      inspect({ ...m }),
      inspect(m, { depth: 20, showHidden: true }),
      JSON.stringify(m),
    ];
    // fetch refuses credentials in a URL: the call fails, and its error must not quote them either.
    const error = await rejectionOf(m.generate(ask("x")));
    views.push(String((error as Error).message), inspect(error, { depth: 20 }), JSON.stringify(m.metrics.lastError));
    for (const view of views) expect(view).not.toContain("pr0xy-pa55");
  });
});

describe("OpenAIModel: secret headers (Azure-style keys)", () => {
  it("defaultHeaders may hold Secrets: the server receives them, inspect and JSON never show them", async () => {
    const azureKey = "azure-key-0123456789abcdef";
    const m = model({ defaultHeaders: { "api-key": new Secret(azureKey), "x-team": "search" } });
    expect(await m.generateResponse("with headers")).toBe("Echo: with headers");
    const headers = server.requests.at(-1)?.headers;
    expect(headers?.["api-key"]).toBe(azureKey);
    expect(headers?.["x-team"]).toBe("search");
    for (const view of [inspect(m, { depth: 20, showHidden: true }), JSON.stringify(m)])
      expect(view).not.toContain(azureKey);
  });
});

describe("OpenAIModel: error mapping", () => {
  it("429 → RateLimitError with retryAfterMs from retry-after-ms", async () => {
    server.enqueueFault({ type: "status", status: 429, retryAfterMs: 250 });
    const error = await rejectionOf(model().generate(ask("x")));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBe(250);
    expect((error as RateLimitError).retryable).toBe(true);
  });

  it("429 → RateLimitError with retryAfterMs from retry-after seconds (an OpenAI-compatible server without retry-after-ms)", async () => {
    const compatible = await startHuggingFaceServer({ errorStyle: "openai" });
    try {
      compatible.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 7 });
      const m = model({ name: "served", baseURL: `${compatible.url}/v1` });
      const error = await rejectionOf(m.generate(ask("x")));
      expect(RateLimitError.isInstance(error)).toBe(true);
      expect((error as RateLimitError).retryAfterMs).toBe(7_000);
      expect(compatible.requests[0]?.headers["retry-after-ms"]).toBeUndefined();
    } finally {
      await compatible.close();
    }
  });

  it("a streamed event larger than maxEventBytes → non-retryable ProviderError naming the model (never buffered without bound)", async () => {
    server.setReply(() => ({ text: "x".repeat(5 * 1024 * 1024) }));
    const error = await rejectionOf(collectAll(model().stream(ask("big"))));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).message).toMatch("sent an event larger than 4194304 bytes");
    expect((error as ProviderError).retryable).toBe(false);
    expect((error as ProviderError).model).toBe("gpt-4o-mini");
    // The option raises the bound: the same answer streams whole.
    const chunks = await collectAll(model({ maxEventBytes: 8 * 1024 * 1024 }).stream(ask("big")));
    expect(
      chunks.filter((c) => c.type === "text").reduce((n, c) => n + (c.type === "text" ? c.text.length : 0), 0),
    ).toBe(5 * 1024 * 1024);
  });

  it("an unreachable server → retryable ProviderError naming the address and the cause, never userinfo or key", async () => {
    const port = await freePort();
    const error = await rejectionOf(
      model({ baseURL: `http://127.0.0.1:${port}/v1?api-key=key-in-query-123` }).generate(ask("x")),
    );
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
    expect((error as Error).message).toBe(
      `Connection to http://127.0.0.1:${port}/v1 failed: Connection error. (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
    const withUser = await rejectionOf(
      model({ baseURL: `http://someone:pw-in-url-123@127.0.0.1:${port}/v1` }).generate(ask("x")),
    );
    expect((withUser as Error).message).toMatch(
      new RegExp(`^Connection to http://127\\.0\\.0\\.1:${port}/v1 failed: `),
    );
    for (const e of [error, withUser])
      expect(`${(e as Error).message} ${inspect(e)} ${JSON.stringify(e)}`).not.toMatch(
        /key-in-query-123|someone|pw-in-url-123/,
      );
  });

  it("a per-request timeoutMs wins over the model's", async () => {
    server.enqueueFault({ type: "hang" });
    const error = await rejectionOf(model().generate({ ...ask("x"), timeoutMs: 150 }));
    expect(TimeoutError.isInstance(error)).toBe(true);
  });

  it("a caller's abort before the answer starts → AbortError at once", async () => {
    server.enqueueFault({ type: "hang" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const error = await rejectionOf(collectAll(model().stream({ ...ask("x"), signal: controller.signal })));
    expect(AbortError.isInstance(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("a completion whose body stalls after the headers → TimeoutError at the deadline", async () => {
    // Headers and half a JSON body, then nothing: only the deadline can end this call.
    await withStalledBody(
      200,
      '{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"par',
      async (baseURL) => {
        const m = model({ baseURL });
        const started = performance.now();
        const error = await rejectionOf(m.generate({ ...ask("x"), timeoutMs: 300 }));
        expect(TimeoutError.isInstance(error)).toBe(true);
        expect((error as TimeoutError).timeoutMs).toBe(300);
        expect(performance.now() - started).toBeGreaterThanOrEqual(295);
        expect(performance.now() - started).toBeLessThan(1_500);
      },
    );
  });

  it("a fractional or infinite timeoutMs works for generate and stream (the SDK takes whole milliseconds)", async () => {
    for (const timeoutMs of [1_500.5, Number.POSITIVE_INFINITY]) {
      const m = model({ timeoutMs });
      expect((await m.generate(ask("a"))).text).toContain("a");
      expect((await collectAll(m.stream({ ...ask("b"), timeoutMs }))).at(-1)?.type).toBe("finish");
    }
  });

  it("with SDK retries on, a deadline still ends the call: no retry is sent after it", async () => {
    const m = model({ timeoutMs: 300, maxRetries: 2 });
    for (const call of [() => m.generate(ask("x")), () => collectAll(m.stream(ask("x")))]) {
      server.requests.length = 0;
      server.enqueueFaults([{ type: "hang" }, { type: "hang" }, { type: "hang" }]);
      const started = performance.now();
      const error = await rejectionOf(call());
      expect(TimeoutError.isInstance(error)).toBe(true);
      expect(performance.now() - started).toBeLessThan(1_000);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(server.requests.length).toBe(1);
      server.clearFaults();
    }
  });

  it("an error response whose body stalls → TimeoutError at the deadline (generate and stream)", async () => {
    // A 500's headers, then half of its JSON error body, then nothing.
    await withStalledBody(500, '{"error":{"message":"overloa', async (baseURL) => {
      const m = model({ baseURL });
      for (const call of [
        () => m.generate({ ...ask("x"), timeoutMs: 300 }),
        () => collectAll(m.stream({ ...ask("x"), timeoutMs: 300 })),
      ]) {
        const started = performance.now();
        const error = await rejectionOf(call());
        expect(TimeoutError.isInstance(error)).toBe(true);
        expect(performance.now() - started).toBeLessThan(1_500);
      }
      expect(m.metrics.failures).toBe(2);
    });
  });

  it("a request's infinite timeoutMs wins over the model's finite one", async () => {
    const m = model({ timeoutMs: 200 });
    server.enqueueFault({ type: "latency", ms: 400 });
    expect((await m.generate({ ...ask("slow"), timeoutMs: Number.POSITIVE_INFINITY })).text).toContain("slow");
    server.enqueueFault({ type: "latency", ms: 400 });
    expect((await collectAll(m.stream({ ...ask("slow"), timeoutMs: Number.POSITIVE_INFINITY }))).at(-1)?.type).toBe(
      "finish",
    );
  });
});

describe("OpenAIModel: request and response mapping", () => {
  it("maps sampling settings, stop, seed and passes providerOptions.openai through", async () => {
    await model().generate({
      ...ask("x"),
      maxTokens: 20,
      temperature: 0.2,
      topP: 0.9,
      stop: ["END"],
      seed: 7,
      providerOptions: { openai: { user: "u-1", logit_bias: { "50256": -100 } }, other: { ignored: true } },
    });
    expect(lastBody()).toMatchObject({
      max_tokens: 20,
      temperature: 0.2,
      top_p: 0.9,
      stop: ["END"],
      seed: 7,
      user: "u-1",
      logit_bias: { "50256": -100 },
    });
    expect(lastBody()).not.toHaveProperty("ignored");
    expect(lastBody()).not.toHaveProperty("stream");
  });

  it("reasoning models get max_completion_tokens and drop sampling settings with a warning", async () => {
    const result = await model({ name: "o3-mini" }).generate({ ...ask("x"), maxTokens: 20, temperature: 0.2 });
    expect(lastBody()).toMatchObject({ max_completion_tokens: 20 });
    expect(lastBody()).not.toHaveProperty("max_tokens");
    expect(lastBody()).not.toHaveProperty("temperature");
    expect(result.warnings).toEqual([expect.stringContaining("temperature")]);
  });

  it("streams natively with include_usage and reports usage, cost and finish", async () => {
    server.setReply(() => ({ text: "alpha beta gamma delta", usage: { inputTokens: 1000, outputTokens: 500 } }));
    const chunks = await collectAll(model().stream(ask("x")));
    expect(lastBody()).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const texts = chunks.filter((c) => c.type === "text");
    expect(texts.length).toBeGreaterThan(1);
    const finish = chunks.at(-1);
    expect(finish).toMatchObject({
      type: "finish",
      finishReason: { unified: "stop", raw: "stop" },
      usage: { inputTokens: 1000, outputTokens: 500 },
    });
    expect(finish?.type === "finish" ? finish.costUsd : undefined).toBeCloseTo(1000 * 0.15e-6 + 500 * 0.6e-6, 12);
  });

  it("computes cost from the dated price table", async () => {
    server.setReply(() => ({ text: "ok", usage: { inputTokens: 1000, outputTokens: 500 } }));
    const result = await model({ name: "gpt-4o" }).generate(ask("x"));
    expect(result.usage).toEqual({ inputTokens: 1000, outputTokens: 500 });
    expect(result.costUsd).toBeCloseTo(1000 * 2.5e-6 + 500 * 10e-6, 12);
  });

  it("cached prompt tokens come back as cacheReadInputTokens, from a plain call and from a stream", async () => {
    server.setReply(() => ({
      text: "alpha beta",
      usage: { inputTokens: 1200, outputTokens: 2, cacheReadInputTokens: 1024 },
    }));
    const m = model();
    expect((await m.generate(ask("x"))).usage).toEqual({
      inputTokens: 1200,
      outputTokens: 2,
      cacheReadInputTokens: 1024,
    });
    const finish = (await collectAll(m.stream(ask("x")))).at(-1);
    expect(finish).toMatchObject({
      type: "finish",
      usage: { inputTokens: 1200, outputTokens: 2, cacheReadInputTokens: 1024 },
    });
  });

  it("the server's response id (chatcmpl-…) comes back as responseId, from a plain call and from a stream", async () => {
    const m = model();
    const result = await m.generate(ask("x"));
    expect(result.responseId).toMatch(/^chatcmpl-/);
    const finish = (await collectAll(m.stream(ask("x")))).at(-1);
    expect(finish?.type === "finish" ? finish.responseId : undefined).toMatch(/^chatcmpl-/);
    expect(finish?.type === "finish" ? finish.responseId : undefined).not.toBe(result.responseId);
  });

  it("usage missing → undefined token counts and undefined cost, never a made-up 0", async () => {
    server.setReply(() => ({ text: "ok", usage: null }));
    const m = model();
    const result = await m.generate(ask("x"));
    expect(result.usage.inputTokens).toBeUndefined();
    expect(result.usage.outputTokens).toBeUndefined();
    expect(result.costUsd).toBeUndefined();
    const finish = (await collectAll(m.stream(ask("x")))).at(-1);
    expect(finish?.type === "finish" ? finish.costUsd : "missing").toBeUndefined();
  });

  it.each([
    ["length", { unified: "length", raw: "length" }],
    ["content-filter", { unified: "content-filter", raw: "content_filter" }],
    ["something_new", { unified: "other", raw: "something_new" }],
  ])("maps finish reason %s", async (reason, expected) => {
    server.setReply(() => ({ text: "ok", finishReason: reason }));
    const result = await model().generate(ask("x"));
    expect(result.finishReason).toEqual(expected);
  });

  it('an empty finish reason ("", as some compatible servers send) is "not reported": the default applies, as with Hugging Face', async () => {
    server.setReply(() => ({ text: "ok", finishReason: "" }));
    expect((await model().generate(ask("x"))).finishReason).toEqual({ unified: "stop" });
    server.setReply(() => ({ toolCalls: [{ id: "call_1", name: "f", arguments: {} }], finishReason: "" }));
    expect((await model().generate(ask("x"))).finishReason).toEqual({ unified: "tool-calls" });
  });

  it("maps image parts to image_url (data: URL for base64)", async () => {
    await model({ name: "gpt-4o" }).generate({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is in these?" },
            { type: "image", data: "iVBORw0KGgo=", mediaType: "image/png" },
            { type: "image", url: "https://example.com/cat.jpg" },
          ],
        },
      ],
    });
    expect((lastBody().messages as unknown[])[0]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "What is in these?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
      ],
    });
  });

  it("structured output from a zod schema → response_format json_schema (strict)", async () => {
    const Weather = z.object({ city: z.string(), celsius: z.number() });
    server.setReply(() => ({ text: JSON.stringify({ city: "Oslo", celsius: 4 }) }));
    const result = await model().generate({
      ...ask("weather in Oslo"),
      responseFormat: { type: "json", schema: Weather, name: "weather" },
    });
    expect(lastBody().response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "weather", schema: toJsonSchema(Weather), strict: true },
    });
    expect(Weather.parse(JSON.parse(result.text))).toEqual({ city: "Oslo", celsius: 4 });
  });

  it("JSON without a schema → json_object; providerOptions can turn strict off", async () => {
    await model().generate({ ...ask("x"), responseFormat: { type: "json" } });
    expect(lastBody().response_format).toEqual({ type: "json_object" });
    await model().generate({
      ...ask("x"),
      responseFormat: { type: "json", schema: { type: "object" } },
      providerOptions: { openai: { strictJsonSchema: false } },
    });
    expect(lastBody().response_format).toMatchObject({ json_schema: { strict: false } });
    expect(lastBody()).not.toHaveProperty("strictJsonSchema");
  });
});

describe("OpenAIModel: tools", () => {
  const getWeather = {
    name: "get_weather",
    description: "Weather for a city",
    parameters: z.object({ city: z.string() }),
  };

  it("round trip without streaming: tool call out, tool result back", async () => {
    server.setReply((req) =>
      req.messages.some((msg) => msg.role === "tool")
        ? { text: "It is 4 °C in Oslo." }
        : { toolCalls: [{ id: "call_1", name: "get_weather", arguments: { city: "Oslo" } }] },
    );
    const m = model();
    const first = await m.generate({
      ...ask("weather in Oslo?"),
      tools: [getWeather],
      toolChoice: { name: "get_weather" },
    });
    expect(lastBody().tools).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: toJsonSchema(getWeather.parameters),
        },
      },
    ]);
    expect(lastBody().tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
    expect(first.toolCalls).toEqual([{ id: "call_1", name: "get_weather", arguments: { city: "Oslo" } }]);
    expect(first.finishReason).toEqual({ unified: "tool-calls", raw: "tool_calls" });
    const second = await m.generate({
      messages: [
        { role: "user", content: "weather in Oslo?" },
        { role: "assistant", content: "", toolCalls: first.toolCalls },
        { role: "tool", toolCallId: "call_1", content: '{"celsius":4}' },
      ],
      tools: [getWeather],
    });
    expect(second.text).toBe("It is 4 °C in Oslo.");
    expect((lastBody().messages as unknown[]).slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"celsius":4}' },
    ]);
  });

  it("streams tool calls assembled from deltas, one chunk per call", async () => {
    server.setReply(() => ({
      toolCalls: [
        {
          id: "call_a",
          name: "get_weather",
          arguments: { city: "Oslo", detail: "a fairly long argument string to split" },
        },
        { id: "call_b", name: "get_weather", arguments: { city: "Bergen" } },
      ],
    }));
    const chunks = await collectAll(model().stream({ ...ask("x"), tools: [getWeather] }));
    const calls = chunks.flatMap((c) => (c.type === "tool-call" ? [c.toolCall] : []));
    expect(calls).toEqual([
      {
        id: "call_a",
        name: "get_weather",
        arguments: { city: "Oslo", detail: "a fairly long argument string to split" },
      },
      { id: "call_b", name: "get_weather", arguments: { city: "Bergen" } },
    ]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: { unified: "tool-calls" } });
  });

  it("keeps invalid argument JSON as the raw string", async () => {
    server.setReply(() => ({ toolCalls: [{ id: "call_x", name: "get_weather", arguments: '{"city": "Os' }] }));
    const result = await model().generate({ ...ask("x"), tools: [getWeather] });
    expect(result.toolCalls[0]?.arguments).toBe('{"city": "Os');
  });
});

describe("OpenAIModel: capabilities and prices", () => {
  it("known models come from the dated table, snapshots included", () => {
    const m = model({ name: "gpt-4o-2024-08-06" });
    expect(m.capabilities).toMatchObject({
      vision: true,
      functionCalling: true,
      structuredOutput: true,
      supportsStreaming: true,
      contextWindow: 128_000,
    });
    expect(m.capabilities.inputCostPerToken).toBeCloseTo(2.5e-6, 15);
    expect(m.priceSource).toBe("table");
  });

  it("an unknown model on a paid endpoint is never free: the conservative price applies", () => {
    const m = new OpenAIModel({ name: "mystery-model", apiKey: KEY, baseURL: "https://api.example.com/v1" });
    expect(m.capabilities.inputCostPerToken).toBeGreaterThan(0);
    expect(m.priceSource).toBe("conservative-default");
    expect(m.isLocal).toBe(false);
  });

  it("an unknown model on a loopback server is local and free, and works without a key", async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const m = new OpenAIModel({ name: "my-local-model", baseURL: server.baseURL });
      made.push(m);
      expect(m.isLocal).toBe(true);
      expect(m.capabilities.inputCostPerToken).toBe(0);
      expect(m.priceSource).toBe("local");
      // The test server wants a key: a 401 proves the call went out instead of failing up front.
      expect(AuthenticationError.isInstance(await rejectionOf(m.generate(ask("x"))))).toBe(true);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it("declared capabilities win over the table", () => {
    const m = model({ name: "gpt-4o", capabilities: { maxTokens: 8192, inputCostPerToken: 0.00001, vision: false } });
    expect(m.capabilities).toMatchObject({
      maxTokens: 8192,
      contextWindow: 8192,
      vision: false,
      inputCostPerToken: 0.00001,
      structuredOutput: true,
    });
    expect(m.priceSource).toBe("declared");
  });

  it("a declared ModelCapabilities without prices keeps the known price (as YAML without costs gives)", () => {
    const m = model({
      name: "gpt-4",
      capabilities: new ModelCapabilities({ textGeneration: true, codeGeneration: true, maxTokens: 8192 }),
    });
    expect(m.capabilities.maxTokens).toBe(8192);
    expect(m.capabilities.inputCostPerToken).toBeCloseTo(30e-6, 15);
    expect(m.capabilities.outputCostPerToken).toBeCloseTo(60e-6, 15);
  });
});

describe("OpenAIModel: names that are Object.prototype members", () => {
  it.each(["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"])(
    "a model named %s is an unknown model, not a broken table entry",
    async (name) => {
      const paid = new OpenAIModel({ name, apiKey: KEY, baseURL: "https://api.example.com/v1" });
      expect(paid.priceSource).toBe("conservative-default");
      expect(paid.capabilities.inputCostPerToken).toBeGreaterThan(0);
      // And it answers: the name reaches the server as the API model id.
      const named = await startOpenAIServer({ apiKey: KEY, models: [name] });
      try {
        const local = new OpenAIModel({ name, apiKey: KEY, baseURL: named.baseURL });
        expect(local.priceSource).toBe("local");
        expect(await local.generateResponse("x")).toBe("Echo: x");
        expect((named.requests.at(-1)?.body as { model?: string } | undefined)?.model).toBe(name);
        await local.cleanup();
      } finally {
        await named.close();
      }
    },
  );
});

describe("OpenAIModel: health and lifecycle", () => {
  it("health check uses GET /models (free) and fails when the server is down", async () => {
    const m = model();
    expect(await m.healthCheck()).toBe(true);
    expect(server.requests.at(-1)?.path).toBe("/v1/models");
    expect(server.stats.inferenceRequests).toBe(0);
    server.setDown(true);
    try {
      expect(await m.healthCheck()).toBe(false);
    } finally {
      server.setDown(false);
    }
  });

  it("a wrong key makes the health check fail", async () => {
    expect(await model({ apiKey: "sk-wrong-key-0000000000" }).healthCheck()).toBe(false);
  });

  it("re-initialises after cleanup", async () => {
    const m = model();
    await m.generate(ask("x"));
    await m.cleanup();
    expect(m.isInitialized).toBe(false);
    expect(await m.generateResponse("again")).toBe("Echo: again");
  });
});

describeProviderFaults("OpenAIModel", {
  startServer: (options) => startOpenAIServer({ apiKey: KEY, ...options }),
  model: (s, options) => model({ baseURL: s.baseURL, ...options }),
});
