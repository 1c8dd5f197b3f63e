import type { ModelCapabilities, ModelCapabilitiesInput } from "@orchestrator-ts/core";
import {
  type ChatModelInfo,
  type PriceSource,
  chatModelCapabilities,
  ownEntry,
  resolveCapabilities,
} from "@orchestrator-ts/openai-format";

/**
 * The date of the estimates below. Hugging Face Inference Providers bill per provider; these are
 * typical per-token list prices of the serving providers (Together, Fireworks…) as of this date.
 * They are estimates to override in config (`capabilities.input_cost_per_token`).
 */
export const HUGGINGFACE_PRICES_AS_OF = "2025-08-15";

/** A Hugging Face model's limits and abilities, with estimated prices (USD per 1M tokens). */
export type HuggingFaceModelInfo = ChatModelInfo;

const info = (
  contextWindow: number,
  inputPerMillion: number,
  outputPerMillion: number,
  vision = false,
  tools = true,
): HuggingFaceModelInfo => ({
  contextWindow,
  inputPerMillion,
  outputPerMillion,
  vision,
  tools,
});

/** Popular chat models on Inference Providers, with estimated prices as of `HUGGINGFACE_PRICES_AS_OF`. */
export const HUGGINGFACE_MODELS: Readonly<Record<string, HuggingFaceModelInfo>> = Object.freeze({
  "meta-llama/Llama-3.3-70B-Instruct": info(131_072, 0.88, 0.88),
  "meta-llama/Llama-3.1-8B-Instruct": info(131_072, 0.18, 0.18),
  "meta-llama/Llama-3.1-70B-Instruct": info(131_072, 0.88, 0.88),
  "meta-llama/Llama-3.2-11B-Vision-Instruct": info(131_072, 0.18, 0.18, true, false),
  "Qwen/Qwen2.5-72B-Instruct": info(32_768, 1.2, 1.2),
  "Qwen/Qwen2.5-Coder-32B-Instruct": info(32_768, 0.8, 0.8),
  "Qwen/Qwen2.5-VL-7B-Instruct": info(32_768, 0.3, 0.3, true, false),
  "deepseek-ai/DeepSeek-V3": info(131_072, 1.25, 1.25),
  "deepseek-ai/DeepSeek-R1": info(131_072, 3, 7, false, false),
  "mistralai/Mixtral-8x7B-Instruct-v0.1": info(32_768, 0.6, 0.6, false, false),
  "mistralai/Mistral-7B-Instruct-v0.3": info(32_768, 0.2, 0.2, false, false),
  "google/gemma-2-27b-it": info(8_192, 0.8, 0.8, false, false),
});

/**
 * What a model of unknown price on a paid endpoint is assumed to cost (about the priciest
 * per-token prices of the providers above), so cost filters never take it for a free one.
 */
export const HUGGINGFACE_CONSERVATIVE_PRICE = Object.freeze({ inputPerMillion: 3, outputPerMillion: 7 });

export function lookupHuggingFaceModel(id: string): HuggingFaceModelInfo | undefined {
  return ownEntry(HUGGINGFACE_MODELS, id);
}

/**
 * A model's capabilities and prices: the table's entry merged with the caller's (caller wins), by
 * the rule `@orchestrator-ts/openai-format` shares with the OpenAI provider. Hub models have open
 * weights, so one served on a loopback endpoint is self-hosted and free; an unknown model on a paid
 * endpoint gets `HUGGINGFACE_CONSERVATIVE_PRICE`, never 0.
 */
export function resolveHuggingFaceCapabilities(
  entry: HuggingFaceModelInfo | undefined,
  given: ModelCapabilities | ModelCapabilitiesInput | undefined,
  local: boolean,
): { capabilities: ModelCapabilities | ModelCapabilitiesInput; priceSource: PriceSource } {
  return resolveCapabilities({
    known: entry && chatModelCapabilities(entry),
    given,
    local,
    openWeights: true,
    conservativePrice: HUGGINGFACE_CONSERVATIVE_PRICE,
  });
}
