import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "./test/gateway";

// A model that reports no token counts (the loopback upstream leaves usage out): a stream's last
// event still carries usage, as the APIs always send it, with the gateway's estimates — the prompt
// "count" is 4 + 2 tokens, the answer's 23 characters 6 tokens at about 4 characters a token.

const ANSWER = "one two three four five";

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway({ upstream: { reply: () => ({ text: ANSWER, usage: null }) } });
});
afterAll(async () => {
  await gw?.close();
});

describe("a streamed answer whose model reported no usage still ends with usage", () => {
  it("chat completions with include_usage: the last chunk has no choices and the usage, as OpenAI sends it", async () => {
    const stream = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("count"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(ANSWER);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 6, completion_tokens: 6, total_tokens: 12 });
  });

  it("Responses: response.completed carries the usage", async () => {
    const stream = gw.client.responses.stream({ model: "gpt-4o-mini", input: "count" });
    for await (const _ of stream);
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(ANSWER);
    expect(final.usage).toEqual({ input_tokens: 6, output_tokens: 6, total_tokens: 12 });
  });

  it("Messages: message_delta carries both counts, so the SDK's MessageStream has them", async () => {
    const client = new Anthropic({ apiKey: "sk-gateway-client", baseURL: gw.url, maxRetries: 0 });
    const message = await client.messages
      .stream({ model: "gpt-4o-mini", max_tokens: 100, messages: ask("count") })
      .finalMessage();
    expect(message.content).toEqual([{ type: "text", text: ANSWER }]);
    expect(message.usage).toMatchObject({ input_tokens: 6, output_tokens: 6 });
  });
});

describe("a whole answer whose model reported no usage still carries usage", () => {
  it("chat completions, Responses and Messages: the same estimates as a stream's", async () => {
    // Before: chat and Responses answers had no usage at all; a Messages answer said 0 and 0.
    const chat = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("count") });
    expect(chat.choices[0]?.message.content).toBe(ANSWER);
    expect(chat.usage).toEqual({ prompt_tokens: 6, completion_tokens: 6, total_tokens: 12 });

    const response = await gw.client.responses.create({ model: "gpt-4o-mini", input: "count" });
    expect(response.usage).toEqual({ input_tokens: 6, output_tokens: 6, total_tokens: 12 });

    const client = new Anthropic({ apiKey: "sk-gateway-client", baseURL: gw.url, maxRetries: 0 });
    const message = await client.messages.create({ model: "gpt-4o-mini", max_tokens: 100, messages: ask("count") });
    expect(message.usage).toMatchObject({ input_tokens: 6, output_tokens: 6 });
  });
});
