import { describe, expect, it } from "vitest";
import { Model } from "./model";
import {
  type ModelOutput,
  type ReasoningPart,
  type StreamChunk,
  appendReasoning,
  estimateRequestTokens,
  reasoningChunk,
  reasoningText,
} from "./types";

// A model's reasoning ("thinking") travels apart from its text: whole in the result, as chunks in a
// stream (a signature ends its part), and back in a later request's assistant turn.

const parts: ReasoningPart[] = [
  { type: "reasoning", text: "Step one. Step two.", signature: "sig" },
  { type: "reasoning", text: "", redactedData: "opaque" },
];

class Thinker extends Model {
  constructor(readonly native: boolean) {
    super({ name: "thinker", provider: "custom", capabilities: { supportsStreaming: native } });
    if (!native) Object.defineProperty(this, "doStream", { value: undefined });
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "Answer.", reasoning: parts };
  }
  protected override async *doStream(): AsyncIterable<StreamChunk> {
    yield { type: "reasoning", text: "" }; // nothing: dropped
    yield { type: "reasoning", text: "Step one." };
    yield { type: "reasoning", text: " Step two." };
    yield { type: "reasoning", text: "", signature: "sig" };
    yield { type: "reasoning", text: "", redactedData: "opaque" };
    yield { type: "text", text: "Answer." };
    yield { type: "finish" };
  }
}

async function streamed(model: Model) {
  const reasoning: ReasoningPart[] = [];
  const kinds: string[] = [];
  let text = "";
  for await (const chunk of model.stream({ messages: [{ role: "user", content: "q" }] })) {
    kinds.push(chunk.type);
    if (chunk.type === "reasoning") appendReasoning(reasoning, chunk);
    if (chunk.type === "text") text += chunk.text;
  }
  return { reasoning, text, kinds };
}

describe("reasoning", () => {
  it("a result carries the model's reasoning apart from its text; a model without reasoning has none", async () => {
    const result = await new Thinker(true).generate({ messages: [{ role: "user", content: "q" }] });
    expect(result.text).toBe("Answer.");
    expect(result.reasoning).toEqual(parts);
    class Plain extends Thinker {
      protected override async doGenerate(): Promise<ModelOutput> {
        return { text: "Answer.", reasoning: [] };
      }
    }
    expect("reasoning" in (await new Plain(true).generate({ messages: [{ role: "user", content: "q" }] }))).toBe(false);
  });

  it("streamed natively or through the one-chunk fallback, the chunks make the same parts, before the text; an empty chunk is dropped", async () => {
    const native = await streamed(new Thinker(true));
    expect(native.reasoning).toEqual(parts);
    expect(native.text).toBe("Answer.");
    expect(native.kinds).toEqual(["reasoning", "reasoning", "reasoning", "reasoning", "text", "finish"]);
    const fallback = await streamed(new Thinker(false));
    expect(fallback.reasoning).toEqual(parts);
    expect(fallback.kinds).toEqual(["reasoning", "reasoning", "text", "finish"]);
  });

  it("appendReasoning: text joins the open part; a signature or a redacted block ends it; reasoningChunk/Text", () => {
    const out: ReasoningPart[] = [];
    appendReasoning(out, { text: "a" });
    appendReasoning(out, { text: "b", signature: "s1" });
    appendReasoning(out, { text: "c" });
    appendReasoning(out, { text: "", redactedData: "r" });
    appendReasoning(out, { text: "d" });
    expect(out).toEqual([
      { type: "reasoning", text: "ab", signature: "s1" },
      { type: "reasoning", text: "c" },
      { type: "reasoning", text: "", redactedData: "r" },
      { type: "reasoning", text: "d" },
    ]);
    expect(out.map(reasoningChunk)).toEqual([
      { type: "reasoning", text: "ab", signature: "s1" },
      { type: "reasoning", text: "c" },
      { type: "reasoning", text: "", redactedData: "r" },
      { type: "reasoning", text: "d" },
    ]);
    expect(reasoningText(out)).toBe("abcd");
    expect(reasoningText(undefined)).toBe("");
  });

  it("the last assistant turn's reasoning counts toward the prompt's estimated size (a tool loop's is billed as input); earlier turns' is not", () => {
    const long = [{ type: "reasoning" as const, text: "y".repeat(400) }];
    const turn = (reasoning?: ReasoningPart[]) => ({
      role: "assistant" as const,
      content: "x",
      ...(reasoning ? { reasoning } : {}),
    });
    const user = { role: "user" as const, content: "q" };
    const without = estimateRequestTokens({ messages: [user, turn()] });
    expect(estimateRequestTokens({ messages: [user, turn(long)] }) - without).toBe(100);
    const twoTurns = estimateRequestTokens({ messages: [user, turn(), user, turn()] });
    expect(estimateRequestTokens({ messages: [user, turn(long), user, turn()] })).toBe(twoTurns);
  });
});
