import type { StreamChunk } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { ChatStreamDecoder, ChatStreamEncoder } from "./stream";

// Tool calls' arguments as the model writes them (`toolInputDeltas`): what the decoder hands on
// from OpenAI's chat deltas, and what the encoder writes back for a gateway's client.

const delta = (toolCalls: unknown[], finish?: string) => ({
  choices: [{ delta: { tool_calls: toolCalls }, finish_reason: finish ?? null }],
});

/** Two parallel calls, each's arguments in pieces; the second's id and name in its first delta. */
const wire = [
  delta([{ index: 0, id: "call_a", function: { name: "lookup", arguments: "" } }]),
  delta([{ index: 0, function: { arguments: '{"q":' } }]),
  delta([{ index: 0, function: { arguments: '"x"}' } }]),
  delta([{ index: 1, id: "call_b", function: { name: "weather", arguments: '{"city"' } }]),
  delta([{ index: 1, function: { arguments: ':"Oslo"}' } }]),
  { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
];

function decode(toolInputDeltas: boolean, chunks: unknown[] = wire): StreamChunk[] {
  const decoder = new ChatStreamDecoder({ provider: "p", model: "m" }, { toolInputDeltas });
  const out: StreamChunk[] = [];
  for (const chunk of chunks) decoder.push(chunk as never, out);
  return out;
}

describe("ChatStreamDecoder with toolInputDeltas", () => {
  it("hands on each call's start and argument pieces as they come, each whole call before the next starts", () => {
    expect(decode(true)).toEqual([
      { type: "tool-input-start", id: "call_a", name: "lookup" },
      { type: "tool-input-delta", id: "call_a", delta: '{"q":' },
      { type: "tool-input-delta", id: "call_a", delta: '"x"}' },
      { type: "tool-call", toolCall: { id: "call_a", name: "lookup", arguments: { q: "x" } } },
      { type: "tool-input-start", id: "call_b", name: "weather" },
      { type: "tool-input-delta", id: "call_b", delta: '{"city"' },
      { type: "tool-input-delta", id: "call_b", delta: ':"Oslo"}' },
      { type: "tool-call", toolCall: { id: "call_b", name: "weather", arguments: { city: "Oslo" } } },
    ]);
  });

  it("without it, only the whole calls, as before", () => {
    expect(decode(false)).toEqual([
      { type: "tool-call", toolCall: { id: "call_a", name: "lookup", arguments: { q: "x" } } },
      { type: "tool-call", toolCall: { id: "call_b", name: "weather", arguments: { city: "Oslo" } } },
    ]);
  });

  it("arguments before the name wait for it; a call without an id keeps the one its start gave", () => {
    // A compatible server (TGI) may leave out the id, and send a piece before the name.
    const out = decode(true, [
      delta([{ function: { arguments: '{"a":' } }]),
      delta([{ function: { name: "f", arguments: "1}" } }]),
      { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
    ]);
    expect(out).toEqual([
      { type: "tool-input-start", id: "call_0", name: "f" },
      { type: "tool-input-delta", id: "call_0", delta: '{"a":1}' },
      { type: "tool-call", toolCall: { id: "call_0", name: "f", arguments: { a: 1 } } },
    ]);
  });
});

describe("ChatStreamDecoder with toolInputDeltas: names in pieces", () => {
  it("a call starts once its arguments begin, so a name sent in pieces is whole in its start and its call", () => {
    const out = decode(true, [
      delta([{ index: 0, id: "call_n", function: { name: "get_" } }]),
      delta([{ index: 0, function: { name: "weather" } }]),
      delta([{ index: 0, function: { arguments: '{"city":"Oslo"}' } }]),
      { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
    ]);
    expect(out).toEqual([
      { type: "tool-input-start", id: "call_n", name: "get_weather" },
      { type: "tool-input-delta", id: "call_n", delta: '{"city":"Oslo"}' },
      { type: "tool-call", toolCall: { id: "call_n", name: "get_weather", arguments: { city: "Oslo" } } },
    ]);
  });
});

describe("ChatStreamEncoder with tool-input chunks", () => {
  it('a streamed call whose pieces never came (a tool without arguments) gets "{}", never ""', () => {
    const encoder = new ChatStreamEncoder({ id: "chatcmpl-1", created: 1, model: "m" });
    const wire = [
      { type: "tool-input-start", id: "toolu_1", name: "get_time" },
      { type: "tool-input-delta", id: "toolu_1", delta: "" },
      { type: "tool-call", toolCall: { id: "toolu_1", name: "get_time", arguments: {} } },
    ].flatMap((c) => encoder.encode(c as StreamChunk));
    const args = wire.map((w) => w.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "").join("");
    expect(args).toBe("{}");
  });

  it("writes the start, then each piece at its index, and nothing more for the whole call", () => {
    const encoder = new ChatStreamEncoder({ id: "chatcmpl-1", created: 1, model: "m" });
    const deltas = decode(true).flatMap((c) => encoder.encode(c).map((w) => w.choices[0]?.delta));
    expect(deltas).toEqual([
      { role: "assistant", content: null, refusal: null },
      { tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "lookup", arguments: "" } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] },
      { tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "weather", arguments: "" } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"city"' } }] },
      { tool_calls: [{ index: 1, function: { arguments: ':"Oslo"}' } }] },
    ]);
    // A call that did not stream (a cache hit's) is written whole, at the next index.
    const whole = encoder.encode({ type: "tool-call", toolCall: { id: "call_c", name: "f", arguments: {} } });
    expect(whole.map((w) => w.choices[0]?.delta)).toEqual([
      { tool_calls: [{ index: 2, id: "call_c", type: "function", function: { name: "f", arguments: "" } }] },
      { tool_calls: [{ index: 2, function: { arguments: "{}" } }] },
    ]);
    expect(encoder.finish({ unified: "tool-calls" })[0]?.choices[0]?.finish_reason).toBe("tool_calls");
  });
});
