// "At most one tool call" reaches every model, whichever API the client speaks: OpenAI's
// `parallel_tool_calls: false` and Anthropic's `tool_choice.disable_parallel_tool_use`. Before, it
// was dropped on the way to Claude (even from the Messages API) and to OpenAI from the Messages API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, rawPost, startGateway } from "./test/gateway";

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const chatTools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
const responsesTools = [{ type: "function", name: "f", parameters: { type: "object" } }];
const messagesTools = [{ name: "f", input_schema: { type: "object" } }];

/** The body the upstream of `model` got last. */
function sent(model: string): Record<string, unknown> {
  const upstream = model === "gpt-4o-mini" ? gw.openaiUpstream : gw.anthropicUpstream;
  return upstream.requests.at(-1)?.body as Record<string, unknown>;
}

describe("one tool call at most", () => {
  it("from each API to an OpenAI model (parallel_tool_calls: false) and to Claude (disable_parallel_tool_use)", async () => {
    const asks: [string, Record<string, unknown>][] = [
      [
        "/v1/chat/completions",
        { parallel_tool_calls: false, tools: chatTools, messages: [{ role: "user", content: "hi" }] },
      ],
      ["/v1/responses", { parallel_tool_calls: false, tools: responsesTools, input: "hi" }],
      [
        "/v1/messages",
        {
          max_tokens: 20,
          tool_choice: { type: "any", disable_parallel_tool_use: true },
          tools: messagesTools,
          messages: [{ role: "user", content: "hi" }],
        },
      ],
    ];
    for (const [path, body] of asks) {
      const openai = await rawPost(gw.url, path, { model: "gpt-4o-mini", ...body });
      expect(openai.status, path).toBe(200);
      expect(sent("gpt-4o-mini").parallel_tool_calls, path).toBe(false);
      const claude = await rawPost(gw.url, path, { model: "claude-sonnet-4-6", ...body });
      expect(claude.status, path).toBe(200);
      expect(sent("claude-sonnet-4-6").tool_choice, path).toMatchObject({ disable_parallel_tool_use: true });
    }
    // The Messages API's own choice is kept beside it; without the flag nothing is added.
    expect(sent("claude-sonnet-4-6").tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
    await rawPost(gw.url, "/v1/chat/completions", {
      model: "claude-sonnet-4-6",
      tools: chatTools,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(sent("claude-sonnet-4-6").tool_choice).toBeUndefined();
    const bad = await rawPost(gw.url, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      parallel_tool_calls: "no",
      tools: chatTools,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("parallel_tool_calls");
  });
});
