import Anthropic, { BadRequestError as AnthropicBadRequest } from "@anthropic-ai/sdk";
import { BadRequestError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "./test/gateway";

// A tool choice that names a tool the request does not declare is the client's 400, as OpenAI's and
// Anthropic's APIs answer it, naming the tool and the field; it never reaches a model.

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const upstreamRequests = () => gw.openaiUpstream.requests.length + gw.anthropicUpstream.requests.length;

describe("tool_choice naming a tool that is not in tools", () => {
  it("chat completions: a 400 invalid_request_error with param tool_choice.function.name; a declared tool goes on", async () => {
    const before = upstreamRequests();
    const weather = { type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } };
    const missing = (await gw.client.chat.completions
      .create({
        model: "gpt-4o-mini",
        messages: ask("x"),
        tools: [weather],
        tool_choice: { type: "function", function: { name: "get_time" } },
      })
      .catch((e: unknown) => e)) as BadRequestError;
    expect(missing).toBeInstanceOf(BadRequestError);
    expect([missing.status, missing.type, missing.param]).toEqual([
      400,
      "invalid_request_error",
      "tool_choice.function.name",
    ]);
    expect(missing.message).toContain("no tool named 'get_time' (tools has 'get_weather')");

    const noTools = (await gw.client.chat.completions
      .create({
        model: "gpt-4o-mini",
        messages: ask("x"),
        tool_choice: { type: "function", function: { name: "get_time" } },
      })
      .catch((e: unknown) => e)) as BadRequestError;
    expect([noTools.status, noTools.param]).toEqual([400, "tool_choice.function.name"]);
    expect(noTools.message).toContain("no tool named 'get_time' (the request declares no tools)");
    expect(upstreamRequests()).toBe(before);

    // Naming a declared tool still reaches the model.
    gw.openaiUpstream.setReply(() => ({ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] }));
    const answer = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("x"),
      tools: [weather],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    expect(answer.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: "get_weather" } });
  });

  it("Responses: a 400 invalid_request_error with param tool_choice.name", async () => {
    const before = upstreamRequests();
    const error = (await gw.client.responses
      .create({
        model: "gpt-4o-mini",
        input: "x",
        tools: [{ type: "function", name: "get_weather", parameters: { type: "object" }, strict: false }],
        tool_choice: { type: "function", name: "get_time" },
      })
      .catch((e: unknown) => e)) as BadRequestError;
    expect(error).toBeInstanceOf(BadRequestError);
    expect([error.status, error.type, error.param]).toEqual([400, "invalid_request_error", "tool_choice.name"]);
    expect(error.message).toContain("no tool named 'get_time' (tools has 'get_weather')");
    expect(upstreamRequests()).toBe(before);
  });

  it("Messages: a 400 invalid_request_error in Anthropic's shape, starting with tool_choice.name", async () => {
    const before = upstreamRequests();
    const client = new Anthropic({ apiKey: "sk-gateway-client", baseURL: gw.url, maxRetries: 0 });
    const error = (await client.messages
      .create({
        model: "claude-sonnet-4-6",
        max_tokens: 10,
        messages: ask("x"),
        tools: [{ name: "get_weather", input_schema: { type: "object" } }],
        tool_choice: { type: "tool", name: "get_time" },
      })
      .catch((e: unknown) => e)) as AnthropicBadRequest;
    expect(error).toBeInstanceOf(AnthropicBadRequest);
    expect(error.error).toEqual({
      type: "error",
      error: {
        type: "invalid_request_error",
        message: "tool_choice.name: no tool named 'get_time' (tools has 'get_weather').",
      },
    });
    expect(upstreamRequests()).toBe(before);
  });
});

describe("a tool choice that makes the model call a tool, with no tool to call", () => {
  it("chat completions and Responses: required without tools is a 400 on tool_choice; auto and none still pass", async () => {
    const before = upstreamRequests();
    const chat = (await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("x"), tool_choice: "required" })
      .catch((e: unknown) => e)) as BadRequestError;
    expect(chat).toBeInstanceOf(BadRequestError);
    expect([chat.status, chat.type, chat.param]).toEqual([400, "invalid_request_error", "tool_choice"]);
    expect(chat.message).toContain('"required" makes the model call a tool, and the request declares no tools');

    const responses = (await gw.client.responses
      .create({ model: "gpt-4o-mini", input: "x", tool_choice: "required" })
      .catch((e: unknown) => e)) as BadRequestError;
    expect([responses.status, responses.param]).toEqual([400, "tool_choice"]);

    // allowed_tools: each name must be declared, and "required" needs one of them.
    const tools = [{ type: "function" as const, name: "get_weather", parameters: { type: "object" }, strict: false }];
    const unknown = (await gw.client.responses
      .create({
        model: "gpt-4o-mini",
        input: "x",
        tools,
        tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "get_time" }] },
      })
      .catch((e: unknown) => e)) as BadRequestError;
    expect([unknown.status, unknown.param]).toEqual([400, "tool_choice.tools[0].name"]);
    expect(unknown.message).toContain("no tool named 'get_time' (tools has 'get_weather')");
    const none = (await gw.client.responses
      .create({
        model: "gpt-4o-mini",
        input: "x",
        tools,
        tool_choice: { type: "allowed_tools", mode: "required", tools: [] },
      })
      .catch((e: unknown) => e)) as BadRequestError;
    expect([none.status, none.param]).toEqual([400, "tool_choice.tools"]);
    expect(upstreamRequests()).toBe(before);

    // Without tools, "auto" and "none" ask nothing impossible: answered.
    gw.openaiUpstream.setReply(() => ({ text: "fine" }));
    for (const choice of ["auto", "none"] as const) {
      const ok = await gw.client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: ask("x"),
        tool_choice: choice,
      });
      expect(ok.choices[0]?.message.content).toBe("fine");
    }
  });

  it('Messages: "any" without tools is a 400 in Anthropic\'s shape', async () => {
    const before = upstreamRequests();
    const client = new Anthropic({ apiKey: "sk-gateway-client", baseURL: gw.url, maxRetries: 0 });
    const error = (await client.messages
      .create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: ask("x"), tool_choice: { type: "any" } })
      .catch((e: unknown) => e)) as AnthropicBadRequest;
    expect(error).toBeInstanceOf(AnthropicBadRequest);
    expect(error.error).toEqual({
      type: "error",
      error: {
        type: "invalid_request_error",
        message: 'tool_choice: "any" makes the model call a tool, and the request declares no tools.',
      },
    });
    expect(upstreamRequests()).toBe(before);
  });
});
