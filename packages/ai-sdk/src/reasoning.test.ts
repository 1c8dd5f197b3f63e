// A model's reasoning ("thinking") across the AI SDK bridge, both ways, with real parts only: the
// real `ai` 6.x (generateText, streamText, a tool loop with stopWhen) over orchestrator(id) whose
// registry holds AnthropicModel (`@anthropic-ai/sdk`), and AISDKModel wrapping the real
// `@ai-sdk/anthropic`, all against the loopback Anthropic server. That server emits signed thinking
// blocks when a request turns thinking on and, as the API does, refuses a tool turn given back
// without its thinking block or with one changed: a bridge that drops reasoning fails the loop.
import { createAnthropic } from "@ai-sdk/anthropic";
import type { LanguageModelV3Prompt } from "@ai-sdk/provider";
import { type GenerateRequest, type ReasoningPart, type StreamChunk, appendReasoning } from "@orchestrator-ts/core";
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { ModelRegistry } from "@orchestrator-ts/registry";
import {
  type AnthropicServer,
  type ScriptedReply,
  anthropicSignatureOf,
  collectAll,
  startAnthropicServer,
} from "@orchestrator-ts/testing";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AISDKModel, createOrchestratorProvider, fromPrompt, toPrompt } from "./index";

const KEY = "sk-ant-reasoning-loopback-0123456";
const REASONING = "The user wants the weather in Oslo, so call get_weather.";
const SIGNED: ReasoningPart = { type: "reasoning", text: REASONING, signature: anthropicSignatureOf(REASONING) };
const REDACTED: ReasoningPart = { type: "reasoning", text: "", redactedData: "EmwKAhgBEgy3va3pzix/LafPsn4a" };
const ANSWER = "It is -3 °C in Oslo.";
let server: AnthropicServer;

beforeAll(async () => {
  server = await startAnthropicServer({ apiKey: KEY, models: ["claude-sonnet-4-6", "claude-sonnet-4-5"] });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.setReply(undefined);
  server.requests.length = 0;
});

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
});

/** A tool loop's replies: reasoning and a tool call, then (the tool's result given) reasoning and the answer. */
function scriptToolLoop(reasoning: ScriptedReply["reasoning"] = REASONING): void {
  server.setReply((request) =>
    request.messages.some((m) => m.content.includes("-3 °C"))
      ? { reasoning: "It is cold.", text: ANSWER }
      : { reasoning, toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } }] },
  );
}

function lastBody(): { thinking?: unknown; messages: { role: string; content: unknown }[] } {
  const body = server.requests.at(-1)?.body;
  if (typeof body !== "object" || body === null) throw new Error("no recorded body");
  return body as { thinking?: unknown; messages: { role: string; content: unknown }[] };
}

/** What the last request sent as its assistant turn's blocks (the turn given back). */
function assistantBlocks(): Record<string, unknown>[] {
  const turn = lastBody().messages.findLast((m) => m.role === "assistant");
  return turn?.content as Record<string, unknown>[];
}

const signedBlock = { type: "thinking", thinking: REASONING, signature: SIGNED.signature };

describe("orchestrator(id): the registry's reasoning as the AI SDK's", () => {
  function setup() {
    const registry = new ModelRegistry({ maxRetries: 0 });
    registry.registerModel(new AnthropicModel({ name: "claude-sonnet-4-6", apiKey: KEY, baseURL: server.baseURL }));
    cleanups.push(() => registry.cleanup());
    return createOrchestratorProvider({ registry });
  }
  // As a @ai-sdk/anthropic user writes it; the API (and so AnthropicModel) spells the budget budget_tokens.
  const thinking = { anthropic: { thinking: { type: "enabled", budgetTokens: 2048 } } };
  const weather = tool({
    description: "Current weather",
    inputSchema: z.object({ city: z.string() }),
    execute: async () => "-3 °C",
  });

  it("generateText: reasoningText and the signed part (signature in providerMetadata.anthropic), apart from the text", async () => {
    const orchestrator = setup();
    server.setReply(() => ({ reasoning: REASONING, text: "Oslo." }));
    const result = await generateText({
      model: orchestrator("claude-sonnet-4-6"),
      prompt: "Where?",
      providerOptions: thinking,
    });
    expect(result.text).toBe("Oslo.");
    expect(result.reasoningText).toBe(REASONING);
    expect(result.reasoning).toEqual([
      { type: "reasoning", text: REASONING, providerMetadata: { anthropic: { signature: SIGNED.signature } } },
    ]);
    expect(lastBody().thinking).toEqual({
      type: "enabled",
      budget_tokens: 2048,
    });
  });

  it("generateText with tools: the step's signed reasoning is given back, so the second step is accepted", async () => {
    const orchestrator = setup();
    scriptToolLoop();
    const result = await generateText({
      model: orchestrator("claude-sonnet-4-6"),
      prompt: "Weather in Oslo?",
      tools: { get_weather: weather },
      stopWhen: stepCountIs(2),
      providerOptions: thinking,
    });
    expect(result.steps.map((s) => s.reasoningText)).toEqual([REASONING, "It is cold."]);
    expect(result.text).toBe(ANSWER);
    // The thinking block first in the turn given back, unchanged.
    expect(assistantBlocks()[0]).toEqual(signedBlock);
    expect(assistantBlocks()[1]).toMatchObject({ type: "tool_use", id: "toolu_1" });
  });

  it("interleaved thinking: a part written after a tool call comes after it, and goes back there (the loop is accepted)", async () => {
    const orchestrator = setup();
    server.setReply((request) =>
      request.messages.some((m) => m.content.includes("-3 °C"))
        ? { reasoning: "Both cold.", text: ANSWER }
        : {
            reasoning: [{ text: REASONING }, { text: "And Bergen.", afterToolCalls: 1 }],
            toolCalls: [
              { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } },
              { id: "toolu_2", name: "get_weather", arguments: { city: "Bergen" } },
            ],
          },
    );
    const result = await generateText({
      model: orchestrator("claude-sonnet-4-6"),
      prompt: "Weather in Oslo and Bergen?",
      tools: { get_weather: weather },
      stopWhen: stepCountIs(2),
      providerOptions: thinking,
    });
    expect(result.steps[0]?.content.map((p) => p.type)).toEqual([
      "reasoning",
      "tool-call",
      "reasoning",
      "tool-call",
      "tool-result",
      "tool-result",
    ]);
    expect(result.text).toBe(ANSWER);
    expect(assistantBlocks().map((b) => b.type)).toEqual(["thinking", "tool_use", "thinking", "tool_use"]);
  });

  it("streamText: reasoning-start/-delta/-end apart from the text; a signed part ends with its signature; a redacted one is whole; the loop goes on", async () => {
    const orchestrator = setup();
    scriptToolLoop([{ text: "", redactedData: REDACTED.redactedData as string }, { text: REASONING }]);
    const result = streamText({
      model: orchestrator("claude-sonnet-4-6"),
      prompt: "Weather in Oslo?",
      tools: { get_weather: weather },
      stopWhen: stepCountIs(2),
      providerOptions: thinking,
    });
    const parts: { type: string; id?: string; text?: string; providerMetadata?: unknown }[] = [];
    for await (const part of result.fullStream) parts.push(part);
    const first = parts.slice(
      0,
      parts.findIndex((p) => p.type === "finish-step"),
    );
    const reasoning = first.filter((p) => p.type.startsWith("reasoning-"));
    // The redacted block: a start carrying its data, then its end.
    expect(reasoning.slice(0, 2)).toMatchObject([
      { type: "reasoning-start", providerMetadata: { anthropic: { redactedData: REDACTED.redactedData } } },
      { type: "reasoning-end" },
    ]);
    // The signed block: its text in deltas as they come, the signature on the last, then its end.
    const deltas = reasoning.filter((p) => p.type === "reasoning-delta");
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.map((p) => p.text).join("")).toBe(REASONING);
    expect(deltas.at(-1)?.providerMetadata).toEqual({ anthropic: { signature: SIGNED.signature } });
    expect(reasoning.at(-1)?.type).toBe("reasoning-end");
    expect(first.some((p) => p.type === "text-delta")).toBe(false);
    expect(first.findIndex((p) => p.type === "tool-call")).toBeGreaterThan(first.indexOf(reasoning.at(-1) as never));
    const steps = await result.steps;
    expect(steps[0]?.reasoning).toEqual([
      { type: "reasoning", text: "", providerMetadata: { anthropic: { redactedData: REDACTED.redactedData } } },
      { type: "reasoning", text: REASONING, providerMetadata: { anthropic: { signature: SIGNED.signature } } },
    ]);
    expect(await result.text).toBe(ANSWER);
    expect(await result.reasoningText).toBe("It is cold.");
    // Both blocks given back first, in their order, as they came.
    expect(assistantBlocks().slice(0, 2)).toEqual([
      { type: "redacted_thinking", data: REDACTED.redactedData },
      signedBlock,
    ]);
  });

  it("both directions at once: orchestrator(id) over an AISDKModel wrapping @ai-sdk/anthropic keeps the loop going", async () => {
    const registry = new ModelRegistry({ maxRetries: 0 });
    const anthropic = createAnthropic({ apiKey: KEY, baseURL: `${server.url}/v1` });
    registry.registerModel(new AISDKModel({ name: "claude-via-ai-sdk", model: anthropic("claude-sonnet-4-5") }));
    cleanups.push(() => registry.cleanup());
    scriptToolLoop();
    const result = await generateText({
      model: createOrchestratorProvider({ registry })("claude-via-ai-sdk"),
      prompt: "Weather in Oslo?",
      tools: { get_weather: weather },
      stopWhen: stepCountIs(2),
      providerOptions: thinking,
    });
    expect(result.text).toBe(ANSWER);
    expect(result.steps[0]?.reasoningText).toBe(REASONING);
    expect(assistantBlocks()[0]).toEqual(signedBlock);
    // The budget reached the wire as given (budgetTokens → budget_tokens → budgetTokens → budget_tokens).
    expect(lastBody().thinking).toEqual({
      type: "enabled",
      budget_tokens: 2048,
    });
  });
});

describe("AISDKModel: an AI SDK model's reasoning as ours (@ai-sdk/anthropic)", () => {
  function model(): AISDKModel {
    const anthropic = createAnthropic({ apiKey: KEY, baseURL: `${server.url}/v1` });
    const m = new AISDKModel({ name: "claude", model: anthropic("claude-sonnet-4-5") });
    cleanups.push(() => m.cleanup());
    return m;
  }
  // As AnthropicModel takes it (the API's spelling); @ai-sdk/anthropic reads budgetTokens.
  const first: GenerateRequest = {
    messages: [{ role: "user", content: "Weather in Oslo?" }],
    tools: [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
    maxTokens: 1000,
    providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 2048 } } },
  };
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
        { role: "tool", toolCallId: "toolu_1", name: "get_weather", content: "-3 °C" },
      ],
    };
  }
  function assembled(chunks: StreamChunk[]): ReasoningPart[] {
    const parts: ReasoningPart[] = [];
    for (const chunk of chunks) if (chunk.type === "reasoning") appendReasoning(parts, chunk);
    return parts;
  }

  it("generate: result.reasoning is the signed part; given back in the next turn, the tool loop is accepted", async () => {
    scriptToolLoop();
    const m = model();
    const result = await m.generate(first);
    expect(result.reasoning).toEqual([SIGNED]);
    expect(result.toolCalls).toMatchObject([{ id: "toolu_1", name: "get_weather" }]);
    // The budget as given, not @ai-sdk/anthropic's default (it reads budgetTokens only).
    expect(lastBody().thinking).toEqual({
      type: "enabled",
      budget_tokens: 2048,
    });
    const next = await m.generate(secondTurn(result.reasoning));
    expect(next.text).toBe(ANSWER);
    expect(next.reasoning).toEqual([
      { type: "reasoning", text: "It is cold.", signature: anthropicSignatureOf("It is cold.") },
    ]);
    expect(assistantBlocks()[0]).toEqual(signedBlock);
    // Without it, the API (and the loopback) refuses the turn.
    await expect(m.generate(secondTurn(undefined))).rejects.toThrow("must start with a thinking block");
  });

  it("interleaved thinking: a part written after a tool call says so, and goes back there (the loop is accepted)", async () => {
    server.setReply((request) =>
      request.messages.some((m) => m.content.includes("-3 °C"))
        ? { reasoning: "Both cold.", text: ANSWER }
        : {
            reasoning: [{ text: REASONING }, { text: "And Bergen.", afterToolCalls: 1 }],
            toolCalls: [
              { id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } },
              { id: "toolu_2", name: "get_weather", arguments: { city: "Bergen" } },
            ],
          },
    );
    const m = model();
    const result = await m.generate(first);
    expect(result.reasoning?.map((p) => p.afterToolCalls)).toEqual([undefined, 1]);
    const next = await m.generate({
      ...first,
      messages: [
        ...first.messages,
        { role: "assistant", content: "", toolCalls: result.toolCalls, reasoning: result.reasoning },
        { role: "tool", toolCallId: "toolu_1", name: "get_weather", content: "-3 °C" },
        { role: "tool", toolCallId: "toolu_2", name: "get_weather", content: "4 °C" },
      ],
    });
    expect(next.text).toBe(ANSWER);
    expect(assistantBlocks().map((b) => b.type)).toEqual(["thinking", "tool_use", "thinking", "tool_use"]);
  });

  it("stream: reasoning chunks as they come, then the signature, assemble to the same parts (a redacted block whole)", async () => {
    scriptToolLoop([{ text: "", redactedData: REDACTED.redactedData as string }, { text: REASONING }]);
    const m = model();
    const chunks = await collectAll(m.stream(first));
    const kinds = chunks.map((c) => c.type);
    expect(kinds.filter((k) => k === "reasoning").length).toBeGreaterThan(3);
    expect(kinds.indexOf("tool-call")).toBeGreaterThan(kinds.lastIndexOf("reasoning"));
    const parts = assembled(chunks);
    expect(parts).toEqual([REDACTED, SIGNED]);
    expect((await m.generate(first)).reasoning).toEqual(parts);
    const next = await m.generate(secondTurn(parts));
    expect(next.text).toBe(ANSWER);
    expect(assistantBlocks().slice(0, 2)).toEqual([
      { type: "redacted_thinking", data: REDACTED.redactedData },
      signedBlock,
    ]);
  });
});

describe("the prompt mapping of reasoning, both ways", () => {
  it("an assistant turn's reasoning: signature and redacted data in providerOptions.anthropic, first; plain parts stay plain", () => {
    const plain: ReasoningPart = { type: "reasoning", text: "unsigned thoughts" };
    const prompt = toPrompt([
      { role: "user", content: "q" },
      { role: "assistant", content: "a", reasoning: [REDACTED, SIGNED, plain] },
    ]);
    expect(prompt[1]).toEqual({
      role: "assistant",
      content: [
        { type: "reasoning", text: "", providerOptions: { anthropic: { redactedData: REDACTED.redactedData } } },
        { type: "reasoning", text: REASONING, providerOptions: { anthropic: { signature: SIGNED.signature } } },
        { type: "reasoning", text: "unsigned thoughts" },
        { type: "text", text: "a" },
      ],
    });
    expect(fromPrompt(prompt)).toEqual([
      { role: "user", content: "q" },
      { role: "assistant", content: "a", reasoning: [REDACTED, SIGNED, plain] },
    ]);
    // A part that carries nothing (no text, no signature, no data) is not given back.
    const empty: LanguageModelV3Prompt = [{ role: "assistant", content: [{ type: "reasoning", text: "" }] }];
    expect(fromPrompt(empty)).toEqual([{ role: "assistant", content: "" }]);
  });
});
