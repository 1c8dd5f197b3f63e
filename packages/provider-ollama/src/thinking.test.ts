import { type GenerateRequest, ProviderError } from "@orchestrator-ts/core";
import { collectAll, type OllamaServer, rejectionOf, startOllamaServer } from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OllamaModel } from "./ollama-model";

// Ollama's reasoning ("thinking", for models with that capability and requests with `think`),
// through the real `ollama` client against the loopback server.

const THINKER = "qwen3:0.6b";
const THOUGHT = "The user greets me, so I greet them back.";
let server: OllamaServer;
const models: OllamaModel[] = [];

beforeAll(async () => {
  server = await startOllamaServer({
    models: [{ name: THINKER, capabilities: ["completion", "tools", "thinking"] }, "llama3.2:1b"],
    reply: () => ({ reasoning: THOUGHT, text: "Hello there!" }),
  });
});
afterAll(async () => {
  await Promise.all(models.map((m) => m.cleanup()));
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
});

function model(modelPath = THINKER): OllamaModel {
  const m = new OllamaModel({ name: modelPath, modelPath, host: server.host, pull: false });
  models.push(m);
  return m;
}

const THINK = { providerOptions: { ollama: { think: true } } };
const ask = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});
const lastChat = () => server.requests.filter((r) => r.path === "/api/chat").at(-1)?.body as Record<string, unknown>;

describe("OllamaModel: thinking", () => {
  it("providerOptions.ollama.think reaches the request; message.thinking is the result's reasoning, not its text", async () => {
    const m = model();
    const result = await m.generate(ask(THINK));
    expect(lastChat()).toMatchObject({ think: true, stream: false });
    expect(result.text).toBe("Hello there!");
    expect(result.reasoning).toEqual([{ type: "reasoning", text: THOUGHT }]);
    // Without think Ollama sends no thinking: no reasoning.
    const plain = await m.generate(ask());
    expect(lastChat()).not.toHaveProperty("think");
    expect(plain.text).toBe("Hello there!");
    expect(plain).not.toHaveProperty("reasoning");
  });

  it("streamed: thinking pieces are reasoning chunks before the text; the text stream has none of it", async () => {
    const m = model();
    const chunks = await collectAll(m.stream(ask(THINK)));
    expect(lastChat()).toMatchObject({ think: true, stream: true });
    const reasoning = chunks.filter((c) => c.type === "reasoning");
    expect(reasoning.length).toBeGreaterThan(1);
    expect(reasoning.map((c) => c.text).join("")).toBe(THOUGHT);
    const text = chunks.filter((c) => c.type === "text").map((c) => c.text);
    expect(text.join("")).toBe("Hello there!");
    expect(chunks.findLastIndex((c) => c.type === "reasoning")).toBeLessThan(
      chunks.findIndex((c) => c.type === "text"),
    );
    const prompt = await collectAll(m.streamResponse("hi", { providerOptions: { ollama: { think: true } } }));
    expect(prompt.join("")).toBe("Hello there!");
  });

  it("a conversation: the earlier turn's reasoning is not sent back, the new turn's comes back", async () => {
    const result = await model().generate({
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "Hello!", reasoning: [{ type: "reasoning", text: "An earlier thought." }] },
        { role: "user", content: "how are you?" },
      ],
      ...THINK,
    });
    const messages = lastChat().messages as Record<string, unknown>[];
    expect(messages[1]).toEqual({ role: "assistant", content: "Hello!" });
    expect(result.reasoning).toEqual([{ type: "reasoning", text: THOUGHT }]);
  });

  it("think for a model that cannot think: Ollama's 400 as a non-retryable ProviderError that says so", async () => {
    const error = await rejectionOf(model("llama3.2:1b").generate(ask(THINK)));
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect((error as Error).message).toContain("does not support thinking");
  });
});
