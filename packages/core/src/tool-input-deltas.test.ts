import { describe, expect, it } from "vitest";
import { Model, type ModelOutput, type StreamChunk } from "./index";

// A provider may stream tool-call arguments whether or not the caller asked (a third-party model):
// only a request with `toolInputDeltas` sees those chunks; every caller gets the whole call.

class StreamsToolInput extends Model {
  constructor() {
    super({ name: "tool-streamer", provider: "custom" });
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "" };
  }
  protected override async *doStream(): AsyncIterable<StreamChunk> {
    yield { type: "tool-input-start", id: "c1", name: "f" };
    yield { type: "tool-input-delta", id: "c1", delta: '{"a":' };
    yield { type: "tool-input-delta", id: "c1", delta: "" };
    yield { type: "tool-input-delta", id: "c1", delta: "1}" };
    yield { type: "tool-call", toolCall: { id: "c1", name: "f", arguments: { a: 1 } } };
    yield { type: "finish", finishReason: { unified: "tool-calls" } };
  }
}

async function types(toolInputDeltas: boolean | undefined): Promise<string[]> {
  const out: string[] = [];
  const request = {
    messages: [{ role: "user" as const, content: "x" }],
    ...(toolInputDeltas === undefined ? {} : { toolInputDeltas }),
  };
  for await (const chunk of new StreamsToolInput().stream(request))
    out.push(chunk.type === "tool-input-delta" ? `delta:${chunk.delta}` : chunk.type);
  return out;
}

describe("tool-input chunks", () => {
  it("reach a caller that asked for them (empty pieces left out), and no other", async () => {
    expect(await types(true)).toEqual(["tool-input-start", 'delta:{"a":', "delta:1}", "tool-call", "finish"]);
    expect(await types(undefined)).toEqual(["tool-call", "finish"]);
    expect(await types(false)).toEqual(["tool-call", "finish"]);
  });
});
