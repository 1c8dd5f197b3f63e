import { connect } from "node:net";
import OpenAI, {
  AzureOpenAI,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { startOpenAIServer } from "./openai-server";
import type { OpenAIServer, OpenAIServerOptions } from "./openai-server";

const servers: OpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(options: OpenAIServerOptions = {}, clientOptions: ConstructorParameters<typeof OpenAI>[0] = {}) {
  const server = await startOpenAIServer({ apiKey: "sk-test", ...options });
  servers.push(server);
  const client = new OpenAI({ apiKey: "sk-test", baseURL: server.baseURL, maxRetries: 0, ...clientOptions });
  return { server, client };
}

const ask = (content: string) => ({
  model: "gpt-4o-mini",
  messages: [{ role: "user" as const, content }],
});

describe("startOpenAIServer through the openai SDK", () => {
  it("answers a plain call with the echo reply and word-count usage", async () => {
    const { server, client } = await setup();
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hello there world" },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Echo: hello there world");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.object).toBe("chat.completion");
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    const recorded = server.requests[0];
    expect(recorded?.path).toBe("/v1/chat/completions");
    expect(recorded?.headers.authorization).toBe("Bearer sk-test");
    expect(recorded?.body).toMatchObject({ model: "gpt-4o-mini" });
    expect(server.stats.successes).toBe(1);
  });

  it("serves /chat/completions without the /v1 prefix too", async () => {
    const { server } = await setup();
    const client = new OpenAI({ apiKey: "sk-test", baseURL: server.url, maxRetries: 0 });
    const completion = await client.chat.completions.create(ask("no prefix"));
    expect(completion.choices[0]?.message.content).toBe("Echo: no prefix");
    expect(server.requests[0]?.path).toBe("/chat/completions");
  });

  it("streams chunks that concatenate to the full text, with a usage chunk when asked", async () => {
    const { client } = await setup({ reply: () => ({ text: "one two  three\nfour" }) });
    const stream = await client.chat.completions.create({
      ...ask("x"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe("one two  three\nfour");
    expect(finish).toBe("stop");
    expect(usage).toEqual({ prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 });
  });

  it("omits the usage chunk when include_usage is not set, and usage entirely when the reply says null", async () => {
    const { client } = await setup({ reply: () => ({ text: "a b", usage: null }) });
    const completion = await client.chat.completions.create(ask("x"));
    expect(completion.usage).toBeUndefined();
    const stream = await client.chat.completions.create({
      ...ask("x"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const usages: unknown[] = [];
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    expect(usages).toEqual([]);
  });

  it("returns tool calls, JSON and streamed, through the SDK's tool-call accumulation", async () => {
    const { server, client } = await setup({
      reply: ({ tools }) => ({
        toolCalls: [{ id: "call_abc", name: tools[0]?.name ?? "?", arguments: { city: "Paris", days: 3 } }],
      }),
    });
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } },
    ];
    const completion = await client.chat.completions.create({ ...ask("weather?"), tools });
    const message = completion.choices[0]?.message;
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(message?.content).toBeNull();
    const call = message?.tool_calls?.[0];
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Paris", days: 3 });

    // The SDK's stream helper rebuilds tool calls from the deltas: proves the delta format.
    const runner = client.chat.completions.stream({ ...ask("weather?"), tools });
    const final = await runner.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    expect(streamed?.id).toBe("call_abc");
    expect(streamed?.type === "function" && streamed.function.name).toBe("get_weather");
    expect(streamed?.type === "function" && JSON.parse(streamed.function.arguments)).toEqual({
      city: "Paris",
      days: 3,
    });
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(server.requests[1]?.body).toMatchObject({ stream: true, tools: [{ function: { name: "get_weather" } }] });
  });

  it("accepts response_format and answers JSON by default in JSON mode", async () => {
    const { client } = await setup();
    const completion = await client.chat.completions.create({ ...ask("hi"), response_format: { type: "json_object" } });
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toEqual({ echo: "hi" });
  });

  it("truncates at max_tokens with finish_reason length", async () => {
    const { client } = await setup();
    const completion = await client.chat.completions.create({ ...ask("a b c d e"), max_tokens: 2 });
    expect(completion.choices[0]?.message.content).toBe("Echo: a ");
    expect(completion.choices[0]?.finish_reason).toBe("length");
  });

  it("serves GET /v1/models as the health endpoint and 404s unknown models when a list is given", async () => {
    const { client } = await setup({ models: ["m1", "m2"] });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["m1", "m2"]);
    const error = await client.chat.completions.create({ ...ask("x"), model: "nope" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe("model_not_found");
  });

  it("rejects a wrong key with the real 401 body", async () => {
    const { server } = await setup();
    const client = new OpenAI({ apiKey: "sk-wrong", baseURL: server.baseURL, maxRetries: 0 });
    const error = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as APIError).code).toBe("invalid_api_key");
    expect(server.stats.unauthorized).toBe(1);
  });

  it("surfaces a 429 as RateLimitError with retry-after and retry-after-ms visible", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 7 });
    const error = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const rateLimit = error as RateLimitError;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers?.get("retry-after")).toBe("7");
    expect(rateLimit.headers?.get("retry-after-ms")).toBe("7000");
    expect(rateLimit.code).toBe("rate_limit_exceeded");
    expect(rateLimit.type).toBe("requests");
    expect(server.stats.faults.status).toBe(1);
    // The fault is consumed: the next call succeeds.
    await expect(client.chat.completions.create(ask("ok"))).resolves.toBeTruthy();
  });

  it("lets the SDK's own retry honour retry-after-ms", async () => {
    const { server } = await setup();
    const client = new OpenAI({ apiKey: "sk-test", baseURL: server.baseURL, maxRetries: 2 });
    server.enqueueFaults([
      { type: "status", status: 429, retryAfterMs: 10 },
      { type: "status", status: 503, retryAfterMs: 10 },
    ]);
    const completion = await client.chat.completions.create(ask("third time"));
    expect(completion.choices[0]?.message.content).toBe("Echo: third time");
    expect(server.requests.map((r) => r.headers["x-stainless-retry-count"])).toEqual(["0", "1", "2"]);
  });

  it("maps 500/503 to InternalServerError and 400 to BadRequestError", async () => {
    const { server, client } = await setup();
    server.enqueueFaults([
      { type: "status", status: 500 },
      { type: "status", status: 503 },
      { type: "status", status: 400, message: "bad thing" },
    ]);
    const e500 = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    const e503 = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    const e400 = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(InternalServerError);
    expect((e500 as APIError).status).toBe(500);
    expect((e500 as APIError).type).toBe("server_error");
    expect((e503 as APIError).status).toBe(503);
    expect(e400).toBeInstanceOf(BadRequestError);
    expect((e400 as APIError).message).toContain("bad thing");
  });

  it("serves the real context-length error", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "context-length" });
    const error = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as APIError).code).toBe("context_length_exceeded");
    expect((error as APIError).param).toBe("messages");
    expect((error as APIError).message).toContain("maximum context length");
  });

  it("surfaces a dropped connection as APIConnectionError", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "drop" });
    const error = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(server.stats.faults.drop).toBe(1);
    expect(server.stats.successes).toBe(0);
  });

  it("delays by a latency fault, then answers normally", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "latency", ms: 120 });
    const started = performance.now();
    const completion = await client.chat.completions.create(ask("slow"));
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(completion.choices[0]?.message.content).toBe("Echo: slow");
    expect(server.stats.successes).toBe(1);
  });

  it("hangs until the client times out", async () => {
    const { server, client } = await setup({}, { timeout: 150 });
    server.enqueueFault({ type: "hang" });
    const error = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.stats.faults.hang).toBe(1);
  });

  it("cut-stream (end): the stream stops early with no finish_reason and no error", async () => {
    const { server, client } = await setup({ reply: () => ({ text: "a b c d e f" }) });
    server.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const stream = await client.chat.completions.create({ ...ask("x"), stream: true });
    const pieces: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? "");
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    // Frame 0 is the role chunk, then two words.
    expect(pieces.join("")).toBe("a b ");
    expect(finish).toBeNull();
    // The SDK's accumulating helper does notice.
    server.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const runner = client.chat.completions.stream({ ...ask("x") });
    await expect(runner.finalChatCompletion()).rejects.toThrow();
  });

  it("cut-stream (destroy): iteration throws a network error", async () => {
    const { server, client } = await setup({ reply: () => ({ text: "a b c d e f" }) });
    server.enqueueFault({ type: "cut-stream", afterChunks: 2, mode: "destroy" });
    const stream = await client.chat.completions.create({ ...ask("x"), stream: true });
    const pieces: string[] = [];
    const iterate = async () => {
      for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? "");
    };
    await expect(iterate()).rejects.toThrow();
    expect(pieces.join("")).toBe("a ");
  });

  it("malformed-chunk: the SDK throws a JSON parse error mid-stream (and logs the frame to its logger)", async () => {
    const logged: string[] = [];
    const log = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    const { server, client } = await setup(
      { reply: () => ({ text: "a b c" }) },
      { logger: { error: log, warn: log, info: log, debug: log } },
    );
    server.enqueueFault({ type: "malformed-chunk", afterChunks: 2 });
    const stream = await client.chat.completions.create({ ...ask("x"), stream: true });
    const pieces: string[] = [];
    const iterate = async () => {
      for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? "");
    };
    await expect(iterate()).rejects.toThrow(SyntaxError);
    expect(pieces.join("")).toBe("a ");
    expect(logged[0]).toMatch(/^Could not parse message into JSON: \{"id": "chatcmpl-broken"/);
  });

  it("cut and malformed faults on a JSON reply fail the call", async () => {
    const { server, client } = await setup();
    server.enqueueFaults([
      { type: "cut-stream", afterChunks: 0 },
      { type: "malformed-chunk", afterChunks: 0 },
    ]);
    await expect(client.chat.completions.create(ask("x"))).rejects.toThrow();
    await expect(client.chat.completions.create(ask("x"))).rejects.toThrow();
    expect(server.stats.successes).toBe(0);
  });

  it("setDown answers 503 to everything (health included) and recovers", async () => {
    const { server, client } = await setup();
    server.setDown(true);
    const health = await client.models.list().catch((e: unknown) => e);
    expect(health).toBeInstanceOf(InternalServerError);
    expect((health as APIError).status).toBe(503);
    server.setDown(false);
    const models = await client.models.list();
    expect(models.data.length).toBeGreaterThan(0);
    expect(server.stats.down).toBe(1);
  });

  it("setDown with downBehavior drop refuses at the socket", async () => {
    const { server, client } = await setup({ downBehavior: "drop" });
    server.setDown(true);
    await expect(client.chat.completions.create(ask("x"))).rejects.toBeInstanceOf(APIConnectionError);
  });

  it("seeded fault rates give the same fault sequence for the same seed", async () => {
    const { server, client } = await setup();
    const run = async (seed: number) => {
      server.setFaultRates({ rateLimit: 0.2, serverError: 0.1, drop: 0.1, cutStream: 0.1 }, seed);
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) {
        try {
          const completion = await client.chat.completions.create(ask(`n${i}`));
          outcomes.push(completion.choices[0]?.message.content === `Echo: n${i}` ? "ok" : "wrong");
        } catch (error) {
          outcomes.push(error instanceof APIError ? String(error.status ?? "conn") : "other");
        }
      }
      return outcomes;
    };
    const first = await run(42);
    const second = await run(42);
    expect(first).toEqual(second);
    expect(first).toContain("ok");
    expect(first).toContain("429");
    expect(first).toContain("conn");
    server.clearFaults();
    const stats = server.stats;
    expect(stats.successes).toBe(first.filter((o) => o === "ok").length * 2);
    expect(stats.faults.status + stats.faults.drop + stats.faults["cut-stream"] + stats.successes).toBe(80);
  });

  it("counts open connections and responses in progress, so a test can prove a client left nothing behind", async () => {
    const { server } = await setup();
    server.enqueueFault({ type: "hang" });
    const controller = new AbortController();
    const pending = fetch(`${server.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-test", "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    // A connection opened ahead of need (as a client's pool may) is open but not used.
    const spare = connect(server.port, "127.0.0.1");
    await new Promise((r) => spare.once("connect", r));
    while (server.activeRequests === 0 || server.openConnections < 2) await new Promise((r) => setTimeout(r, 5));
    expect([server.openConnections, server.usedConnections]).toEqual([2, 1]);
    controller.abort();
    await pending;
    while (server.usedConnections > 0 || server.activeRequests > 0) await new Promise((r) => setTimeout(r, 5));
    expect([server.usedConnections, server.activeRequests]).toEqual([0, 0]);
    // Still open: our spare, and possibly one Node's fetch opened after the abort for its pool.
    expect(server.openConnections).toBeGreaterThanOrEqual(1);
    spare.destroy();
  });

  it("close is idempotent and destroys open sockets", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "hang" });
    const pending = client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([server.close(), server.close()]);
    expect(await pending).toBeInstanceOf(APIConnectionError);
  });
});

describe("startOpenAIServer: Azure OpenAI's path shape, through the SDK's AzureOpenAI client", () => {
  it("serves /openai/deployments/<d>/chat/completions?api-version=… with the api-key header, and /openai/models", async () => {
    const server = await startOpenAIServer({ apiKey: "azure-key-0123456789" });
    servers.push(server);
    const client = new AzureOpenAI({
      apiKey: "azure-key-0123456789",
      endpoint: server.url,
      baseURL: null,
      deployment: "my-gpt",
      apiVersion: "2024-10-21",
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi azure" }],
    });
    expect(completion.choices[0]?.message.content).toBe("Echo: hi azure");
    const request = server.requests.at(-1);
    expect(request?.path).toBe("/openai/deployments/my-gpt/chat/completions");
    expect(request?.query).toBe("?api-version=2024-10-21");
    expect(request?.headers["api-key"]).toBe("azure-key-0123456789");
    expect(request?.headers.authorization).toBeUndefined();
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "one two" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Echo: one two");
    expect((await client.models.list()).data.length).toBeGreaterThan(0);
    expect(server.requests.at(-1)?.path).toBe("/openai/models");
  });

  it("refuses an Azure path without the api-key header (401) or without api-version (404, as Azure does)", async () => {
    const server = await startOpenAIServer({ apiKey: "azure-key-0123456789" });
    servers.push(server);
    const bearerOnly = await fetch(`${server.url}/openai/deployments/d/chat/completions?api-version=2024-10-21`, {
      method: "POST",
      headers: { authorization: "Bearer azure-key-0123456789", "content-type": "application/json" },
      body: JSON.stringify(ask("x")),
    });
    expect(bearerOnly.status).toBe(401);
    const noVersion = await fetch(`${server.url}/openai/deployments/d/chat/completions`, {
      method: "POST",
      headers: { "api-key": "azure-key-0123456789", "content-type": "application/json" },
      body: JSON.stringify(ask("x")),
    });
    expect(noVersion.status).toBe(404);
    expect(await noVersion.json()).toEqual({ error: { code: "404", message: "Resource not found" } });
  });
});

describe("startOpenAIServer: scripted reasoning, as DeepSeek and vLLM send it", () => {
  type WithReasoning = { reasoning_content?: string | null; thinking_blocks?: unknown[] };

  it("sends it as message.reasoning_content, apart from the content", async () => {
    const { client } = await setup({
      reply: ({ lastUserText }) =>
        lastUserText === "x" ? { text: "plain" } : { reasoning: "Paris is the capital of France.", text: "Paris." },
    });
    const completion = await client.chat.completions.create(ask("capital?"));
    const message = completion.choices[0]?.message as (OpenAI.ChatCompletionMessage & WithReasoning) | undefined;
    expect(message?.content).toBe("Paris.");
    expect(message?.reasoning_content).toBe("Paris is the capital of France.");
    expect(message?.thinking_blocks).toBeUndefined();
    // No reasoning scripted: no field.
    const plain = await client.chat.completions.create(ask("x"));
    expect(plain.choices[0]?.message).not.toHaveProperty("reasoning_content");
  });

  it("streams it as delta.reasoning_content word pieces before the content", async () => {
    const { client } = await setup({ reply: () => ({ reasoning: "Paris is the capital.", text: "Paris it is." }) });
    const stream = await client.chat.completions.create({ ...ask("capital?"), stream: true });
    const order: string[] = [];
    let reasoning = "";
    let content = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & WithReasoning) | undefined;
      if (delta?.reasoning_content) {
        order.push("reasoning");
        reasoning += delta.reasoning_content;
      }
      if (delta?.content) {
        order.push("content");
        content += delta.content;
      }
    }
    expect(reasoning).toBe("Paris is the capital.");
    expect(content).toBe("Paris it is.");
    expect(order.lastIndexOf("reasoning")).toBeLessThan(order.indexOf("content"));
    expect(order.filter((o) => o === "reasoning").length).toBeGreaterThan(1);
  });

  it("a block scripted with a signature, or redacted, also goes as LiteLLM's thinking_blocks", async () => {
    const { client } = await setup({
      reply: () => ({
        reasoning: [
          { text: "Let me think.", signature: "sig-1" },
          { text: "", redactedData: "opaque==" },
        ],
        text: "Paris.",
      }),
    });
    const completion = await client.chat.completions.create(ask("capital?"));
    const message = completion.choices[0]?.message as (OpenAI.ChatCompletionMessage & WithReasoning) | undefined;
    expect(message?.reasoning_content).toBe("Let me think.");
    expect(message?.thinking_blocks).toEqual([
      { type: "thinking", thinking: "Let me think.", signature: "sig-1" },
      { type: "redacted_thinking", data: "opaque==" },
    ]);
    const stream = await client.chat.completions.create({ ...ask("capital?"), stream: true });
    const blocks: unknown[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as WithReasoning | undefined;
      if (delta?.thinking_blocks) blocks.push(...delta.thinking_blocks);
    }
    expect(blocks).toEqual([
      { type: "thinking", thinking: "", signature: "sig-1" },
      { type: "redacted_thinking", data: "opaque==" },
    ]);
  });
});
