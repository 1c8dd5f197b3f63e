import type { GenerateRequest } from "@orchestrator-ts/core";
import { InvalidMessagesRequestError } from "./parse-request";
import type { MessagesRequest } from "./wire";

/**
 * The `anthropic-beta` header a request asks for: `providerOptions.anthropic.betas`, an array of
 * beta names (or one comma-separated string), as the SDK's `betas` parameter takes them. It is a
 * header, never a body field; undefined when the request names none. Anything else is an
 * `InvalidMessagesRequestError` on `betas`.
 */
export function messagesBetas(request: Pick<GenerateRequest, "providerOptions">): string | undefined {
  const betas = request.providerOptions?.["anthropic"]?.["betas"];
  if (betas === undefined || betas === null) return undefined;
  const names = typeof betas === "string" ? betas.split(",") : betas;
  if (!Array.isArray(names) || !names.every((name) => typeof name === "string"))
    throw new InvalidMessagesRequestError(
      "betas: expected an array of beta names (strings), as in providerOptions.anthropic.betas.",
      "betas",
    );
  let header = "";
  for (const name of names as string[]) {
    const trimmed = name.trim();
    if (trimmed === "") continue;
    if (!BETA_NAME.test(trimmed))
      throw new InvalidMessagesRequestError(
        `betas: "${trimmed.length > 64 ? `${trimmed.slice(0, 64)}…` : trimmed}" is not a beta name (letters, digits, ".", "_", "-").`,
        "betas",
      );
    header = header === "" ? trimmed : `${header},${trimmed}`;
  }
  return header === "" ? undefined : header;
}

const BETA_NAME = /^[A-Za-z0-9._-]{1,128}$/;

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
