import type { GenerateRequest } from "@orchestrator-ts/core";
import { toJsonSchema } from "@orchestrator-ts/core/internal";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { InvalidChatRequestError, fromChatRequest } from "./parse-request";
import { toChatRequest } from "./request";
import type { ChatRequest } from "./wire";

const Weather = z.object({ city: z.string() });

describe("toChatRequest: core request → wire body", () => {
  it("passes plain text messages through without a copy", () => {
    const messages: GenerateRequest["messages"] = [
      { role: "system", content: "be brief" },
      { role: "user", content: "hi" },
    ];
    const body = toChatRequest({ messages }, { model: "gpt-4o", providerKey: "openai" });
    expect(body.messages).toBe(messages);
    expect(body).toEqual({ model: "gpt-4o", messages });
  });

  it("maps images, tool calls (null content when there is no text), tool results, tools, tool choice and settings", () => {
    const body = toChatRequest(
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "what?" },
              { type: "image", data: "AAAA", mediaType: "image/jpeg" },
              { type: "image", url: "https://example.com/a.png" },
            ],
          },
          {
            role: "assistant",
            content: "",
            toolCalls: [{ id: "call_1", name: "get_weather", arguments: { city: "Oslo" } }],
          },
          { role: "tool", toolCallId: "call_1", content: '{"celsius":4}', name: "get_weather" },
        ],
        maxTokens: 64,
        temperature: 0.5,
        topP: 0.9,
        stop: ["END"],
        seed: 3,
        tools: [{ name: "get_weather", description: "Weather for a city", parameters: Weather }],
        toolChoice: { name: "get_weather" },
        responseFormat: { type: "json", schema: Weather, name: "weather" },
      },
      { model: "gpt-4o", providerKey: "openai" },
    );
    expect(body).toEqual({
      model: "gpt-4o",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what?" },
            { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } },
            { type: "image_url", image_url: { url: "https://example.com/a.png" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: '{"celsius":4}' },
      ],
      max_tokens: 64,
      temperature: 0.5,
      top_p: 0.9,
      stop: ["END"],
      seed: 3,
      tools: [
        {
          type: "function",
          function: { name: "get_weather", description: "Weather for a city", parameters: toJsonSchema(Weather) },
        },
      ],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      response_format: {
        type: "json_schema",
        json_schema: { name: "weather", schema: toJsonSchema(Weather), strict: true },
      },
    });
    // The openai SDK takes the body as it is.
    const typed: ChatCompletionCreateParamsNonStreaming = {
      ...body,
      model: "gpt-4o",
    } as ChatCompletionCreateParamsNonStreaming;
    expect(typed.messages).toHaveLength(3);
  });

  it("reasoning models get max_completion_tokens, and sampling settings are left out with warnings", () => {
    const warnings: string[] = [];
    const body = toChatRequest(
      { messages: [{ role: "user", content: "x" }], maxTokens: 20, temperature: 0.2, topP: 0.5 },
      { model: "o3-mini", reasoning: true, providerKey: "openai" },
      warnings,
    );
    expect(body).toEqual({ model: "o3-mini", messages: [{ role: "user", content: "x" }], max_completion_tokens: 20 });
    expect(warnings).toEqual([
      "temperature is not supported by o3-mini and was left out.",
      "topP is not supported by o3-mini and was left out.",
    ]);
  });

  it("copies providerOptions[providerKey] into the body; strictJsonSchema: false turns strict off; an own __proto__ is dropped", () => {
    const extra = JSON.parse(
      '{"user":"u1","logit_bias":{"50256":-100},"strictJsonSchema":false,"__proto__":{"polluted":true}}',
    ) as Record<string, unknown>;
    const body = toChatRequest(
      {
        messages: [{ role: "user", content: "x" }],
        responseFormat: { type: "json", schema: { type: "object" } },
        providerOptions: { huggingface: extra, openai: { user: "not me" } },
      },
      { providerKey: "huggingface" },
    );
    expect(body).toEqual({
      messages: [{ role: "user", content: "x" }],
      user: "u1",
      logit_bias: { "50256": -100 },
      response_format: {
        type: "json_schema",
        json_schema: { name: "response", schema: { type: "object" }, strict: false },
      },
    });
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect("model" in body).toBe(false);
  });
});

describe("fromChatRequest: wire body → core request (the server side)", () => {
  const rich: ChatRequest = {
    model: "gpt-4o",
    messages: [
      { role: "system", content: "be brief" },
      {
        role: "user",
        content: [
          { type: "text", text: "what?" },
          { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } },
          { type: "image_url", image_url: { url: "https://example.com/a.png" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"celsius":4}' },
    ],
    max_tokens: 64,
    temperature: 0.5,
    top_p: 0.9,
    stop: ["END"],
    seed: 3,
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
    ],
    tool_choice: "required",
    response_format: {
      type: "json_schema",
      json_schema: { name: "weather", schema: { type: "object" }, strict: false },
    },
    user: "u1",
    frequency_penalty: 0.1,
  };

  it("reads every field the core knows and keeps the rest for the OpenAI provider", () => {
    const parsed = fromChatRequest(rich);
    expect(parsed.model).toBe("gpt-4o");
    expect(parsed.stream).toBe(false);
    expect(parsed.request).toEqual({
      messages: [
        { role: "system", content: "be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "what?" },
            { type: "image", data: "AAAA", mediaType: "image/jpeg" },
            { type: "image", url: "https://example.com/a.png" },
          ],
        },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "call_1", name: "get_weather", arguments: { city: "Oslo" } }],
        },
        { role: "tool", toolCallId: "call_1", content: '{"celsius":4}' },
      ],
      maxTokens: 64,
      temperature: 0.5,
      topP: 0.9,
      stop: ["END"],
      seed: 3,
      tools: [
        {
          name: "get_weather",
          description: "Weather for a city",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      ],
      toolChoice: "required",
      responseFormat: { type: "json", name: "weather", schema: { type: "object" } },
      providerOptions: { openai: { strictJsonSchema: false, user: "u1", frequency_penalty: 0.1 } },
    });
  });

  it("round-trips: wire → core → wire gives the same body", () => {
    const back = toChatRequest(fromChatRequest(rich).request, { model: "gpt-4o", providerKey: "openai" });
    expect(back).toEqual(rich);
  });

  it("keeps OpenAI's meaning of strict: a JSON schema without strict: true is not strict, a tool's strict goes on as given", () => {
    const schema = { type: "object", properties: { name: { type: "string" } } };
    const wire: ChatRequest = {
      model: "gpt-4o",
      messages: [{ role: "user", content: "x" }],
      tools: [
        { type: "function", function: { name: "f", parameters: schema, strict: true } },
        { type: "function", function: { name: "g", parameters: schema } },
      ],
      response_format: { type: "json_schema", json_schema: { name: "person", schema } },
    };
    const back = toChatRequest(fromChatRequest(wire).request, { model: "gpt-4o", providerKey: "openai" });
    expect(back.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "person", schema, strict: false },
    });
    expect(back.tools).toEqual(wire.tools);
    const strict = {
      ...wire,
      response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } },
    };
    expect(
      toChatRequest(fromChatRequest(strict).request, { model: "gpt-4o", providerKey: "openai" }).response_format,
    ).toEqual(strict.response_format);
  });

  it("round-trips a reasoning request's max_completion_tokens, and a streamed request's options", () => {
    const wire: ChatRequest = {
      model: "o3",
      messages: [
        { role: "developer", content: "think" },
        { role: "user", content: "x" },
      ],
      max_completion_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: "low",
    };
    const parsed = fromChatRequest(wire);
    expect(parsed).toMatchObject({ model: "o3", stream: true, includeUsage: true });
    const back = toChatRequest(parsed.request, { model: "o3", reasoning: true, providerKey: "openai" });
    expect(back).toEqual({
      model: "o3",
      messages: [
        { role: "system", content: "think" },
        { role: "user", content: "x" },
      ],
      max_completion_tokens: 100,
      reasoning_effort: "low",
    });
  });

  it.each<[string, unknown, string, RegExp]>([
    ["a body that is not an object", [1, 2], "", /must be a JSON object/],
    ["no model", { messages: [] }, "model", /Missing required parameter: 'model'/],
    ["no messages", { model: "m" }, "messages", /Missing required parameter: 'messages'/],
    ["no message at all", { model: "m", messages: [] }, "messages", /at least one message/],
    [
      "an unknown role",
      { model: "m", messages: [{ role: "wizard", content: "x" }] },
      "messages[0].role",
      /one of system/,
    ],
    [
      "a number as content",
      { model: "m", messages: [{ role: "user", content: 5 }] },
      "messages[0].content",
      /a string or an array/,
    ],
    [
      "an audio part",
      { model: "m", messages: [{ role: "user", content: [{ type: "input_audio" }] }] },
      "messages[0].content[0]",
      /text or image_url part/,
    ],
    [
      "a tool result without its call id",
      { model: "m", messages: [{ role: "tool", content: "x" }] },
      "messages[0].tool_call_id",
      /a string/,
    ],
    [
      "a broken tool call",
      { model: "m", messages: [{ role: "assistant", tool_calls: [{ id: "c" }] }] },
      "messages[0].tool_calls[0]",
      /function tool call/,
    ],
    [
      "a string temperature",
      { model: "m", messages: [{ role: "user", content: "x" }], temperature: "hot" },
      "temperature",
      /a number/,
    ],
    [
      "a fractional max_tokens",
      { model: "m", messages: [{ role: "user", content: "x" }], max_tokens: 1.5 },
      "max_tokens",
      /an integer/,
    ],
    ["n > 1", { model: "m", messages: [{ role: "user", content: "x" }], n: 3 }, "n", /n = 1/],
    [
      "a bad tool choice",
      { model: "m", messages: [{ role: "user", content: "x" }], tool_choice: "always" },
      "tool_choice",
      /"auto"/,
    ],
    [
      "a bad response format",
      { model: "m", messages: [{ role: "user", content: "x" }], response_format: { type: "xml" } },
      "response_format",
      /json_schema/,
    ],
  ])("rejects %s with InvalidChatRequestError naming the field", (_what, body, param, message) => {
    const error = (() => {
      try {
        fromChatRequest(body);
      } catch (e) {
        return e;
      }
    })();
    expect(InvalidChatRequestError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ param, status: 400, code: "invalid_request_error", retryable: false });
    expect((error as Error).message).toMatch(message);
  });

  it("keeps unknown fields but never an own __proto__", () => {
    const parsed = fromChatRequest(
      JSON.parse('{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"polluted":true},"user":"u"}'),
    );
    expect(parsed.request.providerOptions).toEqual({ openai: { user: "u" } });
    expect(Object.getPrototypeOf(parsed.request.providerOptions?.openai)).toBe(Object.prototype);
  });

  it("is linear in the body: 50,000 messages parse in well under a second", () => {
    const messages = Array.from({ length: 50_000 }, (_, i) => ({
      role: i % 2 ? "assistant" : "user",
      content: [{ type: "text", text: `m${i}` }],
    }));
    const started = performance.now();
    const parsed = fromChatRequest({ model: "m", messages });
    expect(parsed.request.messages).toHaveLength(50_000);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("parallelToolCalls", () => {
  const tools = [{ name: "f", parameters: { type: "object" } }];
  const ask: GenerateRequest = { messages: [{ role: "user", content: "x" }], tools, parallelToolCalls: false };
  it("goes as parallel_tool_calls with tools, not to an o-series reasoning model (which refuses it), not without tools", () => {
    expect(toChatRequest(ask, { model: "gpt-4o-mini", providerKey: "openai" }).parallel_tool_calls).toBe(false);
    expect(toChatRequest(ask, { model: "o4-mini", reasoning: true, providerKey: "openai" })).not.toHaveProperty(
      "parallel_tool_calls",
    );
    expect(
      toChatRequest({ ...ask, tools: undefined }, { model: "gpt-4o-mini", providerKey: "openai" }),
    ).not.toHaveProperty("parallel_tool_calls");
  });
});
