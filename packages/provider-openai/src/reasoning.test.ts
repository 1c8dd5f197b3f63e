import { type GenerateRequest, type ReasoningPart, appendReasoning } from "@orchestrator-ts/core";
import { collectAll, type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OpenAIModel } from "./openai-model";

// Reasoning of OpenAI-compatible servers (DeepSeek, vLLM: `reasoning_content`; LiteLLM in front of
// Claude: signed `thinking_blocks`), through the real `openai` SDK against the loopback server.

let server: OpenAIServer;
let model: OpenAIModel;

beforeAll(async () => {
  server = await startOpenAIServer({ models: ["deepseek-reasoner"] });
  model = new OpenAIModel({ name: "deepseek-reasoner", baseURL: server.baseURL });
});
afterAll(async () => {
  await model.cleanup();
  await server.close();
});
afterEach(() => {
  server.setReply(undefined);
  server.requests.length = 0;
});

const ask = (content: string): GenerateRequest => ({ messages: [{ role: "user", content }] });
const THOUGHT = "The user asks for the capital of France, which is Paris.";

describe("OpenAIModel: reasoning from an OpenAI-compatible server", () => {
  it("generate: reasoning_content is the result's reasoning, never part of its text", async () => {
    server.setReply(() => ({ reasoning: THOUGHT, text: "Paris." }));
    const result = await model.generate(ask("capital of France?"));
    expect(result.text).toBe("Paris.");
    expect(result.reasoning).toEqual([{ type: "reasoning", text: THOUGHT }]);
    expect(await model.generateResponse("capital of France?")).toBe("Paris.");
    // A model that did not reason: no reasoning field at all.
    server.setReply(() => ({ text: "Paris." }));
    expect(await model.generate(ask("x"))).not.toHaveProperty("reasoning");
  });

  it("stream: reasoning chunks before the text; the text stream (streamResponse) carries none of it", async () => {
    server.setReply(() => ({ reasoning: THOUGHT, text: "Paris it is." }));
    const chunks = await collectAll(model.stream(ask("capital of France?")));
    const reasoning = chunks.filter((c) => c.type === "reasoning");
    expect(reasoning.length).toBeGreaterThan(1);
    expect(reasoning.map((c) => c.text).join("")).toBe(THOUGHT);
    const firstText = chunks.findIndex((c) => c.type === "text");
    expect(chunks.findLastIndex((c) => c.type === "reasoning")).toBeLessThan(firstText);
    expect(
      chunks
        .filter((c) => c.type === "text")
        .map((c) => c.text)
        .join(""),
    ).toBe("Paris it is.");
    expect((await collectAll(model.streamResponse("capital of France?"))).join("")).toBe("Paris it is.");
  });

  it("LiteLLM's signed thinking_blocks come back with their signatures, whole and streamed", async () => {
    const blocks = [
      { text: "Let me think.", signature: "sig-1" },
      { text: "", redactedData: "opaque==" },
    ];
    const expected: ReasoningPart[] = [
      { type: "reasoning", text: "Let me think.", signature: "sig-1" },
      { type: "reasoning", text: "", redactedData: "opaque==" },
    ];
    server.setReply(() => ({ reasoning: blocks, text: "Paris." }));
    expect((await model.generate(ask("x"))).reasoning).toEqual(expected);
    const parts: ReasoningPart[] = [];
    for (const chunk of await collectAll(model.stream(ask("x"))))
      if (chunk.type === "reasoning") appendReasoning(parts, chunk);
    expect(parts).toEqual(expected);
  });
});

describe("OpenAIModel: reasoning given back in a conversation", () => {
  const history: GenerateRequest = {
    messages: [
      { role: "user", content: "capital of France?" },
      {
        role: "assistant",
        content: "Paris.",
        reasoning: [{ type: "reasoning", text: "Let me think.", signature: "sig-1" }],
      },
      { role: "user", content: "and of Spain?" },
    ],
  };
  const sentAssistant = () =>
    (server.requests.at(-1)?.body as { messages: Record<string, unknown>[] } | undefined)?.messages[1];

  it("is not sent by default (DeepSeek refuses reasoning_content in a request), streamed or not", async () => {
    await model.generate(history);
    expect(sentAssistant()).toEqual({ role: "assistant", content: "Paris." });
    await collectAll(model.stream(history));
    expect(sentAssistant()).toEqual({ role: "assistant", content: "Paris." });
  });

  it("providerOptions.openai.sendReasoning: thinking_blocks gives signed parts back as LiteLLM takes them", async () => {
    await model.generate({ ...history, providerOptions: { openai: { sendReasoning: "thinking_blocks" } } });
    expect(sentAssistant()).toEqual({
      role: "assistant",
      content: "Paris.",
      thinking_blocks: [{ type: "thinking", thinking: "Let me think.", signature: "sig-1" }],
    });
    expect(server.requests.at(-1)?.body).not.toHaveProperty("sendReasoning");
  });
});
