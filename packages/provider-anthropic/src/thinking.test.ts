import { type GenerateRequest, type ReasoningPart, appendReasoning } from "@orchestrator-ts/core";
import {
  type AnthropicServer,
  type ReplyFunction,
  anthropicSignatureOf,
  collectAll,
  startAnthropicServer,
} from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnthropicModel } from "./index";

// Extended thinking through AnthropicModel, against a server that checks what the API checks: with
// thinking on, a tool turn must be given back with its signed thinking block, unchanged.

const KEY = "sk-ant-loopback-secret-0123456789";
const REASONING = "The user wants the weather in Oslo, so call get_weather.";
const weather: ReplyFunction = (request) =>
  request.messages.some((m) => m.role === "user" && m.content === "-3 °C")
    ? { reasoning: "It is cold.", text: "It is -3 °C in Oslo." }
    : { reasoning: REASONING, toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } }] };
let server: AnthropicServer;
let model: AnthropicModel;

beforeAll(async () => {
  server = await startAnthropicServer({
    apiKey: KEY,
    reply: weather,
  });
  model = new AnthropicModel({ name: "claude-sonnet-4-6", apiKey: KEY, baseURL: server.baseURL });
});
afterAll(async () => {
  await model.cleanup();
  await server.close();
});

const first: GenerateRequest = {
  messages: [{ role: "user", content: "Weather in Oslo?" }],
  tools: [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
  maxTokens: 2000,
  providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 1024 } } },
};
const signed: ReasoningPart = { type: "reasoning", text: REASONING, signature: anthropicSignatureOf(REASONING) };

/** The second turn: the assistant's answer given back as the result says, then the tool's result. */
function secondTurn(reasoning: ReasoningPart[] | undefined): GenerateRequest {
  return {
    ...first,
    messages: [
      ...first.messages,
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } }],
        ...(reasoning ? { reasoning } : {}),
      },
      { role: "tool", toolCallId: "toolu_1", content: "-3 °C" },
    ],
  };
}

describe("AnthropicModel: extended thinking", () => {
  it("a result carries the signed reasoning apart from the text, and a tool loop that gives it back works", async () => {
    const result = await model.generate(first);
    expect(result.reasoning).toEqual([signed]);
    expect(result.text).toBe("");
    const next = await model.generate(secondTurn(result.reasoning));
    expect(next.text).toBe("It is -3 °C in Oslo.");
    expect(next.reasoning?.[0]?.text).toBe("It is cold.");
    // What was sent: the thinking block first in the assistant turn, as the API requires.
    const sent = server.requests[server.requests.length - 1]?.body as { messages: { content: unknown[] }[] };
    expect(sent.messages[1]?.content[0]).toEqual({
      type: "thinking",
      thinking: REASONING,
      signature: signed.signature,
    });
  });

  it("streamed: reasoning chunks (text as it comes, then the signature) make the same part, before any answer", async () => {
    const chunks = await collectAll(model.stream(first));
    const kinds = chunks.map((c) => c.type);
    expect(kinds.indexOf("tool-call")).toBeGreaterThan(kinds.lastIndexOf("reasoning"));
    const parts: ReasoningPart[] = [];
    for (const chunk of chunks) if (chunk.type === "reasoning") appendReasoning(parts, chunk);
    expect(parts).toEqual([signed]);
    expect(chunks.filter((c) => c.type === "reasoning").length).toBeGreaterThan(2);
  });

  it("a tool turn with no thinking block to give back (another model answered it) goes on without thinking, and says so — the API would refuse it", async () => {
    const result = await model.generate(secondTurn(undefined));
    expect(result.text).toBe("It is -3 °C in Oslo.");
    expect(result.warnings.join(" ")).toContain("Extended thinking was turned off for this call");
    const sent = server.requests[server.requests.length - 1]?.body as Record<string, unknown>;
    expect(sent.thinking).toBeUndefined();
  });

  it("the README's recipe (budget 1,024, the default max_tokens) and structured output work: max_tokens makes room for the budget, the response tool is offered, not forced", async () => {
    const recipe = {
      messages: [{ role: "user" as const, content: "Weather in Oslo?" }],
      providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 1024 } } },
    };
    const plain = await model.generate(recipe);
    expect(plain.reasoning?.[0]?.text).toBe(REASONING);
    let sent = server.requests[server.requests.length - 1]?.body as Record<string, unknown>;
    expect(sent.max_tokens).toBe(2048);
    expect(plain.warnings.join(" ")).toContain("max_tokens must exceed thinking's budget_tokens (1024): sent 2048");

    server.setReply(() => ({ reasoning: "JSON it is.", text: '{"city":"Oslo"}' }));
    try {
      const structured = await model.generate({
        ...recipe,
        maxTokens: 3000,
        responseFormat: { type: "json", schema: { type: "object", properties: { city: { type: "string" } } } },
      });
      sent = server.requests[server.requests.length - 1]?.body as Record<string, unknown>;
      expect(sent.tool_choice).toEqual({ type: "auto" });
      expect(structured.warnings.join(" ")).toContain("cannot be made to call a tool");
    } finally {
      server.setReply(weather);
    }
  });

  it("interleaved thinking: a block written after a tool call says so (afterToolCalls), and the tool turn given back as the result says is accepted", async () => {
    server.setReply((request) =>
      request.messages.some((m) => m.role === "user" && m.content.includes("-3 °C"))
        ? { text: "Oslo -3 °C, Bergen 4 °C." }
        : {
            reasoning: [{ text: "Oslo first." }, { text: "Then Bergen.", afterToolCalls: 1 }],
            toolCalls: [
              { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } },
              { id: "toolu_2", name: "get_weather", arguments: { city: "Bergen" } },
            ],
          },
    );
    try {
      const ask: GenerateRequest = { ...first, messages: [{ role: "user", content: "Oslo and Bergen?" }] };
      const result = await model.generate(ask);
      expect(result.reasoning?.map((p) => [p.text, p.afterToolCalls])).toEqual([
        ["Oslo first.", undefined],
        ["Then Bergen.", 1],
      ]);
      const answer = await model.generate({
        ...ask,
        messages: [
          ...ask.messages,
          { role: "assistant", content: result.text, toolCalls: result.toolCalls, reasoning: result.reasoning },
          { role: "tool", toolCallId: "toolu_1", content: "-3 °C" },
          { role: "tool", toolCallId: "toolu_2", content: "4 °C" },
        ],
      });
      expect(answer.text).toBe("Oslo -3 °C, Bergen 4 °C.");
    } finally {
      server.setReply(weather);
    }
  });
});
