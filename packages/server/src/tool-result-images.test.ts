// A tool that returns an image (Claude Code's Read of a screenshot, an MCP chart tool): the image
// reaches the model with the tool's result. Before, the gateway refused it with a 400.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, rawPost, startGateway } from "./test/gateway";

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const messagesBody = (model: string) => ({
  model,
  max_tokens: 20,
  tools: [{ name: "screenshot", input_schema: { type: "object" } }],
  messages: [
    { role: "user", content: "what is on the screen?" },
    { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "screenshot", input: {} }] },
    {
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "toolu_1",
          content: [
            { type: "text", text: "screen.png" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          ],
        },
      ],
    },
  ],
});

describe("an image a tool returned", () => {
  it("reaches Claude inside its tool_result, from the Messages API and the Responses API", async () => {
    const viaMessages = await rawPost(gw.url, "/v1/messages", messagesBody("claude-sonnet-4-6"));
    expect(viaMessages.status, viaMessages.text).toBe(200);
    const sent = () => {
      const body = gw.anthropicUpstream.requests.at(-1)?.body as { messages: { content: unknown }[] };
      return (body.messages[2]?.content as { type: string; content: unknown }[] | undefined)?.[0];
    };
    expect(sent()).toMatchObject({
      type: "tool_result",
      tool_use_id: "toolu_1",
      content: [
        { type: "text", text: "screen.png" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
      ],
    });
    const viaResponses = await rawPost(gw.url, "/v1/responses", {
      model: "claude-sonnet-4-6",
      tools: [{ type: "function", name: "screenshot", parameters: { type: "object" } }],
      input: [
        { role: "user", content: "what is on the screen?" },
        { type: "function_call", call_id: "call_1", name: "screenshot", arguments: "{}" },
        {
          type: "function_call_output",
          call_id: "call_1",
          output: [
            { type: "input_text", text: "screen.png" },
            { type: "input_image", image_url: `data:image/png;base64,${PNG}` },
          ],
        },
      ],
    });
    expect(viaResponses.status, viaResponses.text).toBe(200);
    expect(sent()).toMatchObject({
      content: [
        { type: "text", text: "screen.png" },
        { type: "image", source: { type: "base64", data: PNG } },
      ],
    });
  });

  it("reaches an OpenAI model in a user message right after the tool's result (its tool messages hold text only)", async () => {
    const res = await rawPost(gw.url, "/v1/messages", messagesBody("gpt-4o-mini"));
    expect(res.status, res.text).toBe(200);
    const body = gw.openaiUpstream.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    expect(body.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
    expect(body.messages[2]?.content).toBe("screen.png");
    expect(body.messages[3]?.content).toEqual([
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
    ]);
  });
});
