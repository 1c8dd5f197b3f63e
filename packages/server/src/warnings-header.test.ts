import { ModelCache } from "@orchestrator-ts/cache";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { warningsHeader } from "./answer";
import { type Gateway, ask, startGateway } from "./test/gateway";

// What a model could not honour and left out (Anthropic has no `seed`) reaches the client as
// `x-orchestrator-warnings`, whole answers and streams alike: neither API has a field for it.
let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw.close();
});

const SEED_IGNORED = "Anthropic does not support `seed`; it was ignored.";

describe("x-orchestrator-warnings", () => {
  it("a whole answer carries the model's warnings; an answer without any has no header", async () => {
    const { response } = await gw.client.chat.completions
      .create({ model: "claude-sonnet-4-6", messages: ask("hi"), seed: 7 })
      .withResponse();
    expect(JSON.parse(response.headers.get("x-orchestrator-warnings") ?? "null")).toEqual([SEED_IGNORED]);
    const plain = await gw.client.chat.completions
      .create({ model: "claude-sonnet-4-6", messages: ask("hi") })
      .withResponse();
    expect(plain.response.headers.get("x-orchestrator-warnings")).toBeNull();
  });

  it("a stream carries the warnings its request raised, before the first chunk", async () => {
    const { data, response } = await gw.client.chat.completions
      .create({ model: "claude-sonnet-4-6", messages: ask("hi"), seed: 7, stream: true })
      .withResponse();
    expect(JSON.parse(response.headers.get("x-orchestrator-warnings") ?? "null")).toEqual([SEED_IGNORED]);
    let text = "";
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Echo: hi");
  });

  it("an answer from the cache says what the model left out when it made it, streamed or whole", async () => {
    const cached = await startGateway({
      setup: (registry) => registry.getModel("claude-sonnet-4-6")?.enableCaching(new ModelCache({ ttlMs: 60_000 })),
    });
    try {
      const ask2 = { model: "claude-sonnet-4-6", messages: ask("cache me"), seed: 7 };
      const seen: (string | null)[][] = [];
      for (let i = 0; i < 2; i++) {
        const { data, response } = await cached.client.chat.completions
          .create({ ...ask2, stream: true })
          .withResponse();
        for await (const _ of data) {
          // drained
        }
        seen.push([response.headers.get("x-orchestrator-warnings")]);
      }
      const whole = await cached.client.chat.completions.create(ask2).withResponse();
      expect(whole.response.headers.get("x-orchestrator-cache")).toBe("hit");
      seen.push([whole.response.headers.get("x-orchestrator-warnings")]);
      expect(seen.map(([h]) => JSON.parse(h ?? "null"))).toEqual([[SEED_IGNORED], [SEED_IGNORED], [SEED_IGNORED]]);
      expect(cached.anthropicUpstream.stats.inferenceRequests).toBe(1);
    } finally {
      await cached.close();
    }
  });

  it("is a JSON array of whole warnings in printable ASCII, bounded in length", () => {
    const value = warningsHeader(["température ignorée — “seed”", "line\nbreak"]) ?? "";
    expect(value).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(value)).toEqual(["température ignorée — “seed”", "line\nbreak"]);
    const many = warningsHeader(Array.from({ length: 500 }, (_, i) => `warning number ${i} about a setting`)) ?? "";
    expect(many.length).toBeLessThanOrEqual(4_096);
    const kept = JSON.parse(many) as string[];
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.at(-1)).toMatch(/^warning number \d+ about a setting$/);
  });

  it("a warning too long for the header is left out, not the ones after it; none that fits → no header", () => {
    expect(JSON.parse(warningsHeader(["w".repeat(5_000), "short"]) ?? "null")).toEqual(["short"]);
    expect(warningsHeader(["w".repeat(5_000)])).toBeUndefined();
  });
});
