import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { anthropicSignatureOf } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdmissionRequest } from "./contract";
import { type Gateway, startGateway } from "./test/gateway";

// Extended thinking through /v1/messages: a client (IDE assistants do this) turns thinking on, gets
// the signed thinking blocks, and gives them back in its tool loop; the upstream Anthropic server
// refuses a tool turn without them, as the API does.

const REASONING = "Oslo is asked for; call get_weather.";
let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
  gw.anthropicUpstream.setReply((request) =>
    request.messages.some((m) => m.content === "-3 °C")
      ? { reasoning: "Cold.", text: "It is -3 °C." }
      : { reasoning: REASONING, toolCalls: [{ id: "toolu_7", name: "get_weather", arguments: { city: "Oslo" } }] },
  );
});
afterAll(async () => {
  await gw?.close();
});

const client = () => new Anthropic({ apiKey: "sk-gateway-client", baseURL: gw.url, maxRetries: 0 });
const base = {
  model: "claude-sonnet-4-6",
  max_tokens: 2000,
  thinking: { type: "enabled" as const, budget_tokens: 1024 },
  tools: [{ name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }],
};
const question = { role: "user" as const, content: "Weather in Oslo?" };
const thinkingBlock = { type: "thinking", thinking: REASONING, signature: anthropicSignatureOf(REASONING) };

describe("POST /v1/messages with extended thinking", () => {
  it("the answer carries the upstream's signed thinking block first, and the client's tool loop gives it back", async () => {
    const first = await client().messages.create({ ...base, messages: [question] });
    expect(first.content).toEqual([
      thinkingBlock,
      { type: "tool_use", id: "toolu_7", name: "get_weather", input: { city: "Oslo" } },
    ]);
    const second = await client().messages.create({
      ...base,
      messages: [
        question,
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_7", content: "-3 °C" }] },
      ],
    });
    expect(second.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect(second.content[1]).toEqual({ type: "text", text: "It is -3 °C." });
    // The upstream got the thinking block back, first in the assistant turn.
    const sent = gw.anthropicUpstream.requests.at(-1)?.body as { messages: { content: unknown[] }[] };
    expect(sent.messages[1]?.content[0]).toEqual(thinkingBlock);
  });

  it("streamed: thinking_delta and signature_delta events the SDK assembles into the same blocks", async () => {
    const stream = client().messages.stream({ ...base, messages: [question] });
    const deltas: string[] = [];
    stream.on("streamEvent", (event) => {
      if (event.type === "content_block_delta") deltas.push(event.delta.type);
    });
    const message = await stream.finalMessage();
    expect(message.content[0]).toEqual(thinkingBlock);
    expect(deltas.filter((d) => d === "thinking_delta").length).toBeGreaterThan(1);
    expect(deltas).toContain("signature_delta");
    expect(deltas.indexOf("signature_delta")).toBeLessThan(deltas.indexOf("input_json_delta"));
  });

  it("an OpenAI client turns Claude's thinking on with reasoning_effort, and gets the reasoning as reasoning_content", async () => {
    const openai = new OpenAI({ apiKey: "sk-gateway-client", baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: "claude-sonnet-4-6",
      messages: [{ role: "user", content: "Weather in Oslo?" }],
      reasoning_effort: "low",
    });
    const sent = gw.anthropicUpstream.requests.at(-1)?.body as { thinking?: unknown; max_tokens: number };
    expect(sent.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });
    expect(sent.max_tokens).toBeGreaterThan(1024);
    const message = answer.choices[0]?.message as { reasoning_content?: string } | undefined;
    expect(message?.reasoning_content).toBe(REASONING);
  });

  it("a key's budget hold covers the thinking budget added to a max_tokens that does not exceed it", async () => {
    const admitted: AdmissionRequest[] = [];
    const gated = await startGateway({
      server: {
        gatekeeper: {
          authenticate: async () => ({ keyId: "k1", keyName: "test" }),
          admit: async (_caller, request) => {
            admitted.push(request);
            return { settle: async () => undefined };
          },
        },
      },
    });
    try {
      gated.anthropicUpstream.setReply(() => ({ reasoning: "Hm.", text: "Done." }));
      const anthropic = new Anthropic({ apiKey: "sk-any", baseURL: gated.url, maxRetries: 0 });
      const body = { model: "claude-sonnet-4-6", messages: [question] };
      await anthropic.messages.create({
        ...body,
        max_tokens: 1024,
        thinking: { type: "enabled", budget_tokens: 2048 },
      });
      await anthropic.messages.create({
        ...body,
        max_tokens: 8000,
        thinking: { type: "enabled", budget_tokens: 2048 },
      });
      // What the upstream was allowed (the API requires max_tokens above the budget) is what the hold covers.
      expect(admitted.map((a) => a.maxOutputTokens)).toEqual([3072, 8000]);
      expect(gated.anthropicUpstream.requests.map((r) => (r.body as { max_tokens: number }).max_tokens)).toEqual([
        3072, 8000,
      ]);
    } finally {
      await gated.close();
    }
  });
});
