import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "./test/gateway";

// A client's parameters the core has no name for (OpenAI's `logit_bias`, Anthropic's `top_k`…)
// reach only a model of that API: any other model answers without them, and the client reads which
// in `x-orchestrator-warnings` — names only, never the values. Real SDK clients, loopback upstreams.
let gw: Gateway;
let anthropic: Anthropic;
beforeAll(async () => {
  gw = await startGateway();
  anthropic = new Anthropic({ apiKey: "sk-gateway-client", baseURL: gw.url, maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});

const warnings = (headers: Headers): unknown => JSON.parse(headers.get("x-orchestrator-warnings") ?? "null");
// A value that must never reach the header (a bias table, a penalty: the client's, possibly long or private).
const SECRET = 4242;
const OPENAI_EXTRAS = { logit_bias: { [SECRET]: -100 }, frequency_penalty: 0.5 };
const TO_CLAUDE = "`logit_bias`, `frequency_penalty`: OpenAI parameters, not sent to claude-sonnet-4-6 (anthropic).";

describe("OpenAI parameters a non-OpenAI model cannot take", () => {
  it("a whole chat completion from Claude names them (after the model's own warnings), not the values", async () => {
    const { data, response } = await gw.client.chat.completions
      .create({ model: "claude-sonnet-4-6", messages: ask("hi"), seed: 7, user: "end-user-1", ...OPENAI_EXTRAS })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: hi");
    // `user` is the records' end user, which the gateway took: not named.
    expect(warnings(response.headers)).toEqual(["Anthropic does not support `seed`; it was ignored.", TO_CLAUDE]);
    expect(response.headers.get("x-orchestrator-warnings")).not.toContain(String(SECRET));
  });

  it("a streamed chat completion from Claude names them before the first chunk", async () => {
    const { data, response } = await gw.client.chat.completions
      .create({ model: "claude-sonnet-4-6", messages: ask("hi"), stream: true, ...OPENAI_EXTRAS })
      .withResponse();
    expect(warnings(response.headers)).toEqual([TO_CLAUDE]);
    let text = "";
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Echo: hi");
  });

  it("values that ask for nothing (what UIs send as defaults) are not named", async () => {
    const { response } = await gw.client.chat.completions
      .create({
        model: "claude-sonnet-4-6",
        messages: ask("hi"),
        frequency_penalty: 0.5,
        presence_penalty: 0,
        logit_bias: {},
        logprobs: false,
        top_logprobs: null,
      } as never)
      .withResponse();
    // Only the one that asks for something: a penalty of 0.5.
    expect(warnings(response.headers)).toEqual([
      "`frequency_penalty`: an OpenAI parameter, not sent to claude-sonnet-4-6 (anthropic).",
    ]);
  });

  it("an OpenAI model gets them as they are: no warning, whole or streamed", async () => {
    gw.openaiUpstream.requests.length = 0;
    const whole = await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("hi"), ...OPENAI_EXTRAS })
      .withResponse();
    expect(whole.response.headers.get("x-orchestrator-warnings")).toBeNull();
    const streamed = await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("hi"), stream: true, ...OPENAI_EXTRAS })
      .withResponse();
    for await (const _ of streamed.data) {
      // drained
    }
    expect(streamed.response.headers.get("x-orchestrator-warnings")).toBeNull();
    expect(gw.openaiUpstream.requests.map((r) => (r.body as Record<string, unknown>).logit_bias)).toEqual([
      { [SECRET]: -100 },
      { [SECRET]: -100 },
    ]);
  });

  it("names the first ten, then …", async () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`x_param_${i}`, i + 1]));
    const { response } = await gw.client.chat.completions
      .create({ model: "claude-sonnet-4-6", messages: ask("hi"), ...many } as never)
      .withResponse();
    const names = Array.from({ length: 10 }, (_, i) => `\`x_param_${i}\``).join(", ");
    expect(warnings(response.headers)).toEqual([
      `${names}, …: OpenAI parameters, not sent to claude-sonnet-4-6 (anthropic).`,
    ]);
  });

  it("a Responses request answered by Claude names what it kept for OpenAI, whole or streamed", async () => {
    const body = { model: "claude-sonnet-4-6", input: "hi", reasoning: { effort: "minimal" as const } };
    const expected = ["`reasoning_effort`: an OpenAI parameter, not sent to claude-sonnet-4-6 (anthropic)."];
    const whole = await gw.client.responses.create(body).withResponse();
    expect(whole.data.output_text).toBe("Echo: hi");
    expect(warnings(whole.response.headers)).toEqual(expected);
    const streamed = await gw.client.responses.create({ ...body, stream: true }).withResponse();
    for await (const _ of streamed.data) {
      // drained
    }
    expect(warnings(streamed.response.headers)).toEqual(expected);
  });
});

describe("Anthropic parameters a non-Anthropic model cannot take", () => {
  const body = {
    max_tokens: 64,
    messages: ask("hi"),
    top_k: 5,
    service_tier: "standard_only" as const,
    // The records' end user, which the gateway took: not named.
    metadata: { user_id: "end-user-1" },
  };
  const TO_GPT = "`top_k`, `service_tier`: Anthropic parameters, not sent to gpt-4o-mini (openai).";

  it("a whole message from an OpenAI model names them", async () => {
    const { data, response } = await anthropic.messages.create({ model: "gpt-4o-mini", ...body }).withResponse();
    expect(data.content).toEqual([expect.objectContaining({ type: "text" })]);
    expect(warnings(response.headers)).toEqual([TO_GPT]);
  });

  it("a streamed message from an OpenAI model names them before the first event", async () => {
    const { data, response } = await anthropic.messages
      .create({ model: "gpt-4o-mini", ...body, stream: true })
      .withResponse();
    expect(warnings(response.headers)).toEqual([TO_GPT]);
    const types: string[] = [];
    for await (const event of data) types.push(event.type);
    expect(types.at(-1)).toBe("message_stop");
  });

  it("Claude gets them as they are: no warning, whole or streamed", async () => {
    const whole = await anthropic.messages.create({ model: "claude-sonnet-4-6", ...body }).withResponse();
    expect(whole.response.headers.get("x-orchestrator-warnings")).toBeNull();
    const streamed = await anthropic.messages
      .create({ model: "claude-sonnet-4-6", ...body, stream: true })
      .withResponse();
    for await (const _ of streamed.data) {
      // drained
    }
    expect(streamed.response.headers.get("x-orchestrator-warnings")).toBeNull();
  });
});
