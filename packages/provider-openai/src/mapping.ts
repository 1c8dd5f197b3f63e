import type { GenerateRequest } from "@orchestrator-ts/core";
import { type ChatRequestOptions, toChatRequest } from "@orchestrator-ts/openai-format";
import type { ChatCompletionCreateParamsBase } from "openai/resources/chat/completions";

/** The request body without `stream`, typed as the SDK takes it. */
export type ChatBody = Omit<ChatCompletionCreateParamsBase, "stream">;

// Reasoning families not in the price table still need max_completion_tokens.
const REASONING_ID = /^(o\d|gpt-5)/;

/** How a model's requests are written: its API id, whether it reasons, and `providerOptions.openai`. */
export function bodyOptions(modelId: string, reasoning: boolean | undefined): ChatRequestOptions & { model: string } {
  return { model: modelId, reasoning: reasoning ?? REASONING_ID.test(modelId), providerKey: "openai" };
}

/**
 * The chat-completions body (the conversion is `@orchestrator-ts/openai-format`'s, shared with the
 * Hugging Face provider and the test servers); settings the model cannot take are left out with a
 * warning in `warnings`.
 */
export function toChatBody(request: GenerateRequest, options: ChatRequestOptions, warnings: string[]): ChatBody {
  return toChatRequest(request, options, warnings) as ChatBody;
}
