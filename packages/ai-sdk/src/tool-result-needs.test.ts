import { describe, expect, it } from "vitest";
import { fromCallOptions } from "./from-call-options";

describe("a tool result's image", () => {
  it("makes the call need a model that sees, as a user's image does (auto and routes then pick one)", () => {
    const png = "iVBORw0KGgo=";
    const { needs, request } = fromCallOptions({
      prompt: [
        { role: "user", content: [{ type: "text", text: "take a screenshot" }] },
        { role: "assistant", content: [{ type: "tool-call", toolCallId: "c1", toolName: "screenshot", input: {} }] },
        {
          role: "tool",
          content: [
            {
              type: "tool-result",
              toolCallId: "c1",
              toolName: "screenshot",
              output: { type: "content", value: [{ type: "image-data", data: png, mediaType: "image/png" }] },
            },
          ],
        },
      ],
    } as never);
    expect(needs).toContain("vision");
    expect(request.messages[2]).toMatchObject({ role: "tool", content: [{ type: "image", data: png }] });
  });
});
