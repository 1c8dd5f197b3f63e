import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { inspect } from "node:util";
import {
  AbortError,
  type GenerateRequest,
  ModelCapabilities,
  ModelConstraints,
  ProviderError,
  Secret,
  TimeoutError,
  isProviderPlugin,
} from "@orchestrator-ts/core";
import { collectAll, type OllamaServer, rejectionOf, startOllamaServer } from "@orchestrator-ts/testing";
import { describeModelConformance, describeProviderFaults } from "@orchestrator-ts/testing/conformance";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  provider as namedPlugin,
  OllamaModel,
  type OllamaModelOptions,
  type OllamaPullProgress,
  createOllama,
  mapDoneReason,
  ollamaProvider,
  resolveOllamaUrl,
} from "./index";

const MODEL = "llama3.2:1b";
let server: OllamaServer;

beforeAll(async () => {
  server = await startOllamaServer({
    models: [MODEL, { name: "llava:7b", capabilities: ["completion", "vision"], contextLength: 4096, family: "llava" }],
  });
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

const models: OllamaModel[] = [];
function model(options: Partial<OllamaModelOptions> = {}): OllamaModel {
  const m = new OllamaModel({ name: "llama", modelPath: MODEL, host: server.host, ...options });
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

function lastChat(): Record<string, unknown> {
  return server.requests.filter((r) => r.path === "/api/chat").at(-1)?.body as Record<string, unknown>;
}

describeModelConformance("OllamaModel", () => model(), {
  injectFailure: () => server.enqueueFault({ type: "status", status: 500 }),
  injectLatency: (_m, ms) => server.enqueueFault({ type: "latency", ms }),
  timeoutMs: 10_000,
});

describe("OllamaModel: the seed, host and port", () => {
  it("takes the seed's arguments: name, modelPath, host, port", async () => {
    const seed = new OllamaModel({ name: "llama2", modelPath: "llama2:7b", host: "localhost", port: 11434 });
    expect(seed.baseUrl).toBe("http://localhost:11434");
    expect(seed.modelPath).toBe("llama2:7b");
    expect(seed.isLocal).toBe(true);
    expect(seed.capabilities.inputCostPerToken).toBe(0);
    expect(resolveOllamaUrl("http://127.0.0.1:9999", 11434)).toBe("http://127.0.0.1:9999");
    expect(resolveOllamaUrl("gpu-box", 8080)).toBe("http://gpu-box:8080");
    expect(resolveOllamaUrl("https://ollama.example.com", undefined)).toBe("https://ollama.example.com");
    expect(resolveOllamaUrl("http://ollama.internal", 8000)).toBe("http://ollama.internal:8000");
    const viaPort = model({ host: "127.0.0.1", port: server.port });
    expect((await viaPort.generate(ask("hi"))).text).toBe("Echo: hi");
  });

  it("a price can be set for local compute", () => {
    expect(model({ pricing: { inputPerMTok: 0.1, outputPerMTok: 0.2 } }).capabilities.outputCostPerToken).toBeCloseTo(
      0.2e-6,
      12,
    );
  });
});

describe("OllamaModel: initialize pulls, show discovers", () => {
  it("pulls a missing model with monotone progress, then finds it in the tags", async () => {
    const progress: OllamaPullProgress[] = [];
    const m = model({ name: "qwen", modelPath: "qwen2.5:0.5b", onPullProgress: (p) => progress.push(p) });
    expect(server.models).not.toContain("qwen2.5:0.5b");
    await m.initialize();
    expect(server.models).toContain("qwen2.5:0.5b");
    expect(progress[0]?.status).toBe("pulling manifest");
    expect(progress.at(-1)?.status).toBe("success");
    const percents = progress.flatMap((p) => (p.percent === undefined ? [] : [p.percent]));
    expect(percents.length).toBeGreaterThan(2);
    for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1] as number);
    expect(percents.at(-1)).toBe(100);
    expect(progress.find((p) => p.total !== undefined)).toMatchObject({
      total: 3 * 1024 * 1024,
      digest: expect.stringMatching(/^sha256:/),
    });
    expect(await m.healthCheck()).toBe(true);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /api/tags",
      "POST /api/pull",
      "POST /api/show",
      "GET /api/tags",
    ]);
  });

  it("with pull: false a missing model fails initialize with a clear, non-retryable error", async () => {
    const error = await rejectionOf(model({ modelPath: "missing:1b", pull: false }).initialize());
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(false);
    expect((error as Error).message).toContain("ollama pull missing:1b");
  });

  it("a failing pull (unknown model) surfaces as a typed error", async () => {
    const strict = await startOllamaServer({ models: [], pullable: () => false });
    try {
      const error = await rejectionOf(new OllamaModel({ name: "nope", host: strict.host }).initialize());
      expect(ProviderError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain("file does not exist");
    } finally {
      await strict.close();
    }
  });

  it("discovers context length and capabilities from /api/show; declared fields win", async () => {
    const llava = model({ name: "llava", modelPath: "llava:7b" });
    expect(llava.capabilities.vision).toBe(false);
    await llava.initialize();
    expect(llava.discoveredCapabilities).toEqual({
      textGeneration: true,
      functionCalling: false,
      vision: true,
      maxTokens: 4096,
      contextWindow: 4096,
    });
    expect(llava.capabilities.vision).toBe(true);
    expect(llava.capabilities.contextWindow).toBe(4096);

    const llama = model({ capabilities: { maxTokens: 8192, functionCalling: false } });
    await llama.initialize();
    expect(llama.discoveredCapabilities).toMatchObject({ functionCalling: true, contextWindow: 131_072 });
    expect(llama.capabilities.functionCalling).toBe(false);
    expect(llama.capabilities.maxTokens).toBe(8192);
    expect(llama.capabilities.contextWindow).toBe(8192);
    expect(llama.capabilities.supportsStreaming).toBe(true);
  });

  it("an unreachable server gives a retryable error that says what to check", async () => {
    const port = await freePort();
    const m = model({ host: `http://127.0.0.1:${port}` });
    const error = await rejectionOf(m.generate(ask("x")));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as ProviderError).retryable).toBe(true);
    // Where it tried, and why it failed (Node keeps the reason in cause.cause).
    expect((error as Error).message).toBe(
      `Ollama is not reachable at http://127.0.0.1:${port}: fetch failed (connect ECONNREFUSED 127.0.0.1:${port}). Is \`ollama serve\` running?`,
    );
    expect(await m.healthCheck()).toBe(false);
  });
});

describe("OllamaModel: request mapping (what the server recorded)", () => {
  it("sends system, images as base64, options and keep_alive", async () => {
    await model({ keepAlive: "10m" }).generate({
      messages: [
        { role: "system", content: "Be terse." },
        {
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image", data: "iVBORw0KGgo=", mediaType: "image/png" },
            { type: "image", url: "data:image/jpeg;base64,/9j/4AAQ" },
          ],
        },
      ],
      temperature: 0.3,
      topP: 0.9,
      seed: 7,
      stop: ["END"],
      maxTokens: 50,
    });
    expect(lastChat()).toMatchObject({
      model: MODEL,
      stream: false,
      keep_alive: "10m",
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: "what is this?", images: ["iVBORw0KGgo=", "/9j/4AAQ"] },
      ],
      options: { temperature: 0.3, top_p: 0.9, seed: 7, stop: ["END"], num_predict: 50 },
    });
  });

  it("round-trips tools, generated and streamed", async () => {
    server.setReply(() => ({ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
    const m = model();
    const tools = [{ name: "get_weather", description: "Weather", parameters: z.object({ city: z.string() }) }];
    const first = await m.generate({ ...ask("weather?"), tools });
    expect(first.toolCalls).toEqual([{ id: expect.any(String), name: "get_weather", arguments: { city: "Paris" } }]);
    expect(first.finishReason).toEqual({ unified: "tool-calls", raw: "stop" });
    expect(lastChat()["tools"]).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather",
          parameters: expect.objectContaining({ type: "object", required: ["city"] }),
        },
      },
    ]);
    const streamed = await collectAll(m.stream({ ...ask("weather?"), tools }));
    expect(streamed.filter((c) => c.type === "tool-call")).toEqual([
      { type: "tool-call", toolCall: { id: expect.any(String), name: "get_weather", arguments: { city: "Paris" } } },
    ]);
    expect(streamed.at(-1)).toMatchObject({ type: "finish", finishReason: { unified: "tool-calls" } });

    server.setReply(() => ({ text: "Sunny." }));
    await m.generate({
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: "", toolCalls: first.toolCalls },
        { role: "tool", toolCallId: first.toolCalls[0]?.id ?? "", content: '{"temp":21}' },
      ],
      tools,
    });
    expect(lastChat()["messages"]).toEqual([
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }],
      },
      { role: "tool", content: '{"temp":21}', tool_name: "get_weather" },
    ]);

    // A tool that returned an image (a screenshot): its text, and its image as Ollama takes them.
    await m.generate({
      messages: [
        { role: "user", content: "what is on screen?" },
        { role: "assistant", content: "", toolCalls: first.toolCalls },
        {
          role: "tool",
          toolCallId: first.toolCalls[0]?.id ?? "",
          content: [
            { type: "text", text: "screen.png" },
            { type: "image", data: "AAAA", mediaType: "image/png" },
          ],
        },
      ],
      tools,
    });
    expect((lastChat()["messages"] as unknown[])[2]).toEqual({
      role: "tool",
      content: "screen.png",
      tool_name: "get_weather",
      images: ["AAAA"],
    });
  });

  it('structured output: a JSON schema as `format` ("json" without a schema)', async () => {
    const m = model();
    const result = await m.generate({
      ...ask("who?"),
      responseFormat: { type: "json", schema: z.object({ echo: z.string() }) },
    });
    expect(JSON.parse(result.text)).toEqual({ echo: "who?" });
    expect(lastChat()["format"]).toMatchObject({
      type: "object",
      properties: { echo: { type: "string" } },
      required: ["echo"],
    });
    await m.generate({ ...ask("x"), responseFormat: { type: "json" } });
    expect(lastChat()["format"]).toBe("json");
  });

  it("streams natively in several chunks that match generate", async () => {
    server.setReply(() => ({ text: "one two three four five" }));
    const chunks = await collectAll(model().stream(ask("x")));
    const texts = chunks.flatMap((c) => (c.type === "text" ? [c.text] : []));
    expect(texts.length).toBe(5);
    expect(texts.join("")).toBe("one two three four five");
    expect(lastChat()["stream"]).toBe(true);
  });
});

describe("OllamaModel: usage and finish reasons", () => {
  it("usage from prompt_eval_count / eval_count; absent → undefined, not 0", async () => {
    server.setReply(() => ({ text: "ok", usage: { inputTokens: 12, outputTokens: 3 } }));
    const m = model();
    expect((await m.generate(ask("x"))).usage).toEqual({ inputTokens: 12, outputTokens: 3 });
    server.setReply(() => ({ text: "ok", usage: null }));
    const result = await m.generate(ask("x"));
    expect(result.usage.inputTokens).toBeUndefined();
    expect(result.usage.outputTokens).toBeUndefined();
    expect(result.costUsd).toBe(0);
  });

  it("maps done_reason", async () => {
    expect(mapDoneReason("stop", false)).toEqual({ unified: "stop", raw: "stop" });
    expect(mapDoneReason("stop", true)).toEqual({ unified: "tool-calls", raw: "stop" });
    expect(mapDoneReason("length", false)).toEqual({ unified: "length", raw: "length" });
    expect(mapDoneReason("unload", false)).toEqual({ unified: "other", raw: "unload" });
    expect((await model().generate(ask("a b c d e", { maxTokens: 2 }))).finishReason).toEqual({
      unified: "length",
      raw: "length",
    });
  });
});

describe("OllamaModel: errors mapped to the core family", () => {
  it("500 / 503 → retryable ProviderError; a removed model → non-retryable with a pull hint", async () => {
    for (const status of [500, 503]) {
      server.enqueueFault({ type: "status", status });
      const error = await rejectionOf(model().generate(ask("x")));
      expect(error).toMatchObject({ status, retryable: true });
    }
    const m = model({ modelPath: "tiny:1b" });
    await m.initialize();
    server.removeModel("tiny:1b");
    const gone = await rejectionOf(m.generate(ask("x")));
    expect(gone).toMatchObject({ status: 404, retryable: false });
    expect((gone as Error).message).toContain("ollama pull tiny:1b");
    expect(await m.healthCheck()).toBe(false);
  });

  it("a timed-out call really closes its HTTP request (the client alone cannot cancel before headers)", async () => {
    let closed = 0;
    const hanging = createHttpServer((req, res) => {
      if (req.url === "/api/tags") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ models: [{ name: MODEL }] }));
      } else if (req.url === "/api/show") {
        res.statusCode = 404;
        res.end();
      } else req.on("close", () => closed++); // /api/chat: never answer
    });
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const address = hanging.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const m = model({ host: `http://127.0.0.1:${port}`, timeoutMs: 150 });
      expect(TimeoutError.isInstance(await rejectionOf(m.generate(ask("x"))))).toBe(true);
      for (let i = 0; i < 50 && closed === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(closed).toBe(1);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it("signal → AbortError, before headers and mid-stream", async () => {
    const controller = new AbortController();
    server.enqueueFault({ type: "hang" });
    const pending = model().generate(ask("x", { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect(AbortError.isInstance(await rejectionOf(pending))).toBe(true);

    const slow = await startOllamaServer({
      models: [MODEL],
      chunkDelayMs: 50,
      reply: () => ({ text: "a b c d e f g h i j" }),
    });
    try {
      const streaming = new AbortController();
      const seen: string[] = [];
      const error = await rejectionOf(
        (async () => {
          for await (const chunk of model({ host: slow.host }).stream(ask("x", { signal: streaming.signal }))) {
            if (chunk.type === "text") seen.push(chunk.text);
            if (seen.length === 2) streaming.abort();
          }
        })(),
      );
      expect(AbortError.isInstance(error)).toBe(true);
      expect(seen.length).toBe(2);
    } finally {
      await slow.close();
    }
  });
});

describe("OllamaModel: plugin", () => {
  it("is a provider plugin for YAML that accepts the seed's model_path", async () => {
    expect(isProviderPlugin(ollamaProvider)).toBe(true);
    expect(namedPlugin).toBe(ollamaProvider);
    const config = ollamaProvider.configSchema.parse({
      host: server.host,
      model_path: MODEL,
      pull: false,
      keepAlive: "1m",
    });
    expect(config).toEqual({ host: server.host, modelPath: MODEL, pull: false, keepAlive: "1m" });
    expect(ollamaProvider.configSchema.safeParse({ host: "x", bogus: true }).success).toBe(false);
    const created = await ollamaProvider.create({
      name: "llama2",
      config,
      capabilities: new ModelCapabilities({ maxTokens: 2048 }),
      constraints: new ModelConstraints({}),
      capabilitiesDeclared: true,
    });
    expect(created).toBeInstanceOf(OllamaModel);
    models.push(created as OllamaModel);
    await created.initialize();
    // Declared in YAML: kept; not declared: discovered.
    expect(created.capabilities.maxTokens).toBe(2048);
    expect(created.capabilities.functionCalling).toBe(true);
    const factory = createOllama({ host: server.host })("llama", MODEL);
    models.push(factory);
    expect((await factory.generate(ask("f"))).text).toBe("Echo: f");
  });

  it('headers from YAML arrive as Secrets (every value: `secretKeys: ["headers"]`); the server receives them, inspect never shows them', async () => {
    const token = "Bearer proxy-token-0123456789";
    const config = ollamaProvider.configSchema.parse({
      host: server.host,
      modelPath: MODEL,
      headers: { Authorization: new Secret(token), "x-team": new Secret("search") },
    });
    const created = await ollamaProvider.create({
      name: "behind-proxy",
      config,
      capabilities: new ModelCapabilities({}),
      constraints: new ModelConstraints({}),
      capabilitiesDeclared: false,
    });
    models.push(created as OllamaModel);
    expect((await created.generate(ask("h"))).text).toBe("Echo: h");
    expect(server.requests.at(-1)?.headers.authorization).toBe(token);
    expect(server.requests.at(-1)?.headers["x-team"]).toBe("search");
    expect(inspect(created, { depth: 20, showHidden: true })).not.toContain("proxy-token-0123456789");
  });
});

describe("OllamaModel: live server (opt-in)", () => {
  it.skipIf(!process.env.OLLAMA_HOST)(
    "live: generates and streams (skipped: OLLAMA_HOST not set)",
    { timeout: 300_000 },
    async () => {
      const live = new OllamaModel({ name: "live", modelPath: process.env.OLLAMA_MODEL ?? "llama3.2:1b" });
      models.push(live);
      const result = await live.generate(ask("Reply with the single word: pong", { maxTokens: 16 }));
      expect(result.text.length).toBeGreaterThan(0);
      const chunks = await collectAll(live.stream(ask("Count from 1 to 5.", { maxTokens: 32 })));
      expect(chunks.at(-1)?.type).toBe("finish");
      expect(await live.healthCheck()).toBe(true);
    },
  );
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

describe("a streamed event's size is bounded", () => {
  const textOf = async (stream: AsyncIterable<{ type: string; text?: string }>) => {
    let text = "";
    for await (const chunk of stream) if (chunk.type === "text") text += chunk.text;
    return text;
  };

  it("an event larger than maxEventBytes (default 4 MiB) fails the stream with a non-retryable ProviderError", async () => {
    // One 6 MB word: one NDJSON line. The SDK's own parser buffered it without bound, rescanning it on every read.
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

describeProviderFaults("OllamaModel", {
  startServer: (options) => startOllamaServer({ models: [MODEL], ...options }),
  model: (s, options) => model({ host: s.host, ...options }),
  malformedFrame: "skipped",
});
