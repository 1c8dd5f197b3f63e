import type { StreamChunk } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { parseEntry, replayChunks, resultFromEntry } from "./entry";
import { StreamRecorder } from "./stream-recorder";

// Interleaved thinking (a model thinking between its tool calls) stored from a stream: replayed in
// the order the model wrote it, and a whole answer from the entry says where each part was.

const call = (id: string) => ({ id, name: "get_weather", arguments: { city: id } });
const streamed: StreamChunk[] = [
  { type: "reasoning", text: "Oslo " },
  { type: "reasoning", text: "first.", signature: "s1" },
  { type: "tool-call", toolCall: call("oslo") },
  { type: "reasoning", text: "Then Bergen.", signature: "s2" },
  { type: "tool-call", toolCall: call("bergen") },
  { type: "reasoning", text: "", redactedData: "opaque" },
];

describe("a stored stream with interleaved thinking", () => {
  it("replays in the model's order and gives a whole answer its parts' places, through the stored JSON", () => {
    const recorder = new StreamRecorder(1 << 20);
    for (const chunk of streamed) expect(recorder.add(chunk)).toBe(false);
    const recorded = recorder.entry({ type: "finish", finishReason: { unified: "tool-calls" } });
    const entry = parseEntry(JSON.stringify(recorded));
    if (typeof entry === "string") throw new Error(entry);
    expect(entry.r).toEqual([
      { type: "reasoning", text: "Oslo first.", signature: "s1" },
      { type: "reasoning", text: "Then Bergen.", signature: "s2", afterToolCalls: 1 },
      { type: "reasoning", text: "", redactedData: "opaque", afterToolCalls: 2 },
    ]);
    expect(replayChunks(entry).map((c) => (c.type === "tool-call" ? c.toolCall.id : c.type))).toEqual([
      "reasoning",
      "oslo",
      "reasoning",
      "bergen",
      "reasoning",
    ]);
    const whole = resultFromEntry(entry, "m", "test", 0);
    expect(whole.reasoning?.map((p) => p.afterToolCalls)).toEqual([undefined, 1, 2]);
  });

  it("an entry whose afterToolCalls is not a count is refused", () => {
    const bad = { t: "", f: { unified: "stop" }, r: [{ type: "reasoning", text: "x", afterToolCalls: -1 }] };
    expect(parseEntry(JSON.stringify(bad))).toMatch(/^r: /);
  });
});
