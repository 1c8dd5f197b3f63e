import type { StreamChunk } from "@orchestrator-ts/core";
import type { Response, ResponseStreamEvent } from "openai/resources/responses/responses";
import { accumulateResponse } from "openai/lib/responses/ResponseAccumulator";
import { describe, expect, it } from "vitest";
import { InvalidChatRequestError } from "./parse-request";
import { fromResponsesRequest } from "./responses-request";
import { ResponsesStreamEncoder, toResponsesResponse } from "./responses-response";

const identity = { id: "resp_abc", createdAt: 1_700_000_000, model: "m" };

describe("fromResponsesRequest", () => {
  it("reads a conversation: instructions, developer text, images, an assistant's items, a tool's output", () => {
    const { request, user, stream } = fromResponsesRequest({
      model: "auto",
      instructions: "Be brief",
      safety_identifier: "u-1",
      stream: true,
      input: [
        { role: "developer", content: [{ type: "input_text", text: "Use metric units" }] },
        {
          role: "user",
          content: [
            { type: "input_text", text: "What is this?" },
            { type: "input_image", image_url: "data:image/png;base64,AAAA" },
          ],
        },
        {
          type: "reasoning",
          id: "rs_1",
          summary: [],
          content: [{ type: "reasoning_text", text: "Think" }],
          encrypted_content: "sig",
        },
        { type: "reasoning", id: "rs_2", summary: [], encrypted_content: "redacted:opaque" },
        // A signature without its text cannot be given back: left out.
        { type: "reasoning", id: "rs_3", summary: [], content: null, encrypted_content: "sig-without-text" },
        {
          type: "message",
          role: "assistant",
          content: [{ type: "output_text", text: "Let me check.", annotations: [] }],
        },
        { type: "function_call", call_id: "c1", name: "look", arguments: '{"q":1}' },
        { type: "function_call_output", call_id: "c1", output: [{ type: "input_text", text: "a cat" }] },
      ],
      max_output_tokens: 50,
      reasoning: { effort: "minimal" },
      text: { format: { type: "json_schema", name: "x", schema: { type: "object" } } },
      store: true,
      metadata: { a: "b" },
    });
    expect(user).toBe("u-1");
    expect(stream).toBe(true);
    expect(request.messages).toEqual([
      { role: "system", content: "Be brief" },
      { role: "system", content: "Use metric units" },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image", data: "AAAA", mediaType: "image/png" },
        ],
      },
      {
        role: "assistant",
        content: "Let me check.",
        reasoning: [
          { type: "reasoning", text: "Think", signature: "sig" },
          { type: "reasoning", text: "", redactedData: "opaque" },
        ],
        toolCalls: [{ id: "c1", name: "look", arguments: { q: 1 } }],
      },
      { role: "tool", toolCallId: "c1", content: "a cat" },
    ]);
    expect(request.maxTokens).toBe(50);
    // "minimal" is OpenAI's own effort: sent on to OpenAI models as it is (others get no reasoning), as on chat completions.
    expect(request.reasoning).toBeUndefined();
    // Not strict unless asked, as on chat completions.
    expect(request.responseFormat).toEqual({ type: "json", name: "x", schema: { type: "object" } });
    expect(request.providerOptions).toEqual({ openai: { strictJsonSchema: false, reasoning_effort: "minimal" } });
    expect(fromResponsesRequest({ model: "m", input: "hi", reasoning: { effort: "high" } }).request.reasoning).toEqual({
      effort: "high",
    });
  });

  it("allowed_tools offers only the allowed functions this turn, with its mode", () => {
    const tools = ["a", "b", "c"].map((name) => ({ type: "function", name, parameters: { type: "object" } }));
    const { request } = fromResponsesRequest({
      model: "m",
      input: "hi",
      tools,
      tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "b" }] },
    });
    expect(request.tools?.map((t) => t.name)).toEqual(["b"]);
    expect(request.toolChoice).toBe("required");
    const none = fromResponsesRequest({
      model: "m",
      input: "hi",
      tools,
      tool_choice: { type: "allowed_tools", mode: "auto", tools: [] },
    }).request;
    expect(none.tools).toBeUndefined();
    expect(none.toolChoice).toBe("none");
  });

  it("names the field of what it cannot serve", () => {
    const param = (body: Record<string, unknown>) => {
      try {
        fromResponsesRequest({ model: "m", input: "hi", ...body });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidChatRequestError);
        return (error as InvalidChatRequestError).param;
      }
      return undefined;
    };
    expect(param({ conversation: "conv_1" })).toBe("conversation");
    expect(param({ input: [] })).toBe("input");
    expect(param({ input: [{ type: "item_reference", id: "x" }] })).toBe("input[0]");
    expect(param({ input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] })).toBe(
      "input[0].content[0]",
    );
    expect(param({ input: [{ role: "tool", content: "x" }] })).toBe("input[0].role");
    expect(param({ input: [{ type: "function_call", name: "f" }] })).toBe("input[0].call_id");
    expect(param({ tools: [{ type: "function" }] })).toBe("tools[0].name");
    expect(param({ tool_choice: { type: "web_search" } })).toBe("tool_choice");
    expect(param({ reasoning: { effort: "extreme" } })).toBe("reasoning.effort");
    expect(param({ tools: [{ type: "custom", name: "sql" }] })).toBe("tools[0].type");
    expect(
      param({
        input: [
          {
            type: "function_call_output",
            call_id: "c",
            output: 42,
          },
        ],
      }),
    ).toBe("input[0].output");
    expect(param({ max_output_tokens: 0 })).toBe("max_output_tokens");
  });
});

describe("toResponsesResponse and ResponsesStreamEncoder", () => {
  const chunks: StreamChunk[] = [
    { type: "reasoning", text: "Hmm" },
    { type: "reasoning", text: ".", signature: "sig" },
    { type: "reasoning", text: "", redactedData: "opaque" },
    { type: "text", text: "Hel" },
    { type: "text", text: "lo" },
    { type: "tool-call", toolCall: { id: "c1", name: "look", arguments: { q: 1 } } },
    { type: "finish", finishReason: { unified: "length" }, usage: { inputTokens: 3, outputTokens: 4 } },
  ];

  it("the stream, as the openai SDK accumulates it, is the whole answer", () => {
    const encoder = new ResponsesStreamEncoder(identity);
    let snapshot: Response | undefined;
    const events: ResponseStreamEvent[] = [];
    for (const chunk of chunks)
      for (const event of encoder.encode(chunk)) events.push(event as unknown as ResponseStreamEvent);
    for (const event of events) snapshot = accumulateResponse(event, snapshot) as Response;
    const whole = toResponsesResponse(
      {
        text: "Hello",
        reasoning: [
          { type: "reasoning", text: "Hmm.", signature: "sig" },
          { type: "reasoning", text: "", redactedData: "opaque" },
        ],
        toolCalls: [{ id: "c1", name: "look", arguments: { q: 1 } }],
        finishReason: { unified: "length" },
        usage: { inputTokens: 3, outputTokens: 4 },
      },
      identity,
    );
    expect(events.at(-1)?.type).toBe("response.incomplete");
    expect(whole.status).toBe("incomplete");
    expect(whole.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(snapshot?.output.map((item) => item.type)).toEqual(["reasoning", "reasoning", "message", "function_call"]);
    expect(snapshot?.output_text).toBe("Hello");
    // The same items, ids included, whole or streamed.
    const { output: streamed, ...rest } = (events.at(-1) as unknown as { response: Response }).response;
    expect(streamed.map((item) => item.id)).toEqual(whole.output.map((item) => item.id));
    expect(streamed.slice(0, 2)).toEqual(whole.output.slice(0, 2));
    expect(whole.output[1]).toMatchObject({ type: "reasoning", encrypted_content: "redacted:opaque" });
    expect(streamed.slice(2)).toEqual(whole.output.slice(2));
    expect(rest.usage).toEqual(whole.usage);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it("a text answer cut short is incomplete, its message too, whole or streamed", () => {
    const whole = toResponsesResponse({ text: "Hi", finishReason: { unified: "length" } }, identity);
    const encoder = new ResponsesStreamEncoder(identity);
    encoder.encode({ type: "text", text: "Hi" });
    const last = encoder.encode({ type: "finish", finishReason: { unified: "length" } }).at(-1);
    expect(last).toMatchObject({
      type: "response.incomplete",
      response: { status: "incomplete", output: whole.output },
    });
    expect(whole.output[0]).toMatchObject({ type: "message", status: "incomplete" });
  });

  it("usage a provider did not report is left out; an answer with nothing in it still has its message", () => {
    const whole = toResponsesResponse({ text: "" }, identity);
    expect(whole.usage).toBeUndefined();
    expect(whole.output).toEqual([
      {
        type: "message",
        id: "msg_abc_0",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "", annotations: [], logprobs: [] }],
      },
    ]);
    const encoder = new ResponsesStreamEncoder(identity);
    const events = encoder.encode({ type: "finish" });
    expect(events.at(-1)).toMatchObject({ type: "response.completed", response: { output: whole.output } });
  });
});

describe("ResponsesStreamEncoder with tool-input chunks", () => {
  it('a streamed function call whose pieces never came has arguments "{}", in its delta, its .done and the response', async () => {
    const { ResponsesStreamEncoder } = await import("./responses-response");
    const encoder = new ResponsesStreamEncoder({ id: "resp_1", createdAt: 1, model: "m" } as never);
    const events = [
      { type: "tool-input-start", id: "toolu_1", name: "get_time" },
      { type: "tool-call", toolCall: { id: "toolu_1", name: "get_time", arguments: {} } },
      { type: "finish", finishReason: { unified: "tool-calls" } },
    ].flatMap((c) => encoder.encode(c as never)) as {
      type: string;
      delta?: string;
      arguments?: string;
      response?: { output: { arguments?: string }[] };
    }[];
    expect(events.filter((e) => e.type === "response.function_call_arguments.delta").map((e) => e.delta)).toEqual([
      "{}",
    ]);
    expect(events.find((e) => e.type === "response.function_call_arguments.done")?.arguments).toBe("{}");
    expect(events.find((e) => e.type === "response.completed")?.response?.output[0]?.arguments).toBe("{}");
  });
});
