import { describe, expect, it } from "vitest";
import { inputContent } from "./content";

describe("captured content", () => {
  it("leaves a tool result's image bytes out of the span, as a user image's", () => {
    const bytes = "A".repeat(200_000);
    const { input } = inputContent({
      messages: [
        { role: "user", content: [{ type: "image", data: bytes, mediaType: "image/png" }] },
        {
          role: "tool",
          toolCallId: "c1",
          content: [
            { type: "text", text: "screen.png" },
            { type: "image", data: bytes, mediaType: "image/png" },
          ],
        },
      ],
    });
    expect(input.length).toBeLessThan(1_000);
    expect(JSON.parse(input)[1]).toEqual({
      role: "tool",
      parts: [
        {
          type: "tool_call_response",
          id: "c1",
          response: [
            { type: "text", content: "screen.png" },
            { type: "blob", modality: "image", mime_type: "image/png" },
          ],
        },
      ],
    });
  });
});
