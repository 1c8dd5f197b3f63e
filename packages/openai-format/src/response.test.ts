import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { StreamChunk } from "@orchestrator-ts/core";
import OpenAI from "openai";
import type {
  ChatCompletion as SdkCompletion,
  ChatCompletionChunk as SdkChunk,
} from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fromChatCompletion,
  fromChatFinishReason,
  fromChatUsage,
  toChatCompletion,
  toChatFinishReason,
  toChatUsage,
} from "./response";
import { ChatStreamDecoder, ChatStreamEncoder, SSE_DONE, sseFrame } from "./stream";
import type { ChatIdentity } from "./wire";

const identity: ChatIdentity = {
  id: "chatcmpl-1",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  systemFingerprint: "fp_test",
};

describe("finish reasons", () => {
  it.each([
    ["stop", { unified: "stop", raw: "stop" }],
    ["length", { unified: "length", raw: "length" }],
    ["tool_calls", { unified: "tool-calls", raw: "tool_calls" }],
    ["function_call", { unified: "tool-calls", raw: "function_call" }],
    ["content_filter", { unified: "content-filter", raw: "content_filter" }],
    ["eos_token", { unified: "stop", raw: "eos_token" }],
    ["stop_sequence", { unified: "stop", raw: "stop_sequence" }],
    ["weird", { unified: "other", raw: "weird" }],
  ])("wire %s → %o", (raw, expected) => {
    expect(fromChatFinishReason(raw)).toEqual(expected);
  });

  it('absent and empty ("") mean "not reported": undefined, not other', () => {
    expect(fromChatFinishReason(null)).toBeUndefined();
    expect(fromChatFinishReason(undefined)).toBeUndefined();
    expect(fromChatFinishReason("")).toBeUndefined();
  });

  it("core → wire", () => {
    expect(toChatFinishReason({ unified: "tool-calls" })).toBe("tool_calls");
    expect(toChatFinishReason("content-filter")).toBe("content_filter");
    expect(toChatFinishReason({ unified: "stop", raw: "eos_token" })).toBe("stop");
    expect(toChatFinishReason({ unified: "other", raw: "weird" })).toBe("stop");
    expect(toChatFinishReason(undefined)).toBe("stop");
  });
});

describe("usage", () => {
  it("is undefined when the wire has none, never a made-up 0", () => {
    expect(fromChatUsage(null)).toBeUndefined();
    expect(fromChatUsage({ prompt_tokens: 3, completion_tokens: 4 })).toEqual({ inputTokens: 3, outputTokens: 4 });
    // What an OpenAI-compatible server may put there that is not a count is not reported.
    expect(fromChatUsage({ prompt_tokens: "n/a" as unknown as number, completion_tokens: -1 })).toEqual({
      inputTokens: undefined,
      outputTokens: undefined,
    });
    expect(toChatUsage({ inputTokens: 3 })).toBeUndefined();
    expect(toChatUsage({ inputTokens: 3, outputTokens: 4 })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
    });
  });

  it("cached prompt tokens (prompt_tokens_details.cached_tokens) are part of the input, both ways", () => {
    const wire = { prompt_tokens: 1200, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 1024 } };
    expect(fromChatUsage(wire)).toEqual({ inputTokens: 1200, outputTokens: 8, cacheReadInputTokens: 1024 });
    expect(toChatUsage({ inputTokens: 1200, outputTokens: 8, cacheReadInputTokens: 1024 })).toEqual({
      ...wire,
      total_tokens: 1208,
    });
    // No count (some servers send null) and OpenAI's 0 on every call without a hit: nothing to report.
    expect(
      fromChatUsage({ prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: { cached_tokens: null } }),
    ).toEqual({ inputTokens: 5, outputTokens: 1 });
    expect(
      fromChatUsage({ prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 0 } }),
    ).toEqual({ inputTokens: 5, outputTokens: 1 });
  });
});

describe("completions", () => {
  it("reads text, tool calls (object arguments too, as TGI sends them), usage and finish reason", () => {
    const output = fromChatCompletion({
      choices: [
        {
          message: {
            content: null,
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "a", arguments: '{"x":1}' } },
              { id: "call_2", function: { name: "b", arguments: { y: 2 } } },
              { id: "call_3", type: "function", function: { name: "c", arguments: '{"broken' } },
              { id: "call_4", type: "custom", function: { name: "d" } },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 6 },
    });
    expect(output).toEqual({
      text: "",
      toolCalls: [
        { id: "call_1", name: "a", arguments: { x: 1 } },
        { id: "call_2", name: "b", arguments: { y: 2 } },
        { id: "call_3", name: "c", arguments: '{"broken' },
      ],
      usage: { inputTokens: 5, outputTokens: 6 },
      finishReason: { unified: "tool-calls", raw: "tool_calls" },
    });
    expect(fromChatCompletion({ choices: [] })).toEqual({ text: "" });
    expect(fromChatCompletion({ id: "chatcmpl-9", choices: [] })).toEqual({ text: "", responseId: "chatcmpl-9" });
  });

  it("writes a result as a chat.completion the openai SDK's types accept, and reads it back", () => {
    const result = {
      text: "",
      toolCalls: [{ id: "call_1", name: "get_weather", arguments: { city: "Oslo" } }],
      usage: { inputTokens: 2, outputTokens: 3 },
      finishReason: { unified: "tool-calls" as const },
    };
    const wire: SdkCompletion = toChatCompletion(result, identity);
    expect(wire).toEqual({
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1_700_000_000,
      model: "gpt-4o-mini",
      system_fingerprint: "fp_test",
      choices: [
        {
          index: 0,
          logprobs: null,
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: null,
            refusal: null,
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
    });
    expect(fromChatCompletion(wire)).toEqual({
      ...result,
      finishReason: { unified: "tool-calls", raw: "tool_calls" },
      responseId: "chatcmpl-1",
    });
  });
});

describe("streams", () => {
  const pieces: StreamChunk[] = [
    { type: "text", text: "It is " },
    { type: "text", text: "cold." },
    { type: "tool-call", toolCall: { id: "call_a", name: "get_weather", arguments: { city: "Oslo" } } },
    { type: "tool-call", toolCall: { id: "call_b", name: "get_weather", arguments: { city: "Bergen" } } },
    {
      type: "finish",
      finishReason: { unified: "tool-calls", raw: "tool_calls" },
      usage: { inputTokens: 7, outputTokens: 9 },
    },
  ];

  const encodeAll = (chunks: readonly StreamChunk[], includeUsage: boolean) => {
    const encoder = new ChatStreamEncoder(identity, { includeUsage });
    return chunks.flatMap((c) => encoder.encode(c));
  };

  it("core → wire chunks → core gives the same stream", () => {
    const wire: SdkChunk[] = encodeAll(pieces, true);
    expect(wire[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "", refusal: null });
    expect(wire.every((c) => c.object === "chat.completion.chunk" && c.id === "chatcmpl-1")).toBe(true);
    // With include_usage every chunk says usage: null, and the usage comes last, in a chunk without choices.
    expect(wire.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(wire.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 },
    });
    const decoder = new ChatStreamDecoder({ provider: "p", model: "m" });
    const out: StreamChunk[] = [];
    for (const chunk of wire) decoder.push(chunk, out);
    decoder.end(out);
    // The round trip gives back every piece, and the finish learns the stream's id.
    expect(out).toEqual(pieces.map((p) => (p.type === "finish" ? { ...p, responseId: "chatcmpl-1" } : p)));
  });

  it("textFrame is sseFrame(text(…)) byte for byte, whatever the text and options", () => {
    for (const options of [{}, { includeUsage: true }]) {
      for (const id of [{ id: identity.id, created: identity.created, model: identity.model }, identity]) {
        const encoder = new ChatStreamEncoder(id, options);
        for (const text of [
          "hello",
          "",
          'quotes " and \\ backslashes',
          "line\nbreak",
          "emoji 🎉 and \u2028",
          '"content":"x"',
        ]) {
          expect(encoder.textFrame(text)).toBe(sseFrame(encoder.text(text)));
        }
      }
    }
  });

  it("assembles tool-call arguments streamed in pieces, a call at a time", () => {
    const encoder = new ChatStreamEncoder(identity);
    const wire = [
      encoder.start(true),
      ...encoder.toolCall({ id: "call_a", name: "f", arguments: '{"city":"Oslo","n":1}' }, [
        '{"ci',
        'ty":"Os',
        'lo","n":1}',
      ]),
      ...encoder.toolCall({ id: "call_b", name: "f", arguments: "{}" }),
      ...encoder.finish(undefined),
    ];
    expect(wire[0]?.choices[0]?.delta.content).toBeNull();
    expect(wire.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
    const decoder = new ChatStreamDecoder({ provider: "p", model: "m" });
    const seen: StreamChunk[][] = wire.map((chunk) => {
      const out: StreamChunk[] = [];
      decoder.push(chunk, out);
      return out;
    });
    // The first call completes when the second starts; the second at the finish reason.
    expect(seen[5]).toEqual([
      { type: "tool-call", toolCall: { id: "call_a", name: "f", arguments: { city: "Oslo", n: 1 } } },
    ]);
    expect(seen.at(-1)).toEqual([{ type: "tool-call", toolCall: { id: "call_b", name: "f", arguments: {} } }]);
  });

  it("a stream without a finish reason is a retryable ProviderError naming provider and model", () => {
    const decoder = new ChatStreamDecoder({ provider: "openai", model: "gpt-x" });
    const out: StreamChunk[] = [];
    for (const chunk of encodeAll(pieces.slice(0, 2), false)) decoder.push(chunk, out);
    expect(() => decoder.end(out)).toThrow(
      expect.objectContaining({
        name: "ProviderError",
        retryable: true,
        provider: "openai",
        model: "gpt-x",
        message: expect.stringMatching(/ended before completion/),
      }),
    );
  });
});

describe("the real openai SDK reads what this package writes", () => {
  let server: Server;
  let client: OpenAI;
  const result = {
    text: "Hello there, friend.",
    usage: { inputTokens: 4, outputTokens: 3 },
    finishReason: { unified: "stop" as const },
  };
  const streamed: StreamChunk[] = [
    { type: "text", text: "Hello " },
    { type: "text", text: "there." },
    { type: "finish", finishReason: { unified: "length", raw: "length" }, usage: { inputTokens: 4, outputTokens: 2 } },
  ];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk));
      req.on("end", () => {
        const body = JSON.parse(text) as { stream?: boolean; stream_options?: { include_usage?: boolean } };
        if (!body.stream) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(toChatCompletion(result, identity)));
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        const encoder = new ChatStreamEncoder(identity, { includeUsage: body.stream_options?.include_usage === true });
        for (const chunk of streamed) for (const wire of encoder.encode(chunk)) res.write(sseFrame(wire));
        res.end(SSE_DONE);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    client = new OpenAI({
      apiKey: "sk-test",
      baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("a completion", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]?.message.content).toBe("Hello there, friend.");
    expect(completion.usage?.total_tokens).toBe(7);
    expect(fromChatCompletion(completion)).toEqual({
      text: result.text,
      usage: result.usage,
      finishReason: { unified: "stop", raw: "stop" },
      responseId: identity.id,
    });
  });

  it("a stream, through the SDK's own SSE parser, with its usage chunk", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const decoder = new ChatStreamDecoder({ provider: "p", model: "m" });
    const out: StreamChunk[] = [];
    for await (const chunk of stream) decoder.push(chunk, out);
    decoder.end(out);
    expect(out).toEqual(streamed.map((p) => (p.type === "finish" ? { ...p, responseId: identity.id } : p)));
  });
});
