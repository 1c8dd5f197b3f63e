// A tool result (or a text-only message) in several text parts reaches the model with each part on
// its own line, on every face: before, the parts were run together ("file_a.txtfile_b.txt").
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, rawPost, startGateway } from "./test/gateway";

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const files = (type: string) => [
  { type, text: "file_a.txt" },
  { type, text: "file_b.txt" },
];

/** What the upstream of `model` was sent as the tool's result. */
function sentResult(model: string): unknown {
  if (model === "gpt-4o-mini") {
    const body = gw.openaiUpstream.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    return body.messages.find((m) => m.role === "tool")?.content;
  }
  const body = gw.anthropicUpstream.requests.at(-1)?.body as {
    messages: { content: { type: string; content?: unknown }[] | string }[];
  };
  for (const m of body.messages)
    if (Array.isArray(m.content)) for (const b of m.content) if (b.type === "tool_result") return b.content;
  return undefined;
}

const asText = (content: unknown) =>
  typeof content === "string" ? content : (content as { text: string }[]).map((b) => b.text).join("|");

describe("a tool result in several text parts", () => {
  for (const model of ["gpt-4o-mini", "claude-sonnet-4-6"]) {
    it(`reaches ${model} a part per line, from /v1/messages, /v1/chat/completions and /v1/responses`, async () => {
      const messages = await rawPost(gw.url, "/v1/messages", {
        model,
        max_tokens: 10,
        tools: [{ name: "ls", input_schema: { type: "object" } }],
        messages: [
          { role: "user", content: "list" },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "ls", input: {} }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: files("text") }] },
        ],
      });
      expect(messages.status).toBe(200);
      expect(asText(sentResult(model))).toBe("file_a.txt\nfile_b.txt");

      const chat = await rawPost(gw.url, "/v1/chat/completions", {
        model,
        tools: [{ type: "function", function: { name: "ls", parameters: { type: "object" } } }],
        messages: [
          { role: "user", content: "list" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_1", type: "function", function: { name: "ls", arguments: "{}" } }],
          },
          { role: "tool", tool_call_id: "call_1", content: files("text") },
        ],
      });
      expect(chat.status).toBe(200);
      expect(asText(sentResult(model))).toBe("file_a.txt\nfile_b.txt");

      const responses = await rawPost(gw.url, "/v1/responses", {
        model,
        tools: [{ type: "function", name: "ls", parameters: { type: "object" } }],
        input: [
          { role: "user", content: "list" },
          { type: "function_call", call_id: "c1", name: "ls", arguments: "{}" },
          { type: "function_call_output", call_id: "c1", output: files("input_text") },
        ],
      });
      expect(responses.status).toBe(200);
      expect(asText(sentResult(model))).toBe("file_a.txt\nfile_b.txt");
    });
  }
});

describe("an assistant turn in several text parts", () => {
  it("reaches an OpenAI model a part per line, also when a part carries a cache breakpoint", async () => {
    // A cache breakpoint keeps the turn's parts apart (Claude needs it on its block); OpenAI gets one string.
    const res = await rawPost(gw.url, "/v1/messages", {
      model: "gpt-4o-mini",
      max_tokens: 10,
      messages: [
        { role: "user", content: "go on" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "The first part." },
            { type: "text", text: "The second part.", cache_control: { type: "ephemeral" } },
          ],
        },
        { role: "user", content: "and?" },
      ],
    });
    expect(res.status).toBe(200);
    const body = gw.openaiUpstream.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    expect(body.messages.find((m) => m.role === "assistant")?.content).toBe("The first part.\nThe second part.");
  });
});
