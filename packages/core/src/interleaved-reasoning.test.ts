import { describe, expect, it } from "vitest";
import { Model, type ModelOutput, type ReasoningPart, type StreamChunk, answerChunks, appendReasoning } from "./index";

// Reasoning written between tool calls (Anthropic's interleaved thinking) keeps its place when a
// whole answer becomes a stream, and when a stream's chunks are assembled into parts.

const call = (id: string) => ({ id, name: "get_weather", arguments: { city: id } });
const interleaved: ModelOutput = {
  text: "",
  toolCalls: [call("oslo"), call("bergen")],
  reasoning: [
    { type: "reasoning", text: "Oslo first.", signature: "s1" },
    { type: "reasoning", text: "Then Bergen.", signature: "s2", afterToolCalls: 1 },
  ],
};
const order = (chunks: StreamChunk[]) => chunks.map((c) => (c.type === "tool-call" ? c.toolCall.id : c.type));

class GenerateOnly extends Model {
  constructor() {
    super({ name: "generate-only", provider: "custom" });
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return interleaved;
  }
}

describe("interleaved reasoning", () => {
  it("answerChunks writes each part where the model wrote it", () => {
    expect(order(answerChunks(interleaved))).toEqual(["reasoning", "oslo", "reasoning", "bergen"]);
    expect(order(answerChunks({ text: "Hi", reasoning: [{ type: "reasoning", text: "hm" }] }))).toEqual([
      "reasoning",
      "text",
    ]);
  });

  it("a model without doStream streams its answer in that order", async () => {
    const chunks: StreamChunk[] = [];
    for await (const chunk of new GenerateOnly().stream({ messages: [{ role: "user", content: "x" }] }))
      chunks.push(chunk);
    expect(order(chunks)).toEqual(["reasoning", "oslo", "reasoning", "bergen", "finish"]);
  });

  it("appendReasoning starts a new part at another place, even for unsigned text", () => {
    const parts: ReasoningPart[] = [];
    appendReasoning(parts, { text: "first " });
    appendReasoning(parts, { text: "second" }, 1);
    expect(parts).toEqual([
      { type: "reasoning", text: "first " },
      { type: "reasoning", text: "second", afterToolCalls: 1 },
    ]);
  });
});
