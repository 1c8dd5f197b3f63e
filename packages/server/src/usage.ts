// Usage for the client when the model reported none: OpenAI's and Anthropic's answers always carry
// both counts (clients — LangChain, the SDKs' helpers — read them), so the gateway fills in what is
// missing with the same estimates it settles a cut stream with.
import { type GenerateRequest, type ToolCall, type Usage, estimateRequestTokens } from "@orchestrator-ts/core";
import { withFields } from "@orchestrator-ts/core/internal";
import type { ModelRegistry, RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";
import type { Exchange } from "./exchange";

type Finish = Extract<RegistryStreamChunk, { type: "finish" }>;

/**
 * `usage` with both counts: the model's where it reported them, else estimated — the prompt as
 * core's `estimateRequestTokens`, an answer of `chars` characters at about 4 characters a token.
 */
export function filledUsage(
  usage: Usage | undefined,
  request: GenerateRequest,
  chars: number,
): Usage & { inputTokens: number; outputTokens: number } {
  return {
    ...usage,
    inputTokens: usage?.inputTokens ?? estimateRequestTokens(request),
    outputTokens: usage?.outputTokens ?? Math.ceil(chars / 4),
  };
}

/** The characters of a tool call's arguments, as an answer's length counts them. */
export function argumentsLength(args: ToolCall["arguments"]): number {
  return typeof args === "string" ? args.length : (JSON.stringify(args)?.length ?? 0);
}

const complete = (usage: Usage | undefined) => usage?.inputTokens !== undefined && usage.outputTokens !== undefined;

/**
 * A stream's finish chunk with both counts (`chars`: the answer's text, reasoning and tool calls'
 * arguments): itself when the model reported them, else a copy — the chunk itself stays the
 * gateway's record of what the model reported.
 */
export function withStreamUsage(finish: Finish, request: GenerateRequest, chars: number): Finish {
  return complete(finish.usage) ? finish : withFields(finish, { usage: filledUsage(finish.usage, request, chars) });
}

/** A whole answer with both counts, as `withStreamUsage` gives a stream's. */
export function withWholeUsage(result: RegistryResult, request: GenerateRequest): RegistryResult {
  if (complete(result.usage)) return result;
  let chars = result.text.length;
  for (const part of result.reasoning ?? []) chars += part.text.length;
  for (const call of result.toolCalls) chars += argumentsLength(call.arguments);
  return withFields(result, { usage: filledUsage(result.usage, request, chars) });
}

/** What a stream cut short has cost: the prompt (estimated) and the text sent (about 4 characters a token), at the model's prices. */
export function partialOutcome(exchange: Exchange, request: GenerateRequest, registry: ModelRegistry, chars: number) {
  const name = exchange.model;
  const { inputTokens, outputTokens } = filledUsage(undefined, request, chars);
  const model = name !== undefined && registry.hasModel(name) ? registry.getModel(name) : undefined;
  const costUsd = model?.costOf({ inputTokens, outputTokens });
  return { costUsd, inputTokens, outputTokens, ...(name === undefined ? {} : { model: name }) };
}
