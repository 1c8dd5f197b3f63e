import { describe, expect, it } from "vitest";
import type { GenerateRequest } from "./types";
import { withField } from "./with-field";

describe("withField", () => {
  it("copies the request with the one field set and leaves the caller's object as it was", () => {
    const request: GenerateRequest = { messages: [{ role: "user", content: "hi" }], maxTokens: 5 };
    const signal = new AbortController().signal;
    const copy = withField(request, "signal", signal);
    expect(copy).not.toBe(request);
    expect(copy).toEqual({ messages: request.messages, maxTokens: 5, signal });
    expect(copy.messages).toBe(request.messages);
    expect("signal" in request).toBe(false);
  });

  it("replaces a field the object already has", () => {
    const copy = withField({ messages: [], timeoutMs: 10 } as GenerateRequest, "timeoutMs", 20);
    expect(copy.timeoutMs).toBe(20);
  });
});
