import { ModelCache } from "@orchestrator-ts/cache";
import { type ReasoningPart, type StreamChunk, appendReasoning } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "./registry";
import { CascadeRoute, extractors } from "./routes/index";

// A model's reasoning ("thinking") is part of its answer: whatever path the answer takes through
// the registry (a call, a stream, a cache hit replayed either way, a cascade's replayed answer),
// it arrives, apart from the text, as the model gave it.

const signed: ReasoningPart[] = [
  { type: "reasoning", text: "First, the premise. Then the answer.", signature: "sig-1" },
  { type: "reasoning", text: "", redactedData: "opaque==" },
];

async function collect(stream: AsyncIterable<StreamChunk>) {
  const reasoning: ReasoningPart[] = [];
  let text = "";
  let cached: boolean | undefined;
  for await (const chunk of stream) {
    if (chunk.type === "reasoning") appendReasoning(reasoning, chunk);
    else if (chunk.type === "text") text += chunk.text;
    else if (chunk.type === "finish") cached = chunk.cached;
  }
  return { reasoning, text, cached };
}

const ask = { messages: [{ role: "user" as const, content: "why?" }] };

describe("reasoning through the registry", () => {
  it("a call and a stream carry it; the cache stores it, and a hit gives it back (whole and replayed as a stream)", async () => {
    const registry = new ModelRegistry({ cache: new ModelCache({ backend: "memory" }) });
    const model = new FakeModel({ name: "thinker", response: "Because.", reasoning: signed });
    registry.registerModel(model);

    const first = await registry.generate(ask);
    expect(first.reasoning).toEqual(signed);
    expect(first.text).toBe("Because.");
    const hit = await registry.generate(ask);
    expect(hit.cached).toBe(true);
    expect(hit.reasoning).toEqual(signed);
    expect(await collect(registry.stream(ask))).toEqual({ reasoning: signed, text: "Because.", cached: true });

    // A streamed answer is stored with its reasoning too.
    const other = { messages: [{ role: "user" as const, content: "how?" }] };
    expect(await collect(registry.stream(other))).toEqual({ reasoning: signed, text: "Because.", cached: false });
    expect((await registry.generate(other)).reasoning).toEqual(signed);
    expect(model.calls).toBe(2);
  });

  it("a cascade's accepted answer, replayed as a stream, keeps the chosen model's reasoning", async () => {
    const registry = new ModelRegistry();
    for (const name of ["a", "b"])
      registry.registerModel(new FakeModel({ name, response: "The answer is B.", reasoning: `${name} thinks B.` }));
    registry.registerModel(new FakeModel({ name: "big", response: "The answer is C." }));
    registry.addRoute(
      new CascadeRoute({
        name: "mcq",
        stages: [{ models: ["a", "b"], parallel: true }, { models: ["big"] }],
        extract: extractors.choiceLetter,
        accept: "unanimous",
      }),
    );
    const streamed = await collect(registry.stream({ ...ask, route: "mcq" }));
    expect(streamed.text).toBe("The answer is B.");
    expect(streamed.reasoning).toEqual([{ type: "reasoning", text: "a thinks B." }]);
    expect((await registry.generate({ ...ask, route: "mcq" })).reasoning).toEqual(streamed.reasoning);
  });
});
