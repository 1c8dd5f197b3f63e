import { inspect } from "node:util";
import {
  AuthenticationError,
  ContextLengthError,
  ModelCapabilities,
  ProviderError,
  RateLimitError,
} from "@orchestrator-ts/core";
import { toJsonSchema } from "@orchestrator-ts/core/internal";
import {
  collectAll,
  freePort,
  type HuggingFaceServer,
  rejectionOf,
  startHuggingFaceServer,
  startLoopbackServer,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import { describeModelConformance, describeProviderFaults } from "@orchestrator-ts/testing/conformance";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { HuggingFaceModel, type HuggingFaceModelOptions } from "./huggingface-model";

const TOKEN = "hf_testtoken0123456789abcdef";
let server: HuggingFaceServer;

beforeAll(async () => {
  server = await startHuggingFaceServer({ apiKey: TOKEN, modelId: "meta-llama/Llama-3.1-8B-Instruct" });
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

const made: HuggingFaceModel[] = [];
afterAll(async () => {
  await Promise.all(made.map((m) => m.cleanup()));
});

function model(options: Partial<HuggingFaceModelOptions> = {}): HuggingFaceModel {
  const m = new HuggingFaceModel({
    name: "llama",
    model: "meta-llama/Llama-3.1-8B-Instruct",
    accessToken: TOKEN,
    endpointUrl: server.endpointUrl,
    ...options,
  });
  made.push(m);
  return m;
}

const ask = (content: string) => ({ messages: [{ role: "user" as const, content }] });

function lastBody(): Record<string, unknown> {
  const body = server.requests.at(-1)?.body;
  if (typeof body !== "object" || body === null) throw new Error("no recorded body");
  return body as Record<string, unknown>;
}

describeModelConformance("HuggingFaceModel (TGI endpoint)", () => model(), {
  secret: TOKEN,
  injectFailure: () => server.enqueueFault({ type: "status", status: 500 }),
  injectLatency: (_m, ms) => server.enqueueFault({ type: "latency", ms }),
});

describe("HuggingFaceModel: construction", () => {
  it("takes the seed's name, modelPath and device (device ignored with a warning)", async () => {
    const m = model({
      name: "microsoft/DialoGPT-medium",
      model: undefined,
      modelPath: "microsoft/DialoGPT-medium",
      device: "cuda",
    });
    expect(m.modelId).toBe("microsoft/DialoGPT-medium");
    expect(m.warnings).toEqual([expect.stringContaining('device "cuda" is ignored')]);
    const result = await m.generate(ask("hi"));
    expect(result.text).toBe("Echo: hi");
    expect(result.warnings).toEqual(m.warnings);
    expect(lastBody().model).toBe("microsoft/DialoGPT-medium");
    expect(server.requests.at(-1)?.path).toBe("/v1/chat/completions");
  });

  it.each(["constructor", "toString", "__proto__"])(
    "a model id %s is an unknown model, not a broken table entry",
    async (id) => {
      // On Inference Providers (no endpoint) the price comes from the table: unknown means conservative.
      const routed = new HuggingFaceModel({ name: "routed", model: id, accessToken: TOKEN, provider: "together" });
      expect(routed.priceSource).toBe("conservative-default");
      expect(routed.capabilities.inputCostPerToken).toBeGreaterThan(0);
      const m = model({ model: id });
      expect(await m.generateResponse("x")).toBe("Echo: x");
      expect(lastBody().model).toBe(id);
    },
  );

  it("an endpoint without a model id: the SDK sends the endpoint URL as the model", async () => {
    const m = model({ model: undefined });
    expect(m.modelId).toBeUndefined();
    await m.generate(ask("x"));
    expect(lastBody().model).toBe(server.endpointUrl);
  });

  it.each([
    ["/v1", "/v1/chat/completions"],
    ["/v1/chat/completions", "/v1/chat/completions"],
  ])("endpointUrl ending in %s posts to %s", async (suffix, path) => {
    await model({ endpointUrl: `${server.endpointUrl}${suffix}` }).generate(ask("x"));
    expect(server.requests.at(-1)?.path).toBe(path);
  });

  it("drops `provider` next to an endpointUrl with a warning instead of failing", async () => {
    const m = model({ provider: "together" });
    expect(m.inferenceProvider).toBeUndefined();
    expect(m.warnings).toEqual([expect.stringContaining('provider "together" is ignored')]);
    expect(await m.generateResponse("x")).toBe("Echo: x");
  });

  it("without an endpoint and without a token: AuthenticationError at first call naming HF_TOKEN", async () => {
    const saved = {
      HF_TOKEN: process.env.HF_TOKEN,
      HUGGINGFACE_API_KEY: process.env.HUGGINGFACE_API_KEY,
      HUGGING_FACE_HUB_TOKEN: process.env.HUGGING_FACE_HUB_TOKEN,
    };
    for (const name of Object.keys(saved)) delete process.env[name];
    try {
      const m = new HuggingFaceModel({ name: "meta-llama/Llama-3.3-70B-Instruct", provider: "together" });
      const error = await rejectionOf(m.generate(ask("x")));
      expect(AuthenticationError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain("HF_TOKEN");
    } finally {
      for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
    }
  });

  it("reads HF_TOKEN lazily", async () => {
    const saved = process.env.HF_TOKEN;
    const m = model({ accessToken: undefined });
    process.env.HF_TOKEN = TOKEN;
    try {
      expect(await m.generateResponse("late")).toBe("Echo: late");
      expect(server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
    }
  });
});

describe("HuggingFaceModel: error mapping", () => {
  it("401 → AuthenticationError, token never shown (even when the server quotes it)", async () => {
    server.enqueueFault({ type: "status", status: 401, message: `Invalid token ${TOKEN}` });
    const m = model();
    const error = await rejectionOf(m.generate(ask("x")));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    for (const view of [
      inspect(error, { depth: 20 }),
      JSON.stringify(error),
      String((error as Error).stack),
      inspect(m, { depth: 20, showHidden: true }),
      JSON.stringify(m),
    ]) {
      expect(view).not.toContain(TOKEN);
    }
  });

  it("429 on a stream → RateLimitError with retryAfterMs; each call reports its own response's header", async () => {
    const m = model();
    server.enqueueFaults([
      { type: "status", status: 429, retryAfterSeconds: 7 },
      { type: "status", status: 429, retryAfterSeconds: 2 },
    ]);
    const [first, second] = await Promise.all([
      rejectionOf(collectAll(m.stream(ask("x")))),
      rejectionOf(m.generate(ask("y"))),
    ]);
    const seen = [first, second].map((e) => (RateLimitError.isInstance(e) ? e.retryAfterMs : "not a RateLimitError"));
    expect(seen.sort()).toEqual([2_000, 7_000]);
    server.enqueueFault({ type: "status", status: 500 });
    const plain = await rejectionOf(m.generate(ask("z")));
    expect(ProviderError.isInstance(plain) && !RateLimitError.isInstance(plain)).toBe(true);
  });

  it("TGI's 422 token-limit validation error → ContextLengthError", async () => {
    server.enqueueFault({ type: "context-length" });
    const error = await rejectionOf(model().generate(ask("x")));
    expect(ContextLengthError.isInstance(error)).toBe(true);
    expect((error as ContextLengthError).status).toBe(422);
  });

  it("other 422 validation errors → ProviderError, not retryable", async () => {
    server.enqueueFault({
      type: "status",
      status: 422,
      message: "Input validation error: `temperature` must be strictly positive",
    });
    const error = await rejectionOf(model().generate(ask("x")));
    expect(ProviderError.isInstance(error) && !ContextLengthError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(false);
  });

  it("503 model loading → retryable ProviderError, and the SDK does not retry it by itself", async () => {
    server.enqueueFault({ type: "status", status: 503 });
    const error = await rejectionOf(model().generate(ask("x")));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/loading/);
    expect(server.stats.inferenceRequests).toBe(1);
  });

  it("500 while streaming → retryable ProviderError", async () => {
    server.enqueueFault({ type: "status", status: 500 });
    const error = await rejectionOf(collectAll(model().stream(ask("x"))));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).status).toBe(500);
    expect((error as ProviderError).retryable).toBe(true);
  });
});

describe("HuggingFaceModel: request and response mapping", () => {
  it("maps settings, streams natively with usage, and computes cost from the table", async () => {
    server.setReply(() => ({ text: "alpha beta gamma delta", usage: { inputTokens: 1000, outputTokens: 500 } }));
    const m = model();
    const chunks = await collectAll(
      m.stream({
        ...ask("x"),
        maxTokens: 64,
        temperature: 0.5,
        topP: 0.9,
        stop: ["END"],
        seed: 3,
        providerOptions: { huggingface: { frequency_penalty: 0.1 } },
      }),
    );
    expect(lastBody()).toMatchObject({
      stream: true,
      max_tokens: 64,
      temperature: 0.5,
      top_p: 0.9,
      stop: ["END"],
      seed: 3,
      frequency_penalty: 0.1,
      stream_options: { include_usage: true },
    });
    expect(chunks.filter((c) => c.type === "text").length).toBeGreaterThan(1);
    const finish = chunks.at(-1);
    expect(finish).toMatchObject({
      type: "finish",
      finishReason: { unified: "stop", raw: "stop" },
      usage: { inputTokens: 1000, outputTokens: 500 },
    });
    // A known model on a loopback endpoint is self-hosted: no per-token bill.
    expect(finish?.type === "finish" ? finish.costUsd : undefined).toBe(0);
  });

  it("known models on Inference Providers are priced from the dated table; unknown ones conservatively", () => {
    const known = new HuggingFaceModel({ name: "meta-llama/Llama-3.3-70B-Instruct", accessToken: TOKEN });
    expect(known.capabilities.inputCostPerToken).toBeCloseTo(0.88e-6, 15);
    expect(known.priceSource).toBe("table");
    const unknown = new HuggingFaceModel({ name: "someone/unknown-model", accessToken: TOKEN });
    expect(unknown.capabilities.inputCostPerToken).toBeGreaterThan(0);
    expect(unknown.priceSource).toBe("conservative-default");
    const declared = new HuggingFaceModel({
      name: "meta-llama/Llama-3.3-70B-Instruct",
      capabilities: new ModelCapabilities({ maxTokens: 8192 }),
    });
    expect(declared.capabilities.inputCostPerToken).toBeGreaterThan(0);
    expect(declared.capabilities.maxTokens).toBe(8192);
  });

  it("usage missing → undefined usage and cost (for a priced model)", async () => {
    server.setReply(() => ({ text: "ok", usage: null }));
    const result = await model({ capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 2e-6 } }).generate(
      ask("x"),
    );
    expect(result.usage.inputTokens).toBeUndefined();
    expect(result.costUsd).toBeUndefined();
  });

  it.each([
    ["length", { unified: "length", raw: "length" }],
    ["eos_token", { unified: "stop", raw: "eos_token" }],
    ["weird", { unified: "other", raw: "weird" }],
  ])("maps finish reason %s", async (reason, expected) => {
    server.setReply(() => ({ text: "ok", finishReason: reason }));
    expect((await model().generate(ask("x"))).finishReason).toEqual(expected);
  });

  it("maps image parts to image_url", async () => {
    await model().generate({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what?" },
            { type: "image", data: "AAAA", mediaType: "image/jpeg" },
            { type: "image", url: "https://example.com/a.png" },
          ],
        },
      ],
    });
    expect((lastBody().messages as unknown[])[0]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "what?" },
        { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } },
        { type: "image_url", image_url: { url: "https://example.com/a.png" } },
      ],
    });
  });

  it("structured output from a zod schema → response_format json_schema", async () => {
    const Answer = z.object({ answer: z.string() });
    server.setReply(() => ({ text: '{"answer":"42"}' }));
    const result = await model().generate({
      ...ask("x"),
      responseFormat: { type: "json", schema: Answer, name: "answer" },
    });
    expect(lastBody().response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema: toJsonSchema(Answer), strict: true },
    });
    expect(Answer.parse(JSON.parse(result.text))).toEqual({ answer: "42" });
  });

  it("tools: round trip without streaming, and assembled tool calls when streaming", async () => {
    const lookup = { name: "lookup", parameters: z.object({ q: z.string() }) };
    server.setReply((req) =>
      req.messages.some((msg) => msg.role === "tool")
        ? { text: "found it" }
        : { toolCalls: [{ id: "call_9", name: "lookup", arguments: { q: "tgi" } }] },
    );
    const m = model();
    const first = await m.generate({ ...ask("find tgi"), tools: [lookup], toolChoice: "required" });
    expect(lastBody()).toMatchObject({
      tools: [{ type: "function", function: { name: "lookup", parameters: toJsonSchema(lookup.parameters) } }],
      tool_choice: "required",
    });
    expect(first.toolCalls).toEqual([{ id: "call_9", name: "lookup", arguments: { q: "tgi" } }]);
    expect(first.finishReason.unified).toBe("tool-calls");
    const second = await m.generate({
      messages: [
        { role: "user", content: "find tgi" },
        { role: "assistant", content: "", toolCalls: first.toolCalls },
        { role: "tool", toolCallId: "call_9", content: "result" },
      ],
      tools: [lookup],
    });
    expect(second.text).toBe("found it");
    expect((lastBody().messages as unknown[])[2]).toEqual({ role: "tool", tool_call_id: "call_9", content: "result" });
    const streamed = await collectAll(m.stream({ ...ask("find tgi"), tools: [lookup] }));
    expect(streamed.filter((c) => c.type === "tool-call")).toEqual([
      { type: "tool-call", toolCall: { id: "call_9", name: "lookup", arguments: { q: "tgi" } } },
    ]);
  });
});

describe("HuggingFaceModel: health", () => {
  it("an endpoint is checked with TGI's GET /health", async () => {
    expect(await model().healthCheck()).toBe(true);
    expect(server.requests.at(-1)?.path).toBe("/health");
    server.setDown(true);
    try {
      expect(await model().healthCheck()).toBe(false);
    } finally {
      server.setDown(false);
    }
  });

  it("an OpenAI-compatible endpoint without /health falls back to GET /v1/models", async () => {
    const compatible = await startOpenAIServer({ apiKey: TOKEN });
    try {
      expect(await model({ endpointUrl: `${compatible.url}/v1` }).healthCheck()).toBe(true);
      expect(compatible.requests.map((r) => r.path)).toEqual(["/health", "/v1/models"]);
    } finally {
      await compatible.close();
    }
  });

  it("Inference Providers: the Hub's model info, healthy when a live provider serves the model", async () => {
    const hub = await startLoopbackServer({
      protocol: "hub",
      toolCallIdPrefix: "call_",
      mapFinishReason: (r) => r,
      renderError: (spec) => ({ status: spec.status, body: { error: spec.message ?? "error" } }),
      routes: [
        {
          method: "GET",
          path: /^\/api\/models\//,
          handle: (ctx) =>
            ctx.url.pathname.endsWith("/served-model")
              ? ctx.sendJson(200, {
                  id: "org/served-model",
                  inferenceProviderMapping: { together: { status: "live", providerId: "x", task: "conversational" } },
                })
              : ctx.sendJson(404, { error: "Repository not found" }),
        },
      ],
    });
    try {
      const served = new HuggingFaceModel({ name: "org/served-model", accessToken: TOKEN, hubUrl: hub.url });
      expect(await served.healthCheck()).toBe(true);
      expect(hub.requests[0]?.query).toBe("?expand[]=inferenceProviderMapping");
      expect(
        await new HuggingFaceModel({
          name: "org/served-model",
          accessToken: TOKEN,
          hubUrl: hub.url,
          provider: "groq",
        }).healthCheck(),
      ).toBe(false);
      expect(
        await new HuggingFaceModel({ name: "org/missing", accessToken: TOKEN, hubUrl: hub.url }).healthCheck(),
      ).toBe(false);
    } finally {
      await hub.close();
    }
  });
});

describe("a streamed event's size is bounded", () => {
  const textOf = async (stream: AsyncIterable<{ type: string; text?: string }>) => {
    let text = "";
    for await (const chunk of stream) if (chunk.type === "text") text += chunk.text;
    return text;
  };

  it("an event larger than maxEventBytes (default 4 MiB) fails the stream with a non-retryable ProviderError", async () => {
    // One 6 MB word: one SSE event. The SDK's own parser buffered it without bound, rescanning it on every read.
    server.setReply(() => ({ text: "x".repeat(6 * 1024 * 1024) }));
    const error = await rejectionOf(textOf(model().stream(ask("big"))));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).message).toMatch("sent an event larger than 4194304 bytes");
    expect((error as ProviderError).retryable).toBe(false);
    expect((error as ProviderError).model).toBe("llama");
  });

  it("maxEventBytes raises the bound: a 6 MB event arrives whole", async () => {
    server.setReply(() => ({ text: "y".repeat(6 * 1024 * 1024) }));
    const text = await textOf(model({ maxEventBytes: 8 * 1024 * 1024 }).stream(ask("big")));
    expect(text.length).toBe(6 * 1024 * 1024);
  });
});

describe("HuggingFaceModel: an unreachable endpoint", () => {
  it("→ retryable ProviderError naming the address and the cause, never userinfo or key", async () => {
    const port = await freePort();
    const error = await rejectionOf(
      model({ endpointUrl: `http://127.0.0.1:${port}?api_key=key-in-query-123` }).generate(ask("x")),
    );
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
    expect((error as Error).message).toMatch(
      new RegExp(`^Connection to http://127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`),
    );
    const withUser = await rejectionOf(
      model({ endpointUrl: `http://someone:pw-in-url-123@127.0.0.1:${port}` }).generate(ask("x")),
    );
    expect(ProviderError.isInstance(withUser)).toBe(true);
    for (const e of [error, withUser])
      expect(`${(e as Error).message} ${inspect(e)} ${JSON.stringify(e)}`).not.toMatch(
        /key-in-query-123|someone|pw-in-url-123/,
      );
  });
});

describeProviderFaults("HuggingFaceModel", {
  startServer: (options) =>
    startHuggingFaceServer({ apiKey: TOKEN, modelId: "meta-llama/Llama-3.1-8B-Instruct", ...options }),
  model: (s, options) => model({ endpointUrl: s.endpointUrl, ...options }),
});
