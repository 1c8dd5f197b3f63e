import { createRequire } from "node:module";
import * as esm from "@huggingface/inference";
import { describe, expect, it } from "vitest";
import { mapHuggingFaceError } from "./map-error";

// The package loads the SDK only when a model initialises; mapHuggingFaceError is public and is
// handed errors from whichever copy of the SDK the caller has (its ESM or its CommonJS build).
const cjs = createRequire(import.meta.url)("@huggingface/inference") as typeof esm;
const context = { provider: "huggingface", model: "m" };

describe("mapHuggingFaceError knows the SDK's errors from either build", () => {
  for (const [build, sdk] of [
    ["ESM", esm],
    ["CommonJS", cjs],
  ] as const) {
    it(`${build}: an API error keeps its status, a bad output is retryable, bad input is not`, () => {
      expect(sdk.InferenceClientProviderApiError).not.toBe(
        build === "ESM" ? cjs.InferenceClientProviderApiError : esm.InferenceClientProviderApiError,
      );
      const api = new sdk.InferenceClientProviderApiError(
        "failed",
        { url: "https://x", method: "POST" },
        { requestId: "r", status: 429, body: { error: "slow down" } },
      );
      const mapped = mapHuggingFaceError(api, context);
      expect(mapped?.code).toBe("rate_limit_error");
      expect(mapped?.message).toContain("slow down");
      const output = mapHuggingFaceError(new sdk.InferenceClientProviderOutputError("garbled"), context);
      expect(output).toMatchObject({ code: "provider_error", retryable: true });
      const input = mapHuggingFaceError(new sdk.InferenceClientInputError("no model"), context);
      expect(input).toMatchObject({ code: "provider_error", retryable: false });
    });
  }

  it("an error of another kind that happens to share a name but has no response is not taken for an API error", () => {
    const lookalike = Object.assign(new Error("x"), { name: "ProviderApiError" });
    expect(mapHuggingFaceError(lookalike, context)).toBeUndefined();
  });
});
