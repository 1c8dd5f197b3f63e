import { rejectionOf } from "../helpers";
import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  type APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  RateLimitError,
  ServiceUnavailableError,
} from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { signatureOf as anthropicSignature, startAnthropicServer } from "./anthropic-server";
import type { AnthropicServer, AnthropicServerOptions } from "./anthropic-server";

const servers: AnthropicServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(
  options: AnthropicServerOptions = {},
  clientOptions: ConstructorParameters<typeof Anthropic>[0] = {},
) {
  const server = await startAnthropicServer({ apiKey: "sk-ant-test", ...options });
  servers.push(server);
  const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: server.baseURL, maxRetries: 0, ...clientOptions });
  return { server, client };
}

const ask = (content: string) => ({
  model: "claude-sonnet-4-6",
  max_tokens: 256,
  messages: [{ role: "user" as const, content }],
});

describe("startAnthropicServer through @anthropic-ai/sdk", () => {
  it("answers a plain call and records what the SDK sends", async () => {
    const { server, client } = await setup();
    const message = await client.messages.create({ ...ask("hello world"), system: "be terse" });
    expect(message.content).toEqual([{ type: "text", text: "Echo: hello world" }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.input_tokens).toBe(4);
    expect(message.usage.output_tokens).toBe(3);
    const recorded = server.requests[0];
    expect(recorded?.path).toBe("/v1/messages");
    // What SDK 1.14 really sends: the key as a Bearer token and its own anthropic-version.
    expect(recorded?.headers.authorization).toBe("Bearer sk-ant-test");
    expect(recorded?.headers["anthropic-version"]).toEqual(expect.any(String));
    expect(server.stats.successes).toBe(1);
  });

  it("accepts the key as x-api-key too", async () => {
    const { server } = await setup();
    const response = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify(ask("raw")),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Anthropic.Message).content[0]).toEqual({ type: "text", text: "Echo: raw" });
    const noVersion = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "sk-ant-test", "content-type": "application/json" },
      body: JSON.stringify(ask("raw")),
    });
    expect(noVersion.status).toBe(400);
  });

  it("streams the real event sequence; text deltas concatenate to the text", async () => {
    const { client } = await setup({ reply: () => ({ text: "alpha beta\n gamma" }) });
    const stream = await client.messages.create({ ...ask("x"), stream: true });
    const types: string[] = [];
    let text = "";
    let deltas = 0;
    let outputTokens: number | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
        text += event.delta.text;
        deltas++;
      }
      if (event.type === "message_delta") outputTokens = event.usage.output_tokens;
    }
    expect(text).toBe("alpha beta\n gamma");
    expect(deltas).toBe(3);
    expect(outputTokens).toBe(3);
    expect(types[0]).toBe("message_start");
    expect(types[1]).toBe("content_block_start");
    expect(types.at(-3)).toBe("content_block_stop");
    expect(types.at(-2)).toBe("message_delta");
    expect(types.at(-1)).toBe("message_stop");
  });

  it("returns tool_use blocks, JSON and streamed (input_json_delta), through the SDK's MessageStream", async () => {
    const { client } = await setup({
      reply: () => ({ text: "Let me check.", toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] }),
    });
    const tools: Anthropic.Tool[] = [{ name: "get_weather", input_schema: { type: "object", properties: {} } }];
    const message = await client.messages.create({ ...ask("weather?"), tools });
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content[0]).toEqual({ type: "text", text: "Let me check." });
    expect(message.content[1]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });

    const final = await client.messages.stream({ ...ask("weather?"), tools }).finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const toolUse = final.content.find((b) => b.type === "tool_use");
    expect(toolUse).toMatchObject({ name: "get_weather", input: { city: "Paris" } });
    expect(toolUse?.type === "tool_use" && toolUse.id).toMatch(/^toolu_/);
  });

  it("leaves the usage counts out when the reply says usage: null", async () => {
    const { client } = await setup({ reply: () => ({ text: "a b", usage: null }) });
    const message = await client.messages.create(ask("x"));
    expect(message.usage.input_tokens).toBeUndefined();
    expect(message.usage.output_tokens).toBeUndefined();
    const final = await client.messages.stream(ask("x")).finalMessage();
    expect(final.usage.output_tokens).toBeUndefined();
    expect(final.content[0]).toEqual({ type: "text", text: "a b" });
  });

  it("maps max_tokens truncation to stop_reason max_tokens", async () => {
    const { client } = await setup();
    const message = await client.messages.create({ ...ask("a b c d"), max_tokens: 2 });
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.content[0]).toEqual({ type: "text", text: "Echo: a " });
  });

  it("stops at the first of stop_sequences as the API does: the text before it, stop_reason stop_sequence and which one matched", async () => {
    const { client } = await setup({ reply: () => ({ text: "one two STOP three END" }) });
    const request = { ...ask("x"), stop_sequences: ["END", "STOP"] };
    const message = await client.messages.create(request);
    expect(message.content).toEqual([{ type: "text", text: "one two " }]);
    expect([message.stop_reason, message.stop_sequence]).toEqual(["stop_sequence", "STOP"]);
    const final = await client.messages.stream(request).finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "one two " }]);
    expect([final.stop_reason, final.stop_sequence]).toEqual(["stop_sequence", "STOP"]);
    const none = await client.messages.create({ ...ask("x"), stop_sequences: ["NEVER"] });
    expect([none.stop_reason, none.stop_sequence]).toEqual(["end_turn", null]);
  });

  it("serves GET /v1/models for health", async () => {
    const { client } = await setup({ models: ["claude-a", "claude-b"] });
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(["claude-a", "claude-b"]);
  });

  it("rejects a wrong key with authentication_error", async () => {
    const { client } = await setup({}, { apiKey: "wrong" });
    const error = await rejectionOf(client.messages.create(ask("x")));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as APIError).type).toBe("authentication_error");
  });

  it("surfaces 429 as RateLimitError with retry-after", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 3 });
    const error = await rejectionOf(client.messages.create(ask("x")));
    expect(error).toBeInstanceOf(RateLimitError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(429);
    expect(apiError.headers?.get("retry-after")).toBe("3");
    expect(apiError.headers?.get("retry-after-ms")).toBeNull();
    expect(apiError.type).toBe("rate_limit_error");
    expect(apiError.requestID).toMatch(/^req_/);
  });

  it("surfaces 529 as overloaded_error and 500 as api_error", async () => {
    const { server, client } = await setup();
    server.enqueueFaults([
      { type: "status", status: 529 },
      { type: "status", status: 500 },
    ]);
    const overloaded = await rejectionOf(client.messages.create(ask("x")));
    expect(overloaded).toBeInstanceOf(OverloadedError);
    expect((overloaded as APIError).status).toBe(529);
    expect((overloaded as APIError).type).toBe("overloaded_error");
    const internal = await rejectionOf(client.messages.create(ask("x")));
    expect(internal).toBeInstanceOf(InternalServerError);
    expect((internal as APIError).type).toBe("api_error");
  });

  it("serves the real context-length error", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "context-length" });
    const error = await rejectionOf(client.messages.create(ask("x")));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as APIError).type).toBe("invalid_request_error");
    expect((error as APIError).message).toContain("prompt is too long");
  });

  it("surfaces a drop as APIConnectionError and a hang as a timeout", async () => {
    const { server, client } = await setup({}, { timeout: 150 });
    server.enqueueFaults([{ type: "drop" }, { type: "hang" }]);
    expect(await rejectionOf(client.messages.create(ask("x")))).toBeInstanceOf(APIConnectionError);
    expect(await rejectionOf(client.messages.create(ask("x")))).toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.stats.faults.drop).toBe(1);
    expect(server.stats.faults.hang).toBe(1);
  });

  it("cut-stream without message_stop: raw iteration ends quietly, MessageStream rejects", async () => {
    const { server, client } = await setup({ reply: () => ({ text: "a b c d" }) });
    server.enqueueFault({ type: "cut-stream", afterChunks: 5 });
    const stream = await client.messages.create({ ...ask("x"), stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).not.toContain("message_stop");
    expect(types).not.toContain("message_delta");

    server.enqueueFault({ type: "cut-stream", afterChunks: 5 });
    await expect(client.messages.stream(ask("x")).finalMessage()).rejects.toThrow(
      /stream ended without producing a Message/,
    );
  });

  it("cut-stream in destroy mode and malformed chunks make iteration throw", async () => {
    const logged: string[] = [];
    const log = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    const { server, client } = await setup(
      { reply: () => ({ text: "a b c d" }) },
      { logger: { error: log, warn: log, info: log, debug: log } },
    );
    server.enqueueFaults([
      { type: "cut-stream", afterChunks: 4, mode: "destroy" },
      { type: "malformed-chunk", afterChunks: 4 },
    ]);
    const drain = async () => {
      const stream = await client.messages.create({ ...ask("x"), stream: true });
      for await (const event of stream) void event;
    };
    await expect(drain()).rejects.toThrow();
    await expect(drain()).rejects.toThrow(SyntaxError);
    // The SDK reports the broken frame to its logger (not to the test's stderr).
    expect(logged[0]).toMatch(/^Could not parse message into JSON: \{"type": "content_block_delta"/);
  });

  it("setDown answers 503 (api_error) and recovers", async () => {
    const { server, client } = await setup();
    server.setDown(true);
    const error = await rejectionOf(client.models.list());
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as APIError).status).toBe(503);
    expect((error as APIError).type).toBe("api_error");
    server.setDown(false);
    const message = await client.messages.create(ask("back"));
    expect(message.content[0]).toEqual({ type: "text", text: "Echo: back" });
  });
});

describe("extended thinking, as the API does it", () => {
  const weatherTurn = {
    reply: () => ({
      reasoning: "The user wants the weather in Oslo.",
      text: "",
      toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } }],
    }),
  };
  const thinking = { type: "enabled" as const, budget_tokens: 1024 };
  const think = (content: string) => ({ ...ask(content), max_tokens: 2000, thinking });
  const tools = [{ name: "get_weather", input_schema: { type: "object" as const } }];

  it("answers with a signed thinking block first (whole and streamed) only when the request turned thinking on", async () => {
    const { client } = await setup(weatherTurn);
    const message = await client.messages.create({ ...think("weather?"), tools });
    expect(message.content[0]).toEqual({
      type: "thinking",
      thinking: "The user wants the weather in Oslo.",
      signature: anthropicSignature("The user wants the weather in Oslo."),
    });
    const streamed = await client.messages.stream({ ...think("weather?"), tools }).finalMessage();
    expect(streamed.content).toEqual(message.content);
    const plain = await client.messages.create({ ...ask("weather?"), tools });
    expect(plain.content.map((b) => b.type)).toEqual(["tool_use"]);
  });

  it("refuses a tool turn given back without its thinking block, or with a thinking block changed", async () => {
    const { client } = await setup(weatherTurn);
    const first = await client.messages.create({ ...think("weather?"), tools });
    const result = {
      role: "user" as const,
      content: [{ type: "tool_result" as const, tool_use_id: "toolu_1", content: "-3" }],
    };
    const next = (content: typeof first.content) => ({
      ...think("weather?"),
      tools,
      messages: [{ role: "user" as const, content: "weather?" }, { role: "assistant" as const, content }, result],
    });
    await expect(client.messages.create(next(first.content))).resolves.toMatchObject({ type: "message" });
    const dropped = await rejectionOf(client.messages.create(next(first.content.slice(1))));
    expect(dropped).toBeInstanceOf(BadRequestError);
    expect(String(dropped)).toContain("a final `assistant` message must start with a thinking block");
    const changed = first.content.map((b) => (b.type === "thinking" ? { ...b, thinking: "something else" } : b));
    const tampered = await rejectionOf(client.messages.create(next(changed)));
    expect(tampered).toBeInstanceOf(BadRequestError);
    expect(String(tampered)).toContain("Invalid `signature` in `thinking` block");
  });

  it("interleaved thinking: writes blocks after the tool calls they followed, and refuses a turn with one moved (redacted too)", async () => {
    const { client } = await setup({
      reply: () => ({
        reasoning: [{ text: "Oslo first." }, { text: "", redactedData: "opaque", afterToolCalls: 1 }],
        toolCalls: [
          { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } },
          { id: "toolu_2", name: "get_weather", arguments: { city: "Bergen" } },
        ],
      }),
    });
    const first = await client.messages.create({ ...think("weather?"), tools });
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "tool_use", "redacted_thinking", "tool_use"]);
    const streamed = await client.messages.stream({ ...think("weather?"), tools }).finalMessage();
    expect(streamed.content).toEqual(first.content);
    const results = {
      role: "user" as const,
      content: ["toolu_1", "toolu_2"].map((id) => ({ type: "tool_result" as const, tool_use_id: id, content: "-3" })),
    };
    const next = (content: typeof first.content) => ({
      ...think("weather?"),
      tools,
      messages: [{ role: "user" as const, content: "weather?" }, { role: "assistant" as const, content }, results],
    });
    await expect(client.messages.create(next(first.content))).resolves.toMatchObject({ type: "message" });
    const [a, b, c, d] = first.content;
    const moved = await rejectionOf(client.messages.create(next([a, c, b, d] as typeof first.content)));
    expect(String(moved)).toContain("thinking blocks cannot be rearranged");
  });

  it("refuses what the API refuses with thinking on: max_tokens not above the budget, a budget under 1024, a forced tool; accepts a scripted signature it issued", async () => {
    const { client } = await setup({
      reply: () => ({
        reasoning: [{ text: "Scripted.", signature: "sig-scripted" }],
        toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: {} }],
      }),
    });
    const refused = async (body: object) => String(await rejectionOf(client.messages.create(body as never)));
    expect(await refused({ ...ask("q"), max_tokens: 1024, thinking })).toContain(
      "`max_tokens` must be greater than `thinking.budget_tokens`",
    );
    expect(await refused({ ...think("q"), thinking: { type: "enabled", budget_tokens: 500 } })).toContain(
      "greater than or equal to 1024",
    );
    expect(await refused({ ...think("q"), tools, tool_choice: { type: "any" } })).toContain(
      "Thinking may not be enabled when tool_choice forces tool use.",
    );
    const first = await client.messages.create({ ...think("q"), tools });
    expect(first.content[0]).toEqual({ type: "thinking", thinking: "Scripted.", signature: "sig-scripted" });
    const result = {
      role: "user" as const,
      content: [{ type: "tool_result" as const, tool_use_id: "toolu_1", content: "x" }],
    };
    await expect(
      client.messages.create({
        ...think("q"),
        tools,
        messages: [{ role: "user", content: "q" }, { role: "assistant", content: first.content }, result],
      }),
    ).resolves.toMatchObject({ type: "message" });
  });
});
