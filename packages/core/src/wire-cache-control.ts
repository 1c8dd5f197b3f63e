import type { CacheControl } from "./types";

/**
 * A wire part's `cache_control` (Anthropic's, and LiteLLM's on OpenAI-format parts) as core's
 * `CacheControl`: undefined when the part has none; a malformed one is `invalid(path, expected)`,
 * the wire parser's own error.
 */
export function wireCacheControl(
  part: Record<string, unknown>,
  param: string,
  invalid: (param: string, expected: string) => Error,
): CacheControl | undefined {
  const value = part.cache_control;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || (value as { type?: unknown }).type !== "ephemeral")
    throw invalid(`${param}.cache_control`, '{ "type": "ephemeral" } (with an optional "ttl")');
  const ttl = (value as { ttl?: unknown }).ttl;
  if (ttl === undefined || ttl === null) return { type: "ephemeral" };
  if (typeof ttl !== "string") throw invalid(`${param}.cache_control.ttl`, 'a duration ("5m" or "1h")');
  return { type: "ephemeral", ttl };
}
