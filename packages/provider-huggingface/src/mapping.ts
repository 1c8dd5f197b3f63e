import type { InferenceClient, InferenceProviderOrPolicy } from "@huggingface/inference";
import type { GenerateRequest } from "@orchestrator-ts/core";
import { toChatRequest } from "@orchestrator-ts/openai-format";

/** `chatCompletion`'s arguments: OpenAI's chat-completions shape, which TGI and every Inference Provider take. */
export type ChatInput = Parameters<InferenceClient["chatCompletion"]>[0];

/** Who answers a model's requests: the Hub model id (none for an endpoint that serves one) and the Inference Providers routing. */
export interface ChatTarget {
  model?: string;
  provider?: InferenceProviderOrPolicy;
}

/**
 * The client's chat arguments for a request. The body is `@orchestrator-ts/openai-format`'s (the
 * same conversion as the OpenAI provider's); `providerOptions.huggingface` is copied into it.
 * What it leaves out (`reasoning`, which these chat models do not take) is said in `warnings`.
 */
export function toChatInput(request: GenerateRequest, target: ChatTarget, warnings?: string[]): ChatInput {
  const input = toChatRequest(request, { model: target.model, providerKey: "huggingface" }, warnings) as ChatInput;
  if (target.provider !== undefined) input.provider = target.provider;
  return input;
}
