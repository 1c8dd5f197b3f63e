import { type GenerateRequest, ProviderError } from "@orchestrator-ts/core";
import { InvalidMessagesRequestError } from "@orchestrator-ts/anthropic-format";
import { type AnthropicServer, collectAll, startAnthropicServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AnthropicModel } from "./index";

// Betas (the `anthropic-beta` header) and token counting, through the real @anthropic-ai/sdk
// against a loopback server that records what it was sent.

const KEY = "sk-ant-loopback-secret-0123456789";
let server: AnthropicServer;
let model: AnthropicModel;
let configured: AnthropicModel;

beforeAll(async () => {
  server = await startAnthropicServer({ apiKey: KEY, reply: () => ({ text: "Hello there friend" }) });
  model = new AnthropicModel({ name: "claude-sonnet-4-6", apiKey: KEY, baseURL: server.baseURL });
  configured = new AnthropicModel({
    name: "claude-sonnet-4-6",
    apiKey: KEY,
    baseURL: server.baseURL,
    headers: { "anthropic-beta": "prompt-caching-2024-07-31" },
  });
});
afterAll(async () => {
  await model.cleanup();
  await configured.cleanup();
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const ask = (text: string, betas?: unknown): GenerateRequest => ({
  messages: [{ role: "user", content: text }],
  ...(betas === undefined ? {} : { providerOptions: { anthropic: { betas } } }),
});
const last = () => server.requests.at(-1);

describe("AnthropicModel: betas", () => {
  it("providerOptions.anthropic.betas is sent as the anthropic-beta header, not in the body (whole and streamed)", async () => {
    await model.generate(ask("hi", ["interleaved-thinking-2025-05-14", "context-management-2025-06-27"]));
    expect(last()?.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14,context-management-2025-06-27");
    expect(last()?.body).not.toHaveProperty("betas");

    await collectAll(model.stream(ask("hi", "fine-grained-tool-streaming-2025-05-14")));
    expect(last()?.headers["anthropic-beta"]).toBe("fine-grained-tool-streaming-2025-05-14");
    expect(last()?.body).not.toHaveProperty("betas");
    expect(last()?.body).toMatchObject({ stream: true });
  });

  it("joins the betas configured in the model's headers instead of replacing them", async () => {
    await configured.generate(ask("hi", ["interleaved-thinking-2025-05-14"]));
    expect(last()?.headers["anthropic-beta"]).toBe("prompt-caching-2024-07-31,interleaved-thinking-2025-05-14");
    await configured.generate(ask("hi"));
    expect(last()?.headers["anthropic-beta"]).toBe("prompt-caching-2024-07-31");
  });

  it("a request without betas sends no anthropic-beta header", async () => {
    await model.generate(ask("hi"));
    expect(last()?.headers["anthropic-beta"]).toBeUndefined();
  });

  it("betas that are not names are a typed error naming the option, and nothing is sent", async () => {
    const bad = model.generate(ask("hi", [42]));
    await expect(bad).rejects.toBeInstanceOf(InvalidMessagesRequestError);
    await expect(bad).rejects.toThrow(/betas: expected an array of beta names/);
    await expect(model.generate(ask("hi", ["ok-beta", "evil\r\nx-injected: 1"]))).rejects.toThrow(/is not a beta name/);
    expect(server.requests).toHaveLength(0);
  });
});

describe("AnthropicModel.countTokens", () => {
  it("asks the API's count_tokens with only the fields it takes, and returns its count", async () => {
    const request: GenerateRequest = {
      messages: [
        { role: "system", content: "Be brief please" },
        { role: "user", content: "What is the capital of Norway?" },
      ],
      maxTokens: 300,
      stop: ["END"],
      tools: [{ name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } }],
      providerOptions: { anthropic: { betas: ["token-counting-2024-11-01"], metadata: { user_id: "u1" } } },
    };
    // The loopback counts words: 3 in the system prompt, 6 in the question.
    await expect(model.countTokens(request)).resolves.toBe(9);
    const recorded = last();
    expect(recorded?.path).toBe("/v1/messages/count_tokens");
    expect(recorded?.headers["anthropic-beta"]).toBe("token-counting-2024-11-01");
    const body = recorded?.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["messages", "model", "system", "tools"]);
    expect(body["model"]).toBe("claude-sonnet-4-6");
  });

  it("the count is what the call's usage says", async () => {
    const request = ask("one two three four five");
    const counted = await model.countTokens(request);
    const result = await model.generate(request);
    expect(counted).toBe(5);
    expect(result.usage.inputTokens).toBe(counted);
  });

  it("a failure is the model's typed error (a model the API does not know)", async () => {
    const strict = await startAnthropicServer({ apiKey: KEY, models: ["claude-sonnet-4-6"] });
    const other = new AnthropicModel({ name: "claude-nope", apiKey: KEY, baseURL: strict.baseURL });
    try {
      const failed = other.countTokens(ask("hi"));
      await expect(failed).rejects.toBeInstanceOf(ProviderError);
      await expect(failed).rejects.toMatchObject({ model: "claude-nope", status: 404 });
    } finally {
      await other.cleanup();
      await strict.close();
    }
  });
});
