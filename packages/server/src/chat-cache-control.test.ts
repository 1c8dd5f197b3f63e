// Prompt caching from an OpenAI-format client: LiteLLM's convention puts Anthropic's `cache_control`
// on chat-completions content parts and tools. A Claude model gets the breakpoints where the client
// put them (a cached prompt costs a tenth); an OpenAI model never sees the field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, rawPost, startGateway } from "./test/gateway";

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const ephemeral = { type: "ephemeral" };
const body = (model: string) => ({
  model,
  max_tokens: 10,
  tools: [
    {
      type: "function",
      function: { name: "lookup", parameters: { type: "object" } },
      cache_control: ephemeral,
    },
  ],
  messages: [
    {
      role: "system",
      content: [
        { type: "text", text: "You are a careful assistant." },
        { type: "text", text: "Here is the whole manual: …", cache_control: { type: "ephemeral", ttl: "1h" } },
      ],
    },
    {
      role: "user",
      content: [
        { type: "text", text: "The long document.", cache_control: ephemeral },
        { type: "text", text: "What does it say?" },
      ],
    },
  ],
});

describe("cache_control on chat-completions parts and tools", () => {
  it("reaches a Claude model on the blocks the client marked", async () => {
    const res = await rawPost(gw.url, "/v1/chat/completions", body("claude-sonnet-4-6"));
    expect(res.status).toBe(200);
    const sent = gw.anthropicUpstream.requests.at(-1)?.body as {
      system: unknown;
      messages: { role: string; content: unknown }[];
      tools: { name: string; cache_control?: unknown }[];
    };
    // Before: the system parts were joined into one string and every breakpoint was dropped.
    expect(sent.system).toEqual([
      { type: "text", text: "You are a careful assistant." },
      { type: "text", text: "Here is the whole manual: …", cache_control: { type: "ephemeral", ttl: "1h" } },
    ]);
    expect(sent.messages[0]?.content).toEqual([
      { type: "text", text: "The long document.", cache_control: ephemeral },
      { type: "text", text: "What does it say?" },
    ]);
    expect(sent.tools[0]).toMatchObject({ name: "lookup", cache_control: ephemeral });
  });

  it("never reaches an OpenAI model, which gets the system prompt and parts as usual", async () => {
    const res = await rawPost(gw.url, "/v1/chat/completions", body("gpt-4o-mini"));
    expect(res.status).toBe(200);
    const sent = gw.openaiUpstream.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    // Neither Anthropic's field nor core's own (an unknown message field is a 400 on Groq, Mistral…).
    expect(JSON.stringify(sent)).not.toMatch(/cache_control|cacheControl/);
    // One system message, a part per line, as without breakpoints: many chat templates refuse a second one.
    expect(sent.messages.filter((m) => m.role === "system").map((m) => m.content)).toEqual([
      "You are a careful assistant.\nHere is the whole manual: …",
    ]);
  });

  it("a Messages client's system blocks with breakpoints reach an OpenAI model as one plain system message", async () => {
    const res = await rawPost(gw.url, "/v1/messages", {
      model: "gpt-4o-mini",
      max_tokens: 10,
      system: [
        { type: "text", text: "Rules." },
        { type: "text", text: "The manual.", cache_control: ephemeral },
      ],
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.status).toBe(200);
    const sent = gw.openaiUpstream.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    expect(JSON.stringify(sent)).not.toMatch(/cache_control|cacheControl/);
    expect(sent.messages).toEqual([
      { role: "system", content: "Rules.\nThe manual." },
      { role: "user", content: "hi" },
    ]);
  });

  it("a malformed breakpoint is a 400 naming the field", async () => {
    const bad = body("claude-sonnet-4-6");
    (bad.messages[1]?.content as Record<string, unknown>[])[0] = {
      type: "text",
      text: "x",
      cache_control: { type: "forever" },
    };
    const res = await rawPost(gw.url, "/v1/chat/completions", bad);
    expect(res.status).toBe(400);
    expect((JSON.parse(res.text) as { error: { param: string } }).error.param).toBe(
      "messages[1].content[0].cache_control",
    );
  });
});
