import type { ModelCapabilities, ModelCapabilitiesInput } from "@orchestrator-ts/core";
import { mergeDeclaredCapabilities } from "@orchestrator-ts/core/internal";

/** Where a model's per-token prices came from. */
export type PriceSource = "declared" | "table" | "local" | "conservative-default";

/** A list price in USD per million tokens. */
export interface PerMillionPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/**
 * A row of a provider's table of OpenAI-compatible chat models (OpenAI's own, Hugging Face's):
 * limits, abilities and list prices per million tokens.
 */
export interface ChatModelInfo extends PerMillionPrice {
  /** Largest prompt + completion, tokens. */
  contextWindow: number;
  /** Largest completion, tokens, when the table knows it. */
  maxOutputTokens?: number;
  vision: boolean;
  tools: boolean;
  /** `response_format: json_schema` (strict structured outputs). Default true. */
  structuredOutput?: boolean;
}

/** A table row in the core's shape (prices per token): what `resolveCapabilities` takes as `known`. */
export function chatModelCapabilities(entry: ChatModelInfo): ModelCapabilitiesInput {
  return {
    textGeneration: true,
    codeGeneration: true,
    functionCalling: entry.tools,
    vision: entry.vision,
    maxTokens: entry.contextWindow,
    contextWindow: entry.contextWindow,
    ...(entry.maxOutputTokens !== undefined ? { maxOutputTokens: entry.maxOutputTokens } : {}),
    supportsStreaming: true,
    structuredOutput: entry.structuredOutput ?? true,
    inputCostPerToken: entry.inputPerMillion / 1_000_000,
    outputCostPerToken: entry.outputPerMillion / 1_000_000,
  };
}

/** A table's own entry for a model id: an id like "constructor" never finds an `Object.prototype` member. */
export function ownEntry<T>(table: Readonly<Record<string, T>>, id: string): T | undefined {
  return Object.hasOwn(table, id) ? table[id] : undefined;
}

/** The inputs of `resolveCapabilities`: the table's entry, the caller's fields, and how to price what is unknown. */
export interface ResolveCapabilitiesOptions {
  /** The price table's entry for the model, in the core's shape; `undefined` for an unknown model. */
  known: ModelCapabilitiesInput | undefined;
  /** What the caller declared; it wins over the table. */
  given: ModelCapabilities | ModelCapabilitiesInput | undefined;
  /** The server is on this machine (a loopback URL). */
  local: boolean;
  /**
   * Anyone can run the table's models (open weights: every Hugging Face Hub model). A loopback
   * server of such a model is self-hosted and free. OpenAI's models are closed, so a loopback
   * server of one is a proxy to the paid API and keeps the list price.
   */
  openWeights: boolean;
  /** What an unknown model on a paid (non-loopback) endpoint is assumed to cost. */
  conservativePrice: PerMillionPrice;
}

/**
 * The capabilities and prices of an OpenAI-compatible endpoint's model: the table's entry merged
 * with the caller's (caller wins). Prices never silently become 0 on a paid endpoint:
 *
 * | model | remote endpoint | loopback endpoint |
 * |---|---|---|
 * | in the table, open weights | table (`table`) | 0 (`local`: self-hosted) |
 * | in the table, closed weights | table (`table`) | table (`table`: a proxy to the paid API) |
 * | unknown | `conservativePrice` (`conservative-default`) | 0 (`local`) |
 *
 * A declared `ModelCapabilities` whose prices are both 0 (the class's default, as YAML without
 * costs gives) keeps the price above; declared prices in a plain object win, 0 included
 * (`declared`).
 */
export function resolveCapabilities(options: ResolveCapabilitiesOptions): {
  capabilities: ModelCapabilities | ModelCapabilitiesInput;
  priceSource: PriceSource;
} {
  const { known, local } = options;
  if (known !== undefined && !(local && options.openWeights))
    return mergeDeclaredCapabilities(known, options.given, "table");
  const free = local;
  const price = options.conservativePrice;
  const base: ModelCapabilitiesInput = known ?? { textGeneration: true, supportsStreaming: true };
  const capabilities: ModelCapabilitiesInput = {
    ...base,
    inputCostPerToken: free ? 0 : price.inputPerMillion / 1_000_000,
    outputCostPerToken: free ? 0 : price.outputPerMillion / 1_000_000,
  };
  return mergeDeclaredCapabilities(capabilities, options.given, free ? "local" : "conservative-default");
}
