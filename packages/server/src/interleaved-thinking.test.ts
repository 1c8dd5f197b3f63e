import Anthropic from "@anthropic-ai/sdk";
import { anthropicSignatureOf } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "./test/gateway";

// Interleaved thinking (Anthropic's beta, which Claude Code asks for): the model thinks between
// tool calls. The blocks must go back where the model wrote them — the loopback upstream, as the
// API, refuses a tool turn whose thinking blocks were moved.

const FIRST = "Two cities: start with Oslo.";
const SECOND = "Now Bergen.";
let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
  gw.anthropicUpstream.setReply((request) =>
    request.messages.some((m) => m.role === "user" && m.content.includes("-3 °C"))
      ? { reasoning: "Both known.", text: "Oslo -3 °C, Bergen 4 °C." }
      : {
          reasoning: [{ text: FIRST }, { text: SECOND, afterToolCalls: 1 }],
          toolCalls: [
            { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } },
            { id: "toolu_2", name: "get_weather", arguments: { city: "Bergen" } },
          ],
        },
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
  betas: ["interleaved-thinking-2025-05-14"],
};
const question = { role: "user" as const, content: "Weather in Oslo and Bergen?" };
const results = {
  role: "user" as const,
  content: [
    { type: "tool_result" as const, tool_use_id: "toolu_1", content: "-3 °C" },
    { type: "tool_result" as const, tool_use_id: "toolu_2", content: "4 °C" },
  ],
};
const expected = [
  { type: "thinking", thinking: FIRST, signature: anthropicSignatureOf(FIRST) },
  { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } },
  { type: "thinking", thinking: SECOND, signature: anthropicSignatureOf(SECOND) },
  { type: "tool_use", id: "toolu_2", name: "get_weather", input: { city: "Bergen" } },
];

describe("interleaved thinking through /v1/messages", () => {
  it("a whole answer keeps each thinking block where the model wrote it, and the turn given back is accepted", async () => {
    const first = await client().beta.messages.create({ ...base, messages: [question] });
    expect(first.content).toEqual(expected);
    const second = await client().beta.messages.create({
      ...base,
      messages: [question, { role: "assistant", content: first.content }, results],
    });
    expect(second.content.at(-1)).toMatchObject({ type: "text", text: "Oslo -3 °C, Bergen 4 °C." });
    // What reached the upstream: the blocks in the model's order.
    const sent = gw.anthropicUpstream.requests.at(-1)?.body as { messages: { content: { type: string }[] }[] };
    expect(sent.messages[1]?.content.map((b) => b.type)).toEqual(["thinking", "tool_use", "thinking", "tool_use"]);
  });

  it("a streamed answer too", async () => {
    const stream = client().beta.messages.stream({ ...base, messages: [question] });
    const first = await stream.finalMessage();
    expect(first.content).toEqual(expected);
    const second = await client().beta.messages.create({
      ...base,
      messages: [question, { role: "assistant", content: first.content }, results],
    });
    expect(second.stop_reason).toBe("end_turn");
  });
});
