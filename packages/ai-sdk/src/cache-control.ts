// A prompt-cache breakpoint in the AI SDK's terms is `providerOptions.anthropic.cacheControl` on a
// message, a part or a tool (what `@ai-sdk/anthropic` reads); ours is the core's `cacheControl`.
import type { CacheControl } from "@orchestrator-ts/core";
import type { SharedV3ProviderOptions } from "@ai-sdk/provider";

/** The breakpoint an AI SDK message, part or tool carries, if any (`cacheControl`, or `cache_control`). */
export function cacheControlFrom(options: SharedV3ProviderOptions | undefined): CacheControl | undefined {
  const anthropic = options?.anthropic;
  const value = anthropic?.cacheControl ?? anthropic?.cache_control;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const control = value as Record<string, unknown>;
  if (control.type !== "ephemeral") return undefined;
  return typeof control.ttl === "string" ? { type: "ephemeral", ttl: control.ttl } : { type: "ephemeral" };
}

/** `providerOptions` that carry our breakpoint to an AI SDK model. */
export function cacheControlOptions(control: CacheControl): SharedV3ProviderOptions {
  return {
    anthropic: {
      cacheControl: control.ttl === undefined ? { type: "ephemeral" } : { type: "ephemeral", ttl: control.ttl },
    },
  };
}
