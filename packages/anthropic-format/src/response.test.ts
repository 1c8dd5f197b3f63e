import { describe, expect, it } from "vitest";
import { DEFAULT_RESPONSE_TOOL, toMessagesRequest } from "./request";
import { fromMessagesResponse, fromMessagesUsage, fromStopReason, toMessagesResponse, toStopReason } from "./response";

describe("stop reasons", () => {
  it("wire → core keeps the raw reason; an unknown one is other", () => {
    expect(
      [
        "end_turn",
        "stop_sequence",
        "max_tokens",
        "model_context_window_exceeded",
        "tool_use",
        "refusal",
        "pause_turn",
        "new_one",
      ].map((r) => fromStopReason(r)?.unified),
    ).toEqual(["stop", "stop", "length", "length", "tool-calls", "content-filter", "other", "other"]);
    expect(fromStopReason(null)).toBeUndefined();
    expect(fromStopReason("tool_use", { name: DEFAULT_RESPONSE_TOOL, wrapped: false })).toEqual({
      unified: "stop",
      raw: "tool_use",
    });
  });

  it("core → wire: another provider's raw reason is mapped by meaning, an Anthropic one of the same meaning is kept", () => {
    expect(toStopReason({ unified: "stop", raw: "stop" })).toBe("end_turn");
    expect(toStopReason({ unified: "stop", raw: "stop_sequence" })).toBe("stop_sequence");
    expect(toStopReason({ unified: "length", raw: "model_context_window_exceeded" })).toBe(
      "model_context_window_exceeded",
    );
    expect(toStopReason({ unified: "length", raw: "length" })).toBe("max_tokens");
    expect(toStopReason({ unified: "tool-calls", raw: "tool_calls" })).toBe("tool_use");
    expect(toStopReason({ unified: "content-filter", raw: "content_filter" })).toBe("refusal");
    expect(toStopReason({ unified: "error" })).toBe("end_turn");
    // A raw name that means something else is not trusted.
    expect(toStopReason({ unified: "stop", raw: "max_tokens" })).toBe("end_turn");
    expect(toStopReason(undefined)).toBe("end_turn");
    expect(toStopReason(undefined, true)).toBe("tool_use");
  });
});

describe("messages", () => {
  it("round trip: a result → message → the same result, with the message's id as responseId", () => {
    const result = {
      text: "Checking.",
      toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } }],
      usage: { inputTokens: 9, outputTokens: 4 },
      finishReason: { unified: "tool-calls" as const, raw: "tool_use" },
    };
    const message = toMessagesResponse(result, { id: "msg_1", model: "claude-x" });
    expect(message.stop_reason).toBe("tool_use");
    expect(fromMessagesResponse(message)).toEqual({ ...result, responseId: "msg_1" });
  });

  it("unknown counts are 0 in a message (the wire requires them); a text-only answer with no reason is end_turn", () => {
    expect(toMessagesResponse({ text: "hi" }, { id: "m", model: "x" })).toEqual({
      id: "m",
      type: "message",
      role: "assistant",
      model: "x",
      content: [{ type: "text", text: "hi" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    });
  });

  it("reading: the response tool's input is the text (unwrapped when wrapped); other blocks are skipped; cache counts are prompt tokens", () => {
    const { responseTool } = toMessagesRequest(
      { messages: [{ role: "user", content: "x" }], responseFormat: { type: "json", schema: { type: "array" } } },
      { model: "m", maxTokens: 5 },
    );
    expect(responseTool).toEqual({ name: DEFAULT_RESPONSE_TOOL, wrapped: true });
    const thinking = { type: "thinking", thinking: "…", signature: "s" };
    const output = fromMessagesResponse(
      {
        content: [thinking, { type: "tool_use", id: "t", name: DEFAULT_RESPONSE_TOOL, input: { value: [1, 2] } }],
        stop_reason: "tool_use",
        usage: { input_tokens: 3, cache_read_input_tokens: 50, cache_creation_input_tokens: 10, output_tokens: 2 },
      },
      responseTool,
    );
    expect(output).toEqual({
      text: "[1,2]",
      toolCalls: [],
      usage: { inputTokens: 63, outputTokens: 2, cacheReadInputTokens: 50, cacheWriteInputTokens: 10 },
      finishReason: { unified: "stop", raw: "tool_use" },
      reasoning: [{ type: "reasoning", text: "…", signature: "s" }],
    });
    expect(fromMessagesUsage({ output_tokens: 2 })).toEqual({ outputTokens: 2 });
    expect(fromMessagesUsage(null)).toEqual({});
    // Cache reads and writes are part of the prompt, and reported apart; the API's 0s are not news.
    expect(
      fromMessagesUsage({
        input_tokens: 5,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 20,
        output_tokens: 3,
      }),
    ).toEqual({ inputTokens: 125, outputTokens: 3, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 });
    expect(
      fromMessagesUsage({
        input_tokens: 5,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
        output_tokens: 3,
      }),
    ).toEqual({ inputTokens: 5, outputTokens: 3 });
  });
});
