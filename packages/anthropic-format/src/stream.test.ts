import Anthropic, { APIError, RateLimitError } from "@anthropic-ai/sdk";
import type { StreamChunk } from "@orchestrator-ts/core";
import { afterEach, describe, expect, it } from "vitest";
import { type ResponseTool, toMessagesRequest } from "./request";
import { toMessagesResponse } from "./response";
import { MessagesStreamDecoder, MessagesStreamEncoder, messagesErrorBody, messagesErrorType, sseEvent } from "./stream";
import { type TinyServer, rejectionOf, tinyServer } from "./test-helpers";
import type { MessagesStreamEvent } from "./wire";

const servers: TinyServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that streams `chunks` (core stream chunks) through the encoder, then optionally an error event. */
async function streamingServer(
  chunks: StreamChunk[],
  options: { cutWith?: { type: "overloaded_error"; message: string } } = {},
) {
  const server = await tinyServer((_body, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    const encoder = new MessagesStreamEncoder({ id: "msg_1", model: "gpt-4o-mini" });
    for (const chunk of chunks) for (const event of encoder.encode(chunk)) res.write(sseEvent(event));
    if (options.cutWith) res.write(sseEvent(encoder.error(options.cutWith.type, options.cutWith.message)));
    res.end();
  });
  servers.push(server);
  return { server, client: new Anthropic({ apiKey: "k", baseURL: server.url, maxRetries: 0 }) };
}

const ask = { model: "gpt-4o-mini", max_tokens: 100, messages: [{ role: "user" as const, content: "hi" }] };

const toolAnswer: StreamChunk[] = [
  { type: "text", text: "Let me " },
  { type: "text", text: "check." },
  { type: "tool-call", toolCall: { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo", days: [1, 2] } } },
  { type: "tool-call", toolCall: { id: "toolu_2", name: "get_time", arguments: {} } },
  {
    type: "finish",
    finishReason: { unified: "tool-calls", raw: "tool_calls" },
    usage: { inputTokens: 12, outputTokens: 7 },
  },
];

describe("MessagesStreamEncoder through the real @anthropic-ai/sdk", () => {
  it("writes the API's event order, which the SDK's MessageStream assembles into the whole message (text, tool calls, stop reason, usage)", async () => {
    const { client } = await streamingServer(toolAnswer);
    const stream = client.messages.stream(ask);
    const types: string[] = [];
    stream.on("streamEvent", (event) => types.push(event.type));
    const message = await stream.finalMessage();
    expect(message.id).toBe("msg_1");
    expect(message.model).toBe("gpt-4o-mini");
    expect(message.content).toEqual([
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo", days: [1, 2] } },
      { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage.input_tokens).toBe(12);
    expect(message.usage.output_tokens).toBe(7);
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("calls whose pieces interleave (as some AI SDK providers stream them) reach the SDK whole, in the order each was complete", async () => {
    const interleaved: StreamChunk[] = [
      { type: "tool-input-start", id: "call_a", name: "get_weather" },
      { type: "tool-input-delta", id: "call_a", delta: '{"city":' },
      { type: "tool-input-start", id: "call_b", name: "get_time" },
      { type: "tool-input-delta", id: "call_b", delta: '{"zone":' },
      { type: "text", text: "Checking both." },
      { type: "tool-input-delta", id: "call_a", delta: '"Oslo"}' },
      { type: "tool-input-delta", id: "call_b", delta: '"CET"}' },
      { type: "tool-call", toolCall: { id: "call_b", name: "get_time", arguments: { zone: "CET" } } },
      { type: "tool-call", toolCall: { id: "call_a", name: "get_weather", arguments: { city: "Oslo" } } },
      {
        type: "finish",
        finishReason: { unified: "tool-calls", raw: "tool_calls" },
        usage: { inputTokens: 5, outputTokens: 9 },
      },
    ];
    const { client } = await streamingServer(interleaved);
    const message = await client.messages.stream(ask).finalMessage();
    // Before: call_b's start closed call_a's block after its first piece ('{"city":'), which the SDK could not parse.
    expect(message.content).toEqual([
      { type: "tool_use", id: "call_a", name: "get_weather", input: { city: "Oslo" } },
      { type: "text", text: "Checking both." },
      { type: "tool_use", id: "call_b", name: "get_time", input: { zone: "CET" } },
    ]);
    expect(message.stop_reason).toBe("tool_use");
  });

  it("round trip: core chunks → events → the SDK's raw stream → MessagesStreamDecoder → the same core chunks", async () => {
    const { client } = await streamingServer(toolAnswer);
    const stream = await client.messages.create({ ...ask, stream: true });
    const decoder = new MessagesStreamDecoder({ provider: "anthropic", model: "m" });
    const out: StreamChunk[] = [];
    for await (const event of stream) decoder.push(event, out);
    out.push(decoder.end());
    expect(out).toEqual([
      { type: "text", text: "Let me " },
      { type: "text", text: "check." },
      toolAnswer[2],
      toolAnswer[3],
      // The raw reason is Anthropic's now; the meaning is the same.
      {
        type: "finish",
        finishReason: { unified: "tool-calls", raw: "tool_use" },
        usage: { inputTokens: 12, outputTokens: 7 },
        // message_start's id, which the conventions record as gen_ai.response.id.
        responseId: "msg_1",
      },
    ]);
  });

  it("an empty answer is one empty text block; a length stop is max_tokens; unknown counts are left out, not made up", async () => {
    const { client } = await streamingServer([{ type: "finish", finishReason: { unified: "length", raw: "length" } }]);
    const message = await client.messages.stream(ask).finalMessage();
    expect(message.content).toEqual([{ type: "text", text: "" }]);
    expect(message.stop_reason).toBe("max_tokens");
    const events = new MessagesStreamEncoder({ id: "m", model: "x" }).encode({ type: "finish" });
    expect(events.find((e) => e.type === "message_delta")).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: {},
    });
  });

  it("text after a tool call opens a new block; every block is closed once", () => {
    const encoder = new MessagesStreamEncoder({ id: "m", model: "x" });
    const events: MessagesStreamEvent[] = [];
    for (const chunk of [
      { type: "tool-call", toolCall: { id: "t", name: "f", arguments: "not json" } },
      { type: "text", text: "done" },
      { type: "finish" },
    ] as StreamChunk[]) {
      events.push(...encoder.encode(chunk));
    }
    const summary = events.map((e) =>
      e.type === "content_block_start" || e.type === "content_block_stop" ? `${e.type}:${e.index}` : e.type,
    );
    expect(summary).toEqual([
      "message_start",
      "content_block_start:0",
      "content_block_delta",
      "content_block_stop:0",
      "content_block_start:1",
      "content_block_delta",
      "content_block_stop:1",
      "message_delta",
      "message_stop",
    ]);
    // Arguments that are not an object (invalid JSON kept raw) go as {}: the wire's input is an object.
    expect(events[2]).toEqual({
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: "{}" },
    });
    // After a tool call with no finish reason given, the stop reason says so.
    expect(events.find((e) => e.type === "message_delta")).toMatchObject({ delta: { stop_reason: "tool_use" } });
    expect(encoder.finished).toBe(true);
  });

  it("a stream cut mid-way ends with an error event: the SDK throws it as an APIError with the type, after the text that came", async () => {
    const { client } = await streamingServer([{ type: "text", text: "partial" }], {
      cutWith: { type: "overloaded_error", message: "upstream cut" },
    });
    const stream = await client.messages.create({ ...ask, stream: true });
    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const event of stream)
          if (event.type === "content_block_delta" && event.delta.type === "text_delta") seen.push(event.delta.text);
      })(),
    );
    expect(seen).toEqual(["partial"]);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).type).toBe("overloaded_error");
    expect((error as APIError).message).toContain("upstream cut");
  });

  it("a ping anywhere is skipped by the SDK", async () => {
    const server = await tinyServer((_body, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const encoder = new MessagesStreamEncoder({ id: "msg_p", model: "m" });
      res.write(sseEvent(encoder.start({ input_tokens: 3, output_tokens: 1 })));
      res.write(sseEvent(encoder.ping()));
      for (const event of encoder.text("hi")) res.write(sseEvent(event));
      res.write(sseEvent(encoder.ping()));
      for (const event of encoder.finish("end_turn", { outputTokens: 1 })) res.write(sseEvent(event));
      res.end();
    });
    servers.push(server);
    const message = await new Anthropic({ apiKey: "k", baseURL: server.url, maxRetries: 0 }).messages
      .stream(ask)
      .finalMessage();
    expect(message.content).toEqual([{ type: "text", text: "hi" }]);
    expect(message.usage).toMatchObject({ input_tokens: 3, output_tokens: 1 });
  });
});

describe("the decoder's own rules", () => {
  it("a stream without message_stop is a retryable ProviderError, never a complete answer", () => {
    const decoder = new MessagesStreamDecoder({ provider: "anthropic", model: "claude" });
    const encoder = new MessagesStreamEncoder({ id: "m", model: "x" });
    const out: StreamChunk[] = [];
    for (const event of [encoder.start(), ...encoder.text("cut")]) decoder.push(event, out);
    expect(out).toEqual([{ type: "text", text: "cut" }]);
    expect(decoder.stopped).toBe(false);
    expect(() => decoder.end()).toThrow(expect.objectContaining({ code: "provider_error", retryable: true }));
  });

  it("structured output: the response tool's input is the text (streamed as it comes, or whole when it was wrapped), and tool_use means stop", () => {
    for (const [tool, expected] of [
      [{ name: "json_response", wrapped: false }, ['{"a":', "1}"]],
      [{ name: "json_response", wrapped: true }, ["[1,2]"]],
    ] as [ResponseTool, string[]][]) {
      const encoder = new MessagesStreamEncoder({ id: "m", model: "x" });
      const decoder = new MessagesStreamDecoder({ provider: "anthropic", model: "claude", responseTool: tool });
      const input = tool.wrapped ? ['{"value":', "[1,2]}"] : ['{"a":', "1}"];
      const out: StreamChunk[] = [];
      for (const event of [
        encoder.start(),
        ...encoder.toolCall({ id: "t", name: "json_response", arguments: {} }, input),
        ...encoder.finish("tool_use"),
      ])
        decoder.push(event, out);
      out.push(decoder.end());
      expect(out.filter((c) => c.type === "text").map((c) => (c as { text: string }).text)).toEqual(expected);
      expect(out.some((c) => c.type === "tool-call")).toBe(false);
      expect(out.at(-1)).toMatchObject({ finishReason: { unified: "stop", raw: "tool_use" } });
    }
  });

  it("counts are cumulative: message_delta's replace message_start's; cache reads and writes are part of the prompt", () => {
    const decoder = new MessagesStreamDecoder({ provider: "anthropic", model: "claude" });
    const encoder = new MessagesStreamEncoder({ id: "m", model: "x" });
    const out: StreamChunk[] = [];
    const events = [
      encoder.start({ input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 1 }),
      ...encoder.text("x"),
      ...encoder.finish(
        { unified: "stop" },
        { inputTokens: 125, cacheWriteInputTokens: 20, cacheReadInputTokens: 100, outputTokens: 9 },
      ),
    ];
    for (const event of events) decoder.push(event, out);
    expect(events.find((e) => e.type === "message_delta")).toMatchObject({
      usage: { input_tokens: 5, cache_creation_input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 9 },
    });
    expect(decoder.rawUsage).toEqual({
      input_tokens: 5,
      cache_creation_input_tokens: 20,
      cache_read_input_tokens: 100,
      output_tokens: 9,
    });
    expect(decoder.end().usage).toEqual({
      inputTokens: 125,
      outputTokens: 9,
      cacheReadInputTokens: 100,
      cacheWriteInputTokens: 20,
    });
  });
});

describe("error bodies", () => {
  it("a status renders as Anthropic's error body, which the SDK maps to its error class and type", async () => {
    const server = await tinyServer((_body, res) => {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "7" });
      res.end(JSON.stringify(messagesErrorBody(messagesErrorType(429), "Key budget exceeded.")));
    });
    servers.push(server);
    const error = await rejectionOf(
      new Anthropic({ apiKey: "k", baseURL: server.url, maxRetries: 0 }).messages.create(ask),
    );
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).type).toBe("rate_limit_error");
    expect((error as RateLimitError).message).toContain("Key budget exceeded.");
    expect((error as RateLimitError).headers.get("retry-after")).toBe("7");
  });

  it("maps every status the gateway answers with", () => {
    expect([400, 401, 402, 403, 404, 413, 429, 500, 502, 503, 504, 529, 418].map(messagesErrorType)).toEqual([
      "invalid_request_error",
      "authentication_error",
      "billing_error",
      "permission_error",
      "not_found_error",
      "request_too_large",
      "rate_limit_error",
      "api_error",
      "api_error",
      "overloaded_error",
      "timeout_error",
      "overloaded_error",
      "invalid_request_error",
    ]);
    expect(messagesErrorBody("api_error", "boom", "req_1")).toEqual({
      type: "error",
      error: { type: "api_error", message: "boom" },
      request_id: "req_1",
    });
  });
});

describe("non-streamed messages through the real SDK", () => {
  it("toMessagesResponse: the SDK reads text, tool_use blocks, the stop reason and usage with cache counts", async () => {
    const server = await tinyServer((_body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const body = toMessagesResponse(
        {
          text: "Checking.",
          toolCalls: [{ id: "toolu_9", name: "lookup", arguments: '{"q":"x"}' }],
          usage: { inputTokens: 130, outputTokens: 4, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 },
          finishReason: { unified: "tool-calls" },
        },
        { id: "msg_9", model: "claude-x" },
      );
      res.end(JSON.stringify(body));
    });
    servers.push(server);
    const client = new Anthropic({ apiKey: "k", baseURL: server.url, maxRetries: 0 });
    const message = await client.messages.create(ask);
    expect(message).toMatchObject({
      id: "msg_9",
      type: "message",
      role: "assistant",
      model: "claude-x",
      content: [
        { type: "text", text: "Checking." },
        { type: "tool_use", id: "toolu_9", name: "lookup", input: { q: "x" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 4 },
    });
    // The request the SDK sent is what toMessagesRequest writes for the same conversation.
    const { params } = toMessagesRequest(
      { messages: [{ role: "user", content: "hi" }], maxTokens: 100 },
      { model: "gpt-4o-mini", maxTokens: 1 },
    );
    expect(server.bodies[0]).toEqual({ ...params, messages: [{ role: "user", content: "hi" }] });
  });
});
