import { ProviderError } from "@orchestrator-ts/core";
import { SSEJsonStream } from "@orchestrator-ts/openai-format";
import { rejectionOf } from "@orchestrator-ts/testing";
import { APIError } from "openai";
import { createRequire } from "node:module";
import * as openaiEsm from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { mapOpenAIError, openAIErrorEvent } from "./map-error";
import { loadOpenAISdk } from "./sdk";

// A model loads the SDK when it initialises, before any stream can carry an error event.
beforeAll(() => loadOpenAISdk());

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

describe("mapOpenAIError knows the SDK's errors from either of its builds", () => {
  // The package imports the SDK's ESM build when a model initialises; a caller may hold the other.
  const openaiCjs = createRequire(import.meta.url)("openai") as typeof openaiEsm;
  const context = { provider: "openai", model: "m", baseURL: "http://127.0.0.1:9/v1" };
  for (const [build, sdk] of [
    ["ESM", openaiEsm],
    ["CommonJS", openaiCjs],
  ] as const) {
    it(`${build}: status errors, aborts, timeouts and connection failures`, () => {
      expect(sdk.APIError).not.toBe(build === "ESM" ? openaiCjs.APIError : openaiEsm.APIError);
      const limited = sdk.APIError.generate(
        429,
        { message: "slow down" },
        undefined,
        new Headers({ "retry-after": "2" }),
      );
      expect(mapOpenAIError(limited, context)).toMatchObject({ code: "rate_limit_error", retryAfterMs: 2000 });
      expect(mapOpenAIError(new sdk.APIUserAbortError(), context)?.code).toBe("abort_error");
      expect(mapOpenAIError(new sdk.APIConnectionTimeoutError(), context)?.code).toBe("timeout_error");
      const refused = mapOpenAIError(new sdk.APIConnectionError({ message: "Connection error." }), context);
      expect(refused).toMatchObject({ code: "provider_error", retryable: true });
      expect(refused?.message).toContain("Connection to http://127.0.0.1:9/v1 failed");
    });
  }
});
