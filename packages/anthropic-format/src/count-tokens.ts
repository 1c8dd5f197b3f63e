import type { MessagesRequest } from "./wire";

// What `POST /v1/messages/count_tokens` takes of a Messages body; the rest (max_tokens, stream, sampling, metadata…) it refuses.
const COUNTED = [
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "thinking",
  "mcp_servers",
  "context_management",
];

/** A mapped Messages body (`toMessagesRequest`'s `params`) as the body of a token count: only the fields the count takes. */
export function toCountTokensParams(params: MessagesRequest | object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const source = params as unknown as Record<string, unknown>;
  for (const key of COUNTED) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
