import OpenAI, { BadRequestError, NotFoundError } from "openai";
import type { ResponseInputItem, ResponseStreamEvent } from "openai/resources/responses/responses";
import { anthropicSignatureOf } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "./test/gateway";

// OpenAI's Responses API on the gateway (stateless), through the real `openai` SDK — its
// `responses.create`, and `responses.stream`, which rebuilds the answer from the events and
// checks their order — routed to the loopback OpenAI and Anthropic upstreams.

const REASONING = "Oslo is asked for; call get_weather.";
const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather by city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

// Both upstreams: a tool call for a weather question, the answer once the tool's result is there.
const weather = (request: { messages: { role: string; content: string }[] }, reasoning: boolean) =>
  request.messages.some((m) => m.role === "tool" || m.content === "-3 °C")
    ? { ...(reasoning ? { reasoning: "Cold." } : {}), text: "It is -3 °C in Oslo." }
    : request.messages.some((m) => m.content.includes("Weather"))
      ? {
          ...(reasoning ? { reasoning: REASONING } : {}),
          toolCalls: [{ id: "call_7", name: "get_weather", arguments: { city: "Oslo" } }],
        }
      : { text: "Hello from the upstream" };

let gw: Gateway;
let client: OpenAI;
beforeAll(async () => {
  gw = await startGateway();
  client = new OpenAI({ apiKey: "sk-gateway-client", baseURL: `${gw.url}/v1`, maxRetries: 0 });
  gw.openaiUpstream.setReply((request) => weather(request, false));
  gw.anthropicUpstream.setReply((request) => weather(request, true));
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(() => {
  gw.openaiUpstream.requests.length = 0;
  gw.anthropicUpstream.requests.length = 0;
});

describe("POST /v1/responses, whole", () => {
  it("answers with the chosen model's message, usage and the answer headers; instructions are the system prompt", async () => {
    const { data, response } = await client.responses
      .create({ model: "claude-sonnet-4-6", instructions: "Be brief", input: "Say hello" })
      .withResponse();
    expect(data.object).toBe("response");
    expect(data.id).toMatch(/^resp_/);
    expect(data.status).toBe("completed");
    expect(data.model).toBe("claude-sonnet-4-6");
    expect(data.output_text).toBe("Hello from the upstream");
    expect(data.usage).toMatchObject({ input_tokens: 4, output_tokens: 4, total_tokens: 8 });
    expect(response.headers.get("x-orchestrator-model")).toBe("claude-sonnet-4-6");
    expect(response.headers.get("x-orchestrator-selection-id")).toBeTruthy();
    const upstream = gw.anthropicUpstream.requests.at(-1)?.body as Record<string, unknown>;
    expect(upstream.system).toBe("Be brief");
    expect(upstream.messages).toEqual([{ role: "user", content: [{ type: "text", text: "Say hello" }] }]);
  });

  it("a function-call loop: the call comes as a function_call item, and its output given back gets the answer", async () => {
    const question: ResponseInputItem = { role: "user", content: "Weather in Oslo?" };
    const first = await client.responses.create({ model: "gpt-4o-mini", input: [question], tools: [weatherTool] });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({ type: "function_call", call_id: "call_7", name: "get_weather" });
    expect(JSON.parse((call as { arguments: string }).arguments)).toEqual({ city: "Oslo" });
    expect(first.output_text).toBe("");

    const second = await client.responses.create({
      model: "gpt-4o-mini",
      tools: [weatherTool],
      input: [
        question,
        ...(first.output as ResponseInputItem[]),
        { type: "function_call_output", call_id: "call_7", output: "-3 °C" },
      ],
    });
    expect(second.output_text).toBe("It is -3 °C in Oslo.");
    const sent = gw.openaiUpstream.requests.at(-1)?.body as { messages: unknown[]; tools: unknown[] };
    expect(sent.messages).toEqual([
      { role: "user", content: "Weather in Oslo?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_7", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_7", content: "-3 °C" },
    ]);
    expect(sent.tools).toHaveLength(1);
  });

  it("reasoning on an Anthropic model comes as a signed reasoning item, and a tool loop that gives it back is accepted", async () => {
    const question: ResponseInputItem = { role: "user", content: "Weather in Oslo?" };
    const ask = {
      model: "claude-sonnet-4-6",
      tools: [weatherTool],
      reasoning: { effort: "low" as const },
      max_output_tokens: 3000,
    };
    const first = await client.responses.create({ ...ask, input: [question] });
    expect(first.output[0]).toMatchObject({
      type: "reasoning",
      content: [{ type: "reasoning_text", text: REASONING }],
      encrypted_content: anthropicSignatureOf(REASONING),
    });
    expect(gw.anthropicUpstream.requests.at(-1)?.body).toMatchObject({
      thinking: { type: "enabled", budget_tokens: 1024 },
    });
    // The loopback refuses a thinking tool turn whose signed block is missing or changed, as the API does.
    const second = await client.responses.create({
      ...ask,
      input: [
        question,
        ...(first.output as ResponseInputItem[]),
        { type: "function_call_output", call_id: "call_7", output: "-3 °C" },
      ],
    });
    expect(second.output_text).toBe("It is -3 °C in Oslo.");
  });

  it("interleaved thinking: reasoning written between function calls stays between them, and goes back there", async () => {
    gw.anthropicUpstream.setReply((request) =>
      request.messages.some((m) => m.content.includes("-3 °C"))
        ? { reasoning: "Both known.", text: "Oslo -3 °C, Bergen 4 °C." }
        : {
            reasoning: [{ text: "Oslo first." }, { text: "Then Bergen.", afterToolCalls: 1 }],
            toolCalls: [
              { id: "call_1", name: "get_weather", arguments: { city: "Oslo" } },
              { id: "call_2", name: "get_weather", arguments: { city: "Bergen" } },
            ],
          },
    );
    try {
      const ask = {
        model: "claude-sonnet-4-6",
        tools: [weatherTool],
        reasoning: { effort: "low" as const },
        max_output_tokens: 3000,
      };
      const question: ResponseInputItem = { role: "user", content: "Weather in Oslo and Bergen?" };
      const first = await client.responses.create({ ...ask, input: [question] });
      expect(first.output.map((item) => item.type)).toEqual([
        "reasoning",
        "function_call",
        "reasoning",
        "function_call",
      ]);
      const second = await client.responses.create({
        ...ask,
        input: [
          question,
          ...(first.output as ResponseInputItem[]),
          { type: "function_call_output", call_id: "call_1", output: "-3 °C" },
          { type: "function_call_output", call_id: "call_2", output: "4 °C" },
        ],
      });
      expect(second.output_text).toBe("Oslo -3 °C, Bergen 4 °C.");
      const sent = gw.anthropicUpstream.requests.at(-1)?.body as { messages: { content: { type: string }[] }[] };
      expect(sent.messages[1]?.content.map((b) => b.type)).toEqual(["thinking", "tool_use", "thinking", "tool_use"]);
    } finally {
      gw.anthropicUpstream.setReply((request) => weather(request, true));
    }
  });

  it("text.format json_schema is structured output on any model", async () => {
    const answer = await client.responses.create({
      model: "gpt-4o-mini",
      input: "Which city?",
      text: {
        format: {
          type: "json_schema",
          name: "place",
          schema: { type: "object", properties: { city: { type: "string" } } },
          strict: true,
        },
      },
    });
    expect(answer.status).toBe("completed");
    const sent = gw.openaiUpstream.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "place", strict: true } });
  });
});

describe("POST /v1/responses, streamed", () => {
  it("the SDK's stream helper rebuilds the answer from the events, which come in OpenAI's order", async () => {
    const stream = client.responses.stream({ model: "gpt-4o-mini", input: "Say hello" });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(final.output_text).toBe("Hello from the upstream");
    expect(final.status).toBe("completed");
    expect(final.usage).toMatchObject({ input_tokens: 2, output_tokens: 4 });
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(types.slice(-4)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const text = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : [])).join("");
    expect(text).toBe("Hello from the upstream");
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it("reasoning, then a function call, streamed from an Anthropic model", async () => {
    const stream = client.responses.stream({
      model: "claude-sonnet-4-6",
      input: "Weather in Oslo?",
      tools: [weatherTool],
      reasoning: { effort: "low" },
      max_output_tokens: 3000,
    });
    const final = await stream.finalResponse();
    expect(final.output.map((item) => item.type)).toEqual(["reasoning", "function_call"]);
    expect(final.output[0]).toMatchObject({ encrypted_content: anthropicSignatureOf(REASONING) });
    expect(final.output[1]).toMatchObject({ call_id: "call_7", name: "get_weather", arguments: '{"city":"Oslo"}' });
  });

  it("a stream cut after it began ends with an error the SDK raises, never response.completed", async () => {
    gw.openaiUpstream.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const stream = await client.responses.create({ model: "gpt-4o-mini", input: "Say hello", stream: true });
    const types: string[] = [];
    const failure = await (async () => {
      for await (const event of stream) types.push(event.type);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(types).toContain("response.output_text.delta");
    expect(types).not.toContain("response.completed");
  });
});

describe("POST /v1/responses, refused", () => {
  it("state the gateway does not keep, OpenAI's own tools and malformed items are 400s naming the field; an unknown model 404", async () => {
    const refused = async (body: Record<string, unknown>) =>
      client.responses.create(body as never).then(
        () => undefined,
        (e: unknown) => e as BadRequestError,
      );
    const stateful = await refused({ model: "gpt-4o-mini", input: "hi", previous_response_id: "resp_1" });
    expect(stateful).toBeInstanceOf(BadRequestError);
    expect(stateful?.param).toBe("previous_response_id");
    expect(stateful?.message).toMatch(/send the whole conversation in `input`/);
    const builtIn = await refused({ model: "gpt-4o-mini", input: "hi", tools: [{ type: "web_search" }] });
    expect(builtIn?.param).toBe("tools[0].type");
    const badPart = await refused({
      model: "gpt-4o-mini",
      input: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    });
    expect(badPart?.param).toBe("input[0].content[0].type");
    await expect(client.responses.create({ model: "gpt-9", input: "hi" })).rejects.toBeInstanceOf(NotFoundError);
    expect(gw.openaiUpstream.requests).toHaveLength(0);
  });
});
