import { ProviderError } from "@orchestrator-ts/core";
import { SSEJsonStream } from "@orchestrator-ts/openai-format";
import { rejectionOf } from "@orchestrator-ts/testing";
import { APIError } from "openai";
import { describe, expect, it } from "vitest";
import { mapOpenAIError, openAIErrorEvent } from "./map-error";

const body = (text: string) =>
  new Response(new TextEncoder().encode(text), {
    headers: { "content-type": "text/event-stream", "x-request-id": "req_1" },
  });

describe("an error event inside a 200 stream", () => {
  it("→ the SDK's APIError (after the events before it), mapped to a retryable ProviderError", async () => {
    const stream = new SSEJsonStream(
      body('data: {"n":1}\n\ndata: {"error":{"message":"The server had an error","type":"server_error"}}\n\n'),
      { onErrorEvent: openAIErrorEvent },
    );
    expect(await stream.next()).toEqual({ done: false, value: { n: 1 } });
    const error = await rejectionOf(stream.next());
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toMatch(/The server had an error/);
    const mapped = mapOpenAIError(error, { provider: "openai", model: "m" });
    expect(mapped?.name).toBe("ProviderError");
    expect(mapped?.message).toMatch(/The server had an error/);
    expect((mapped as { retryable?: boolean }).retryable).toBe(true);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("→ a ProviderError that is not retryable when the server calls the request invalid", async () => {
    const stream = new SSEJsonStream(
      body('data: {"error":{"message":"bad tool","type":"invalid_request_error"}}\n\n'),
      { onErrorEvent: openAIErrorEvent },
    );
    const mapped = mapOpenAIError(await rejectionOf(stream.next()), { provider: "openai", model: "m" });
    expect(ProviderError.isInstance(mapped)).toBe(true);
    expect(mapped?.retryable).toBe(false);
  });
});
