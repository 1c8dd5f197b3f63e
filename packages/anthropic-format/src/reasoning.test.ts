import Anthropic from "@anthropic-ai/sdk";
import { type GenerateRequest, type StreamChunk, appendReasoning, type ReasoningPart } from "@orchestrator-ts/core";
import { afterEach, describe, expect, it } from "vitest";
import { fromMessagesRequest } from "./parse-request";
import { toMessagesRequest } from "./request";
import { fromMessagesResponse, toMessagesResponse } from "./response";
import { MessagesStreamDecoder, MessagesStreamEncoder, sseEvent } from "./stream";
import { type TinyServer, tinyServer } from "./test-helpers";

// Extended thinking: the model's reasoning comes as signed `thinking` blocks (or encrypted
// `redacted_thinking` ones) before the answer, and with tools the API requires them back, unchanged.

const servers: TinyServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const signed: ReasoningPart = { type: "reasoning", text: "The user wants Oslo's weather.", signature: "sig-A" };
const redacted: ReasoningPart = { type: "reasoning", text: "", redactedData: "EncRypted==" };

const thinkingAnswer: StreamChunk[] = [
  { type: "reasoning", text: "The user wants " },
  { type: "reasoning", text: "Oslo's weather." },
  { type: "reasoning", text: "", signature: "sig-A" },
  { type: "reasoning", text: "", redactedData: "EncRypted==" },
  { type: "text", text: "Checking." },
  { type: "tool-call", toolCall: { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } } },
  { type: "finish", finishReason: { unified: "tool-calls" }, usage: { inputTokens: 9, outputTokens: 20 } },
];

async function streamingServer(chunks: StreamChunk[]) {
  const server = await tinyServer((_body, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    const encoder = new MessagesStreamEncoder({ id: "msg_1", model: "claude-x" });
    for (const chunk of chunks) for (const event of encoder.encode(chunk)) res.write(sseEvent(event));
    res.end();
  });
  servers.push(server);
  return new Anthropic({ apiKey: "k", baseURL: server.url, maxRetries: 0 });
}

const ask = { model: "claude-x", max_tokens: 100, messages: [{ role: "user" as const, content: "weather?" }] };

describe("reasoning (extended thinking) on the Anthropic wire", () => {
  it("streamed: the encoder writes thinking, signature and redacted blocks the real SDK assembles; the decoder reads them back as the same parts", async () => {
    const client = await streamingServer(thinkingAnswer);
    const message = await client.messages.stream(ask).finalMessage();
    expect(message.content).toEqual([
      { type: "thinking", thinking: "The user wants Oslo's weather.", signature: "sig-A" },
      { type: "redacted_thinking", data: "EncRypted==" },
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } },
    ]);

    const raw = await client.messages.create({ ...ask, stream: true });
    const decoder = new MessagesStreamDecoder({ provider: "anthropic", model: "claude-x" });
    const out: StreamChunk[] = [];
    for await (const event of raw) decoder.push(event, out);
    const parts: ReasoningPart[] = [];
    for (const chunk of out) if (chunk.type === "reasoning") appendReasoning(parts, chunk);
    expect(parts).toEqual([signed, redacted]);
    // Reasoning never leaks into the answer's text.
    expect(out.filter((c) => c.type === "text").map((c) => (c as { text: string }).text)).toEqual(["Checking."]);
  });

  it("whole: toMessagesResponse writes the reasoning first, the SDK reads it, fromMessagesResponse gives the parts back", async () => {
    const body = toMessagesResponse(
      { text: "Checking.", reasoning: [signed, redacted], finishReason: { unified: "stop" } },
      { id: "msg_2", model: "claude-x" },
    );
    const server = await tinyServer((_b, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
    servers.push(server);
    const message = await new Anthropic({ apiKey: "k", baseURL: server.url, maxRetries: 0 }).messages.create(ask);
    expect(message.content.map((b) => b.type)).toEqual(["thinking", "redacted_thinking", "text"]);
    const output = fromMessagesResponse(message);
    expect(output.reasoning).toEqual([signed, redacted]);
    expect(output.text).toBe("Checking.");
  });

  it("given back: a request's signed and redacted reasoning go first in the assistant turn; another provider's unsigned reasoning is left out", () => {
    const request: GenerateRequest = {
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: "",
          reasoning: [{ type: "reasoning", text: "unsigned, from another provider" }, signed, redacted],
          toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } }],
        },
        { role: "tool", toolCallId: "toolu_1", content: "-3 °C" },
      ],
    };
    const { params } = toMessagesRequest(request, { model: "claude-x", maxTokens: 100 });
    expect(params.messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "thinking", thinking: "The user wants Oslo's weather.", signature: "sig-A" },
        { type: "redacted_thinking", data: "EncRypted==" },
        { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } },
      ],
    });
    // And a client's body through the gateway's parser and back is the same turn.
    const parsed = fromMessagesRequest({ ...params, model: "claude-x" });
    expect(toMessagesRequest(parsed.request, { model: "claude-x", maxTokens: 100 }).params.messages).toEqual(
      params.messages,
    );
  });

  it("bad thinking blocks name their field; a user turn cannot carry one", () => {
    const turn = (block: unknown, role = "assistant") => ({
      model: "m",
      max_tokens: 5,
      messages: [
        { role: "user", content: "q" },
        { role, content: [block] },
      ],
    });
    expect(() => fromMessagesRequest(turn({ type: "thinking", thinking: 3, signature: "s" }))).toThrow(
      "messages.1.content.0.thinking: expected a string",
    );
    expect(() => fromMessagesRequest(turn({ type: "thinking", thinking: "t" }))).toThrow(
      "messages.1.content.0.signature: expected a string",
    );
    expect(() => fromMessagesRequest(turn({ type: "redacted_thinking" }))).toThrow(
      "messages.1.content.0.data: expected a string",
    );
    expect(() => fromMessagesRequest(turn({ type: "thinking", thinking: "t", signature: "s" }, "user"))).toThrow(
      'messages.1.content.0.type: expected a text, image or tool_result block (a user turn has no "thinking")',
    );
  });

  it("with thinking on, what the API would refuse is made to fit: max_tokens above the budget (within the model's output limit), no forced tool, no thinking to continue another model's tool turn", () => {
    const thinking = { type: "enabled", budget_tokens: 4000 };
    const ask: GenerateRequest = {
      messages: [{ role: "user", content: "q" }],
      maxTokens: 1000,
      providerOptions: { anthropic: { thinking } },
    };
    expect(toMessagesRequest(ask, { model: "m", maxTokens: 1024 }).params.max_tokens).toBe(5000);
    // Within the model's limit; a limit the budget cannot fit under is left for the API to refuse.
    expect(toMessagesRequest(ask, { model: "m", maxTokens: 1024, maxOutputTokens: 4500 }).params.max_tokens).toBe(4500);
    expect(toMessagesRequest(ask, { model: "m", maxTokens: 1024, maxOutputTokens: 3000 }).params.max_tokens).toBe(1000);
    const roomy = toMessagesRequest({ ...ask, maxTokens: 8000 }, { model: "m", maxTokens: 1024 });
    expect([roomy.params.max_tokens, roomy.warnings]).toEqual([8000, []]);

    const toolTurn = (reasoning: ReasoningPart[] | undefined): GenerateRequest => ({
      ...ask,
      maxTokens: 8000,
      messages: [
        { role: "user", content: "q" },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "t", name: "f", arguments: {} }],
          ...(reasoning ? { reasoning } : {}),
        },
        { role: "tool", toolCallId: "t", content: "r" },
      ],
    });
    const own = toMessagesRequest(toolTurn([signed]), { model: "m", maxTokens: 1024 });
    expect((own.params as { thinking?: unknown }).thinking).toEqual(thinking);
    const other = toMessagesRequest(toolTurn([{ type: "reasoning", text: "unsigned" }]), {
      model: "m",
      maxTokens: 1024,
    });
    expect((other.params as { thinking?: unknown }).thinking).toBeUndefined();
    expect(other.warnings.join(" ")).toContain("Extended thinking was turned off for this call");
  });

  it("a request's reasoning is extended thinking (an effort's budget, or its own); Anthropic's own thinking setting wins; a client's thinking is the request's reasoning", () => {
    const ask: GenerateRequest = { messages: [{ role: "user", content: "q" }], reasoning: { effort: "high" } };
    const high = toMessagesRequest(ask, { model: "m", maxTokens: 1024 }).params as {
      thinking?: unknown;
      max_tokens: number;
    };
    expect(high.thinking).toEqual({ type: "enabled", budget_tokens: 4096 });
    expect(high.max_tokens).toBe(1024 + 4096);
    const own = toMessagesRequest(
      {
        ...ask,
        maxTokens: 20_000,
        providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 10_000 } } },
      },
      { model: "m", maxTokens: 1024 },
    ).params as { thinking?: unknown };
    expect(own.thinking).toEqual({ type: "enabled", budget_tokens: 10_000 });
    const parsed = fromMessagesRequest({
      model: "m",
      max_tokens: 5000,
      messages: [{ role: "user", content: "q" }],
      thinking: { type: "enabled", budget_tokens: 3000 },
    });
    expect(parsed.request.reasoning).toEqual({ budgetTokens: 3000 });
  });
});

describe("tool choices and ids on the way to Claude", () => {
  const tools = [{ name: "f", parameters: { type: "object" } }];
  it("one call at most stays asked for when thinking turns a forced tool into auto", () => {
    const { params } = toMessagesRequest(
      {
        messages: [{ role: "user", content: "x" }],
        tools,
        toolChoice: "required",
        parallelToolCalls: false,
        reasoning: { effort: "low" },
      },
      { model: "claude-x", maxTokens: 100 },
    );
    expect(params.tool_choice).toEqual({ type: "auto", disable_parallel_tool_use: true });
  });

  it("ids that differ only in the characters Claude refuses stay different, and each call keeps its result", () => {
    const ids = ["fn.get:0", "fn.get.0", "fn_get_0"];
    const request: GenerateRequest = {
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: "", toolCalls: ids.map((id) => ({ id, name: "f", arguments: {} })) },
        ...ids.map((id) => ({ role: "tool" as const, toolCallId: id, content: id })),
      ],
      tools,
    };
    const { params } = toMessagesRequest(request, { model: "claude-x", maxTokens: 100 });
    const uses = ((params.messages[1]?.content ?? []) as { id: string }[]).map((b) => b.id);
    const results = ((params.messages[2]?.content ?? []) as { tool_use_id: string }[]).map((b) => b.tool_use_id);
    expect(new Set(uses).size).toBe(3);
    expect(results).toEqual(uses);
    expect(uses[2]).toBe("fn_get_0");
    for (const id of uses) expect(id).toMatch(/^[a-zA-Z0-9_-]+$/);
  });
});
