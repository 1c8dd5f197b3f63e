import type { ModelCapabilities, ModelCapabilitiesInput } from "@orchestrator-ts/core";
import { mergeDeclaredCapabilities } from "@orchestrator-ts/core/internal";
import {
  type ChatModelInfo,
  type PriceSource,
  chatModelCapabilities,
  ownEntry,
  resolveCapabilities,
} from "@orchestrator-ts/openai-format";

/**
 * The date of the list prices below. They are OpenAI's published per-token list prices (standard
 * tier, no batch or cached-input discount) as of this date: override them in config
 * (`capabilities.input_cost_per_token`) when your contract or the price list differs.
 */
export const OPENAI_PRICES_AS_OF = "2025-08-15";

/** An OpenAI model's limits, abilities and list prices (USD per 1M tokens). */
export interface OpenAIModelInfo extends ChatModelInfo {
  maxOutputTokens: number;
  structuredOutput: boolean;
  /** Reasoning models take `max_completion_tokens` and refuse `temperature` / `top_p`. */
  reasoning?: boolean;
}

const info = (
  contextWindow: number,
  maxOutputTokens: number,
  inputPerMillion: number,
  outputPerMillion: number,
  vision: boolean,
  structuredOutput: boolean,
  reasoning = false,
): OpenAIModelInfo => ({
  contextWindow,
  maxOutputTokens,
  inputPerMillion,
  outputPerMillion,
  vision,
  tools: true,
  structuredOutput,
  reasoning,
});

/** Known OpenAI chat models: limits, abilities and list prices as of `OPENAI_PRICES_AS_OF`. */
export const OPENAI_MODELS: Readonly<Record<string, OpenAIModelInfo>> = Object.freeze({
  "gpt-5": info(400_000, 128_000, 1.25, 10, true, true, true),
  "gpt-5-mini": info(400_000, 128_000, 0.25, 2, true, true, true),
  "gpt-5-nano": info(400_000, 128_000, 0.05, 0.4, true, true, true),
  "gpt-4.1": info(1_047_576, 32_768, 2, 8, true, true),
  "gpt-4.1-mini": info(1_047_576, 32_768, 0.4, 1.6, true, true),
  "gpt-4.1-nano": info(1_047_576, 32_768, 0.1, 0.4, true, true),
  "gpt-4o": info(128_000, 16_384, 2.5, 10, true, true),
  "gpt-4o-mini": info(128_000, 16_384, 0.15, 0.6, true, true),
  "gpt-4-turbo": info(128_000, 4_096, 10, 30, true, false),
  "gpt-4": info(8_192, 8_192, 30, 60, false, false),
  "gpt-3.5-turbo": info(16_385, 4_096, 0.5, 1.5, false, false),
  o1: info(200_000, 100_000, 15, 60, true, true, true),
  o3: info(200_000, 100_000, 2, 8, true, true, true),
  "o3-mini": info(200_000, 100_000, 1.1, 4.4, false, true, true),
  "o4-mini": info(200_000, 100_000, 1.1, 4.4, true, true, true),
});

/**
 * What an unknown model on a paid endpoint is assumed to cost: the priciest list price above
 * (gpt-4's), so cost filters never take a model of unknown price for a free one.
 */
export const CONSERVATIVE_PRICE = Object.freeze({ inputPerMillion: 30, outputPerMillion: 60 });

// Dated snapshots and previews share their family's entry: gpt-4o-2024-08-06, gpt-4-0613, gpt-4-turbo-preview.
const SNAPSHOT_SUFFIX = /^-(\d{4}(-\d{2}-\d{2})?|preview|latest)$/;

/** The table entry for an API model id, matching dated snapshots to their family; `undefined` when unknown. */
export function lookupOpenAIModel(id: string): OpenAIModelInfo | undefined {
  const exact = ownEntry(OPENAI_MODELS, id);
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(OPENAI_MODELS)) {
    if (id.startsWith(`${key}-`) && SNAPSHOT_SUFFIX.test(id.slice(key.length)) && (!best || key.length > best.length))
      best = key;
  }
  return best === undefined ? undefined : OPENAI_MODELS[best];
}

/**
 * A model's capabilities and prices: the table's entry merged with the caller's (caller wins), by
 * the rule `@orchestrator-ts/openai-format` shares with the Hugging Face provider. OpenAI's models
 * are closed, so a loopback server of a known one is a proxy to the paid API and keeps the list
 * price; an unknown model is free on a loopback server and priced at `CONSERVATIVE_PRICE` on any
 * other.
 */
export function resolveOpenAICapabilities(
  entry: OpenAIModelInfo | undefined,
  given: ModelCapabilities | ModelCapabilitiesInput | undefined,
  local: boolean,
  documented?: ModelCapabilitiesInput,
): { capabilities: ModelCapabilities | ModelCapabilitiesInput; priceSource: PriceSource } {
  if (entry === undefined && documented !== undefined) {
    // A preset's service (Groq, Together…): what it documents of the model, at a price that never
    // silently becomes 0 on a paid endpoint.
    const capabilities: ModelCapabilitiesInput = {
      textGeneration: true,
      supportsStreaming: true,
      ...documented,
      inputCostPerToken: local ? 0 : CONSERVATIVE_PRICE.inputPerMillion / 1_000_000,
      outputCostPerToken: local ? 0 : CONSERVATIVE_PRICE.outputPerMillion / 1_000_000,
    };
    return mergeDeclaredCapabilities(capabilities, given, local ? "local" : "conservative-default");
  }
  return resolveCapabilities({
    known: entry && chatModelCapabilities(entry),
    given,
    local,
    openWeights: false,
    conservativePrice: CONSERVATIVE_PRICE,
  });
}
