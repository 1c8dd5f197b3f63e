import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { InvalidMessagesRequestError, fromMessagesRequest } from "./parse-request";
import { toMessagesRequest } from "./request";
import type { MessagesRequest } from "./wire";

// Typed as the SDK's own params: what a client of the real API sends.
const body: Anthropic.MessageCreateParamsNonStreaming = {
  model: "claude-sonnet-4-6",
  max_tokens: 300,
  system: "Be brief.",
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "What is in this picture, and the weather in Oslo?" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
        { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
      ],
    },
    {
      role: "assistant",
      content: [
        { type: "text", text: "A cat. Checking the weather." },
        { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "4°C" },
        { type: "text", text: "And tomorrow?" },
      ],
    },
  ],
  tools: [
    {
      name: "get_weather",
      description: "Weather by city",
      input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  ],
  tool_choice: { type: "auto" },
  stop_sequences: ["\n\nHuman:"],
  metadata: { user_id: "u-42" },
};

describe("fromMessagesRequest", () => {
  it("reads every field into the core's terms", () => {
    const parsed = fromMessagesRequest({ ...body, stream: true, temperature: 0.2, top_p: 0.9, top_k: 5 });
    expect(parsed.model).toBe("claude-sonnet-4-6");
    expect(parsed.stream).toBe(true);
    expect(parsed.user).toBe("u-42");
    expect(parsed.request).toEqual({
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture, and the weather in Oslo?" },
            { type: "image", data: "iVBORw0KGgo=", mediaType: "image/png" },
            { type: "image", url: "https://example.com/cat.jpg" },
          ],
        },
        {
          role: "assistant",
          content: "A cat. Checking the weather.",
          toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Oslo" } }],
        },
        { role: "tool", toolCallId: "toolu_1", content: "4°C" },
        { role: "user", content: [{ type: "text", text: "And tomorrow?" }] },
      ],
      maxTokens: 300,
      temperature: 0.2,
      topP: 0.9,
      stop: ["\n\nHuman:"],
      tools: [
        {
          name: "get_weather",
          description: "Weather by city",
          parameters: body.tools?.[0] && (body.tools[0] as Anthropic.Tool).input_schema,
        },
      ],
      toolChoice: "auto",
      // What the core has no name for is kept for an Anthropic model to send on.
      providerOptions: { anthropic: { metadata: { user_id: "u-42" }, top_k: 5 } },
    });
  });

  it("round trip: the body → core → the body an AnthropicModel sends, the same", () => {
    const { request, model } = fromMessagesRequest(body);
    const { params, warnings } = toMessagesRequest(request, { model, maxTokens: 1 });
    expect(params).toEqual(body);
    expect(warnings).toEqual([]);
    // And what toMessagesRequest writes is the SDK's params type (checked by the compiler).
    const typed: Anthropic.MessageCreateParams = params;
    expect(typed.model).toBe(model);
  });

  it("keeps every cache_control breakpoint (system, text, image, tool_result, tool) through the core and back, so prompt caching still works behind the gateway", () => {
    const png = { type: "base64", media_type: "image/png", data: "AAAA" };
    const body = {
      model: "claude-sonnet-4-6",
      max_tokens: 64,
      system: [
        { type: "text", text: "You are terse." },
        { type: "text", text: "A long manual.", cache_control: { type: "ephemeral", ttl: "1h" } },
      ],
      tools: [
        {
          name: "lookup",
          description: "Look it up",
          input_schema: { type: "object", properties: { q: { type: "string" } } },
          cache_control: { type: "ephemeral" },
        },
      ],
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: png, cache_control: { type: "ephemeral" } },
            { type: "text", text: "What is this?" },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me look.", cache_control: { type: "ephemeral" } },
            { type: "tool_use", id: "t1", name: "lookup", input: { q: "it" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: "a cat", cache_control: { type: "ephemeral" } },
            { type: "text", text: "And now?", cache_control: { type: "ephemeral" } },
          ],
        },
      ],
    };
    const { request } = fromMessagesRequest(body);
    const { params } = toMessagesRequest(request, { model: "claude-sonnet-4-6", maxTokens: 1024 });
    expect(params.system).toEqual(body.system);
    expect(params.tools).toEqual(body.tools);
    expect(params.messages).toEqual([
      body.messages[0],
      body.messages[1],
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "t1", content: "a cat", cache_control: { type: "ephemeral" } },
          { type: "text", text: "And now?", cache_control: { type: "ephemeral" } },
        ],
      },
    ]);
    // Without a breakpoint the system prompt stays one string.
    const plain = fromMessagesRequest({
      ...body,
      system: [
        { type: "text", text: "One." },
        { type: "text", text: "Two." },
      ],
    });
    expect(toMessagesRequest(plain.request, { model: "m", maxTokens: 8 }).params.system).toBe("One.\n\nTwo.");
    expect(() =>
      fromMessagesRequest({ ...body, tools: [{ ...body.tools[0], cache_control: { type: "forever" } }] }),
    ).toThrow('tools.0.cache_control: expected { "type": "ephemeral" } (with an optional "ttl").');
  });

  it("system blocks, tool choices, an error result, thinking blocks and structured output", () => {
    const parsed = fromMessagesRequest({
      model: "m",
      max_tokens: 10,
      system: [
        { type: "text", text: "One." },
        { type: "text", text: "Two.", cache_control: { type: "ephemeral" } },
      ],
      messages: [
        { role: "user", content: "q" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "s" },
            { type: "tool_use", id: "t1", name: "f", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "t1",
              is_error: true,
              content: [{ type: "text", text: "no such city" }],
            },
          ],
        },
      ],
      tools: [{ name: "f", input_schema: { type: "object" } }],
      tool_choice: { type: "any" },
      output_config: {
        format: { type: "json_schema", schema: { type: "object", properties: { a: { type: "number" } } } },
        effort: "low",
      },
    });
    expect(parsed.request.messages).toEqual([
      { role: "system", content: "One." },
      { role: "system", content: "Two.", cacheControl: { type: "ephemeral" } },
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "t1", name: "f", arguments: {} }],
        // Given back with its signature: with extended thinking and tools Anthropic requires it.
        reasoning: [{ type: "reasoning", text: "hmm", signature: "s" }],
      },
      { role: "tool", toolCallId: "t1", content: "Error: no such city" },
    ]);
    expect(parsed.request.toolChoice).toBe("required");
    expect(parsed.request.responseFormat).toEqual({
      type: "json",
      schema: { type: "object", properties: { a: { type: "number" } } },
    });
    expect(parsed.request.providerOptions).toEqual({ anthropic: { output_config: { effort: "low" } } });
    expect(parsed.stream).toBe(false);
    expect(parsed.user).toBeUndefined();
    expect(
      fromMessagesRequest({ ...body, tool_choice: { type: "tool", name: "get_weather" } }).request.toolChoice,
    ).toEqual({ name: "get_weather" });
    expect(fromMessagesRequest({ ...body, tool_choice: { type: "none" } }).request.toolChoice).toBe("none");
  });

  it("bad input is an InvalidMessagesRequestError naming the field in Anthropic's notation", () => {
    const cases: [unknown, string][] = [
      ["not an object", ""],
      [{ ...body, model: undefined }, "model"],
      [{ ...body, model: 7 }, "model"],
      [{ ...body, messages: undefined }, "messages"],
      [{ ...body, messages: [] }, "messages"],
      [{ ...body, max_tokens: undefined }, "max_tokens"],
      [{ ...body, max_tokens: 0 }, "max_tokens"],
      [{ ...body, max_tokens: "10" }, "max_tokens"],
      [{ ...body, system: 5 }, "system"],
      [{ ...body, system: [{ type: "image" }] }, "system.0"],
      [{ ...body, messages: [{ role: "system", content: "x" }] }, "messages.0.role"],
      [{ ...body, messages: [{ role: "user", content: 5 }] }, "messages.0.content"],
      [{ ...body, messages: [{ role: "user", content: [{ type: "document" }] }] }, "messages.0.content.0.type"],
      [{ ...body, messages: [{ role: "user", content: [{ type: "text", text: 1 }] }] }, "messages.0.content.0.text"],
      [
        { ...body, messages: [{ role: "user", content: [{ type: "image", source: { type: "file" } }] }] },
        "messages.0.content.0.source",
      ],
      [
        { ...body, messages: [{ role: "user", content: [{ type: "tool_use", id: "a", name: "b", input: {} }] }] },
        "messages.0.content.0.type",
      ],
      [
        { ...body, messages: [{ role: "assistant", content: [{ type: "tool_use", name: "b", input: {} }] }] },
        "messages.0.content.0.id",
      ],
      [
        { ...body, messages: [{ role: "user", content: [{ type: "tool_result" }] }] },
        "messages.0.content.0.tool_use_id",
      ],
      [
        {
          ...body,
          messages: [
            { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "image" }] }] },
          ],
        },
        // An image in a tool result is taken now (a screenshot); one without a source is refused there.
        "messages.0.content.0.content.0.source",
      ],
      [{ ...body, tools: {} }, "tools"],
      [{ ...body, tools: [{ name: "f" }] }, "tools.0.input_schema"],
      [{ ...body, tools: [{ type: "web_search_20250305", name: "web_search" }] }, "tools.0.type"],
      [{ ...body, tool_choice: { type: "tool" } }, "tool_choice.name"],
      [{ ...body, tool_choice: "auto" }, "tool_choice"],
      [{ ...body, temperature: "hot" }, "temperature"],
      [{ ...body, top_p: Number.NaN }, "top_p"],
      [{ ...body, stop_sequences: "stop" }, "stop_sequences"],
      [{ ...body, metadata: { user_id: 5 } }, "metadata.user_id"],
      [{ ...body, stream: "yes" }, "stream"],
      [{ ...body, output_config: { format: { type: "json_object" } } }, "output_config.format"],
    ];
    for (const [input, param] of cases) {
      let caught: unknown;
      try {
        fromMessagesRequest(input);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(input).slice(0, 200)).toBeInstanceOf(InvalidMessagesRequestError);
      const error = caught as InvalidMessagesRequestError;
      expect(error.param).toBe(param);
      expect(error.status).toBe(400);
      expect(error.code).toBe("invalid_request_error");
      if (param !== "") expect(error.message.startsWith(`${param}:`)).toBe(true);
      expect(InvalidMessagesRequestError.isInstance(error)).toBe(true);
    }
  });

  it("an own __proto__ key is dropped, never copied into providerOptions", () => {
    const parsed = fromMessagesRequest(
      JSON.parse(
        '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"__proto__":{"polluted":true}}',
      ),
    );
    expect(parsed.request.providerOptions).toBeUndefined();
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("is linear in the body: 20,000 blocks parse in well under a second", () => {
    const content = Array.from({ length: 20_000 }, (_, i) => ({ type: "text" as const, text: `t${i}` }));
    const started = performance.now();
    const parsed = fromMessagesRequest({
      model: "m",
      max_tokens: 5,
      messages: [{ role: "user", content }],
    } satisfies MessagesRequest);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(parsed.request.messages[0]).toMatchObject({ role: "user", content: expect.any(Array) });
    expect(parsed.request.messages[0]?.content).toHaveLength(20_000);
  });
});
