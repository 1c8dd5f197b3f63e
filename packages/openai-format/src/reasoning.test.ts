import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type GenerateRequest, type ReasoningPart, type StreamChunk, appendReasoning } from "@orchestrator-ts/core";
import OpenAI from "openai";
import type { ChatCompletion as SdkCompletion } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidChatRequestError, fromChatRequest } from "./parse-request";
import { toChatRequest } from "./request";
import { type ChatCompletionLike, fromChatCompletion, toChatCompletion } from "./response";
import { type ChatCompletionChunkLike, ChatStreamDecoder, ChatStreamEncoder, SSE_DONE, sseFrame } from "./stream";
import type { ChatIdentity } from "./wire";

const identity: ChatIdentity = { id: "chatcmpl-r", created: 1_700_000_000, model: "deepseek-reasoner" };

const signed: ReasoningPart[] = [
  { type: "reasoning", text: "Let me think. ", signature: "sig-1" },
  { type: "reasoning", text: "", redactedData: "opaque==" },
  { type: "reasoning", text: "Then again.", signature: "sig-2" },
];

/** The core chunks a decoder gives for `wire`, and the reasoning parts they make. */
function decode(wire: readonly ChatCompletionChunkLike[]): { chunks: StreamChunk[]; parts: ReasoningPart[] } {
  const decoder = new ChatStreamDecoder({ provider: "p", model: "m" });
  const chunks: StreamChunk[] = [];
  for (const chunk of wire) decoder.push(chunk, chunks);
  decoder.end(chunks);
  const parts: ReasoningPart[] = [];
  for (const chunk of chunks) if (chunk.type === "reasoning") appendReasoning(parts, chunk);
  return { chunks, parts };
}

const delta = (d: Record<string, unknown>, finish: string | null = null): ChatCompletionChunkLike => ({
  choices: [{ delta: d, finish_reason: finish }],
});

describe("reading reasoning (provider side)", () => {
  const completion = (message: Record<string, unknown>): ChatCompletionLike => ({
    choices: [{ message: { content: "Paris.", ...message }, finish_reason: "stop" }],
  });

  it("reasoning_content (DeepSeek, vLLM) and reasoning (OpenRouter, Ollama /v1) are one unsigned part, apart from the text", () => {
    for (const key of ["reasoning_content", "reasoning"]) {
      const output = fromChatCompletion(completion({ [key]: "The capital is Paris." }));
      expect(output.text).toBe("Paris.");
      expect(output.reasoning).toEqual([{ type: "reasoning", text: "The capital is Paris." }]);
    }
    // Both (servers in transition): one part, not the text twice.
    expect(fromChatCompletion(completion({ reasoning_content: "a", reasoning: "a" })).reasoning).toEqual([
      { type: "reasoning", text: "a" },
    ]);
    // None, null, empty, or not a string: no reasoning at all.
    for (const message of [{}, { reasoning_content: null }, { reasoning_content: "" }, { reasoning: 42 }])
      expect(fromChatCompletion(completion(message))).not.toHaveProperty("reasoning");
  });

  it("LiteLLM's thinking_blocks are the parts, with their signatures, over reasoning_content", () => {
    const output = fromChatCompletion(
      completion({
        reasoning_content: "Let me think. Then again.",
        thinking_blocks: [
          { type: "thinking", thinking: "Let me think. ", signature: "sig-1" },
          { type: "redacted_thinking", data: "opaque==" },
          { type: "thinking", thinking: "Then again.", signature: "sig-2", cache_control: null },
        ],
      }),
    );
    expect(output.reasoning).toEqual(signed);
    expect(output.text).toBe("Paris.");
  });

  it("a stream's reasoning_content / reasoning deltas are reasoning chunks before the text, never text", () => {
    for (const key of ["reasoning_content", "reasoning"]) {
      const { chunks, parts } = decode([
        delta({ role: "assistant", content: "", [key]: null }),
        delta({ [key]: "Paris is " }),
        delta({ [key]: "the capital." }),
        delta({ content: "Paris." }),
        delta({}, "stop"),
      ]);
      expect(chunks.filter((c) => c.type !== "finish")).toEqual([
        { type: "reasoning", text: "Paris is " },
        { type: "reasoning", text: "the capital." },
        { type: "text", text: "Paris." },
      ]);
      expect(parts).toEqual([{ type: "reasoning", text: "Paris is the capital." }]);
    }
  });

  it("LiteLLM's streamed thinking_blocks: text once (not again from reasoning_content), the signature ends the part", () => {
    const { parts, chunks } = decode([
      delta({ role: "assistant", content: "" }),
      delta({
        content: "",
        reasoning_content: "Let me ",
        thinking_blocks: [{ type: "thinking", thinking: "Let me ", signature: null }],
      }),
      delta({ reasoning_content: "think. ", thinking_blocks: [{ type: "thinking", thinking: "think. " }] }),
      delta({ reasoning_content: "", thinking_blocks: [{ type: "thinking", thinking: "", signature: "sig-1" }] }),
      delta({ thinking_blocks: [{ type: "redacted_thinking", data: "opaque==" }] }),
      delta({ reasoning_content: "Then again." }),
      delta({ thinking_blocks: [{ type: "thinking", thinking: "", signature: "sig-2" }] }),
      delta({ content: "Paris." }),
      delta({}, "stop"),
    ]);
    expect(parts).toEqual(signed);
    expect(chunks.filter((c) => c.type === "text")).toEqual([{ type: "text", text: "Paris." }]);
  });
});

describe("writing reasoning (server side)", () => {
  it("toChatCompletion: reasoning_content always, thinking_blocks only when a part is signed or redacted", () => {
    const plain = toChatCompletion({ text: "Paris.", reasoning: [{ type: "reasoning", text: "Hmm." }] }, identity);
    expect(plain.choices[0]?.message).toEqual({
      role: "assistant",
      content: "Paris.",
      refusal: null,
      reasoning_content: "Hmm.",
    });
    const message = toChatCompletion({ text: "Paris.", reasoning: signed }, identity).choices[0]?.message;
    expect(message?.content).toBe("Paris.");
    expect(message?.reasoning_content).toBe("Let me think. Then again.");
    expect(message?.thinking_blocks).toEqual([
      { type: "thinking", thinking: "Let me think. ", signature: "sig-1" },
      { type: "redacted_thinking", data: "opaque==" },
      { type: "thinking", thinking: "Then again.", signature: "sig-2" },
    ]);
    // Read back: the same parts.
    expect(fromChatCompletion(toChatCompletion({ text: "x", reasoning: signed }, identity)).reasoning).toEqual(signed);
    expect(toChatCompletion({ text: "x" }, identity).choices[0]?.message).not.toHaveProperty("reasoning_content");
  });

  it("the stream encoder: reasoning_content deltas, a signature or redacted block as LiteLLM's thinking_blocks, never content", () => {
    const stream: StreamChunk[] = [
      { type: "reasoning", text: "Let me " },
      { type: "reasoning", text: "think. " },
      { type: "reasoning", text: "", signature: "sig-1" },
      { type: "reasoning", text: "", redactedData: "opaque==" },
      { type: "reasoning", text: "Then again.", signature: "sig-2" },
      { type: "reasoning", text: "" },
      { type: "text", text: "Paris." },
      { type: "finish", finishReason: { unified: "stop", raw: "stop" } },
    ];
    const encoder = new ChatStreamEncoder(identity);
    const wire = stream.flatMap((c) => encoder.encode(c));
    expect(wire.map((c) => c.choices[0]?.delta)).toEqual([
      { role: "assistant", content: "", refusal: null },
      { reasoning_content: "Let me " },
      { reasoning_content: "think. " },
      { thinking_blocks: [{ type: "thinking", thinking: "", signature: "sig-1" }] },
      { thinking_blocks: [{ type: "redacted_thinking", data: "opaque==" }] },
      {
        reasoning_content: "Then again.",
        thinking_blocks: [{ type: "thinking", thinking: "Then again.", signature: "sig-2" }],
      },
      { content: "Paris." },
      {},
    ]);
    expect(decode(wire).parts).toEqual(signed);
  });
});

describe("reasoning in requests", () => {
  const history: GenerateRequest = {
    messages: [
      { role: "user", content: "Capital of France?" },
      { role: "assistant", content: "Paris.", reasoning: signed },
      { role: "assistant", content: "", reasoning: [{ type: "reasoning", text: "Hmm." }] },
      { role: "user", content: "And Spain?" },
    ],
  };

  it("is not sent back by default: no reasoning field of any name reaches the wire", () => {
    const body = toChatRequest(history, { model: "deepseek-reasoner", providerKey: "openai" });
    expect(body.messages[1]).toEqual({ role: "assistant", content: "Paris." });
    expect(body.messages[2]).toEqual({ role: "assistant", content: "" });
    // The caller's messages are not changed.
    expect(history.messages[1]).toHaveProperty("reasoning", signed);
  });

  it("providerOptions sendReasoning gives it back as reasoning_content, or as signed thinking_blocks; it is not a body field", () => {
    const as = (sendReasoning: string) =>
      toChatRequest({ ...history, providerOptions: { openai: { sendReasoning } } }, { providerKey: "openai" });
    const content = as("reasoning_content");
    expect(content.messages[1]).toEqual({
      role: "assistant",
      content: "Paris.",
      reasoning_content: "Let me think. Then again.",
    });
    expect(content).not.toHaveProperty("sendReasoning");
    const blocks = as("thinking_blocks");
    expect(blocks.messages[1]).toMatchObject({
      thinking_blocks: toChatCompletion({ text: "", reasoning: signed }, identity).choices[0]?.message.thinking_blocks,
    });
    // Unsigned reasoning cannot go back as a thinking block.
    expect(blocks.messages[2]).toEqual({ role: "assistant", content: "" });
    expect(as("bogus").messages[1]).toEqual({ role: "assistant", content: "Paris." });
  });

  it("fromChatRequest: an assistant message's thinking_blocks (signed, preferred) or reasoning_content become its reasoning", () => {
    const parsed = fromChatRequest({
      model: "claude-sonnet-4-6",
      messages: [
        { role: "user", content: "Capital of France?" },
        {
          role: "assistant",
          content: "Paris.",
          reasoning_content: "Let me think. Then again.",
          thinking_blocks: [
            { type: "thinking", thinking: "Let me think. ", signature: "sig-1" },
            { type: "redacted_thinking", data: "opaque==" },
            { type: "thinking", thinking: "Then again.", signature: "sig-2", cache_control: { type: "ephemeral" } },
          ],
        },
        { role: "assistant", content: "Madrid.", reasoning_content: "Spain: Madrid." },
        { role: "assistant", content: "Rome.", reasoning: "Italy: Rome.", thinking_blocks: [] },
        { role: "assistant", content: "Lisbon.", reasoning_content: null },
        { role: "user", content: "And Spain?" },
      ],
    });
    expect(parsed.request.messages[1]).toEqual({ role: "assistant", content: "Paris.", reasoning: signed });
    expect(parsed.request.messages[2]).toEqual({
      role: "assistant",
      content: "Madrid.",
      reasoning: [{ type: "reasoning", text: "Spain: Madrid." }],
    });
    expect(parsed.request.messages[3]).toMatchObject({ reasoning: [{ type: "reasoning", text: "Italy: Rome." }] });
    expect(parsed.request.messages[4]).toEqual({ role: "assistant", content: "Lisbon." });
    // Round trip: the parsed reasoning goes back out as the same blocks.
    const out = toChatRequest(
      { ...parsed.request, providerOptions: { openai: { sendReasoning: "thinking_blocks" } } },
      { providerKey: "openai" },
    );
    expect(out.messages[1]).toMatchObject({
      thinking_blocks: [{ signature: "sig-1" }, { data: "opaque==" }, { signature: "sig-2" }],
    });
  });

  it("fromChatRequest: a malformed thinking block or reasoning_content is a 400 naming the field", () => {
    const bad = (assistant: Record<string, unknown>) => {
      try {
        fromChatRequest({
          model: "m",
          messages: [
            { role: "user", content: "x" },
            { role: "assistant", content: "y", ...assistant },
          ],
        });
      } catch (error) {
        return InvalidChatRequestError.isInstance(error) ? error.param : error;
      }
      return "accepted";
    };
    expect(bad({ thinking_blocks: "nope" })).toBe("messages[1].thinking_blocks");
    expect(bad({ thinking_blocks: [{ type: "thinking", thinking: 1 }] })).toBe("messages[1].thinking_blocks[0]");
    expect(bad({ thinking_blocks: [{ type: "redacted_thinking" }] })).toBe("messages[1].thinking_blocks[0]");
    expect(bad({ thinking_blocks: [{ type: "thinking", thinking: "a", signature: 3 }] })).toBe(
      "messages[1].thinking_blocks[0]",
    );
    expect(bad({ reasoning_content: ["a"] })).toBe("messages[1].reasoning_content");
  });
});

describe("the real openai SDK carries reasoning both ways", () => {
  let server: Server;
  let client: OpenAI;
  const reasoning: ReasoningPart[] = [{ type: "reasoning", text: "Paris is the capital." }];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk));
      req.on("end", () => {
        const body = JSON.parse(text) as { stream?: boolean; signed?: boolean };
        const parts = body.signed ? signed : reasoning;
        if (!body.stream) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(toChatCompletion({ text: "Paris.", reasoning: parts }, identity)));
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        const encoder = new ChatStreamEncoder(identity);
        const chunks: StreamChunk[] = [
          { type: "reasoning", text: "Paris is " },
          { type: "reasoning", text: "the capital." },
          { type: "text", text: "Paris." },
          { type: "finish", finishReason: { unified: "stop" } },
        ];
        for (const chunk of chunks) for (const wire of encoder.encode(chunk)) res.write(sseFrame(wire));
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

  it("a completion's reasoning_content and thinking_blocks reach the SDK's result and read back as parts", async () => {
    const ask = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };
    const plain: SdkCompletion = await client.chat.completions.create(ask);
    expect((plain.choices[0]?.message as { reasoning_content?: string } | undefined)?.reasoning_content).toBe(
      "Paris is the capital.",
    );
    expect(plain.choices[0]?.message.content).toBe("Paris.");
    expect(fromChatCompletion(plain).reasoning).toEqual(reasoning);
    const withBlocks = await client.chat.completions.create({ ...ask, signed: true } as typeof ask);
    expect(fromChatCompletion(withBlocks).reasoning).toEqual(signed);
  });

  it("a stream's reasoning_content deltas, through the SDK's SSE parser", async () => {
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const wire: ChatCompletionChunkLike[] = [];
    for await (const chunk of stream) wire.push(chunk);
    const { chunks, parts } = decode(wire);
    expect(parts).toEqual(reasoning);
    expect(chunks.filter((c) => c.type === "text")).toEqual([{ type: "text", text: "Paris." }]);
  });

  it("a request's reasoning: a reasoning model gets reasoning_effort (from the effort, or the nearest to a budget); another model a warning; the gateway reads reasoning_effort into it", () => {
    const ask = (reasoning: GenerateRequest["reasoning"]): GenerateRequest => ({
      messages: [{ role: "user", content: "q" }],
      reasoning,
    });
    const o = { model: "o3", reasoning: true, providerKey: "openai" };
    expect(toChatRequest(ask({ effort: "high" }), o).reasoning_effort).toBe("high");
    expect(toChatRequest(ask({ budgetTokens: 1024 }), o).reasoning_effort).toBe("low");
    expect(toChatRequest(ask({ budgetTokens: 3000 }), o).reasoning_effort).toBe("medium");
    const warnings: string[] = [];
    const plain = toChatRequest(ask({ effort: "low" }), { model: "gpt-4o-mini", providerKey: "openai" }, warnings);
    expect(plain.reasoning_effort).toBeUndefined();
    expect(warnings).toEqual(["reasoning is not supported by gpt-4o-mini (not a reasoning model) and was left out."]);

    const parsed = fromChatRequest({ model: "m", messages: [{ role: "user", content: "q" }], reasoning_effort: "low" });
    expect(parsed.request.reasoning).toEqual({ effort: "low" });
    expect(parsed.request.providerOptions).toBeUndefined();
    // An effort only OpenAI knows goes on to it as it is.
    const minimal = fromChatRequest({
      model: "m",
      messages: [{ role: "user", content: "q" }],
      reasoning_effort: "minimal",
    });
    expect([minimal.request.reasoning, minimal.request.providerOptions]).toEqual([
      undefined,
      { openai: { reasoning_effort: "minimal" } },
    ]);
    expect(() =>
      fromChatRequest({ model: "m", messages: [{ role: "user", content: "q" }], reasoning_effort: 3 }),
    ).toThrow("reasoning_effort");
  });
});
