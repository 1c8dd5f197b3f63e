import type Anthropic from "@anthropic-ai/sdk";
import { type MappedMessagesRequest, toMessagesRequest } from "@orchestrator-ts/anthropic-format";
import type { GenerateRequest } from "@orchestrator-ts/core";

/** A mapped request whose body is typed as the SDK takes it. */
export interface AnthropicRequest extends Omit<MappedMessagesRequest, "params"> {
  params: Anthropic.MessageCreateParamsNonStreaming;
}

/**
 * The Messages body for a request (the conversion is `@orchestrator-ts/anthropic-format`'s, shared
 * with the test server and the gateway's `/v1/messages`), with how structured output was asked for
 * and the settings left out.
 */
export function toAnthropicRequest(
  request: GenerateRequest,
  model: string,
  maxTokens: number,
  maxOutputTokens?: number,
): AnthropicRequest {
  // The body is structurally the SDK's params; the type only picks the non-streaming overload.
  return toMessagesRequest(request, { model, maxTokens, maxOutputTokens }) as AnthropicRequest;
}
