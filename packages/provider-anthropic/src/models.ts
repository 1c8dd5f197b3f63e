/** The day the list prices and limits below were checked against anthropic.com/pricing. */
export const ANTHROPIC_PRICES_AS_OF = "2026-02-17";

export interface AnthropicModelInfo {
  /** The API model id sent as `model`. */
  id: string;
  /** USD per million prompt tokens (list price, standard tier). */
  inputPerMTok: number;
  /** USD per million completion tokens. */
  outputPerMTok: number;
  contextWindow: number;
  maxOutputTokens: number;
  vision: boolean;
}

const m = (
  id: string,
  inputPerMTok: number,
  outputPerMTok: number,
  maxOutputTokens: number,
  vision = true,
): AnthropicModelInfo => ({
  id,
  inputPerMTok,
  outputPerMTok,
  contextWindow: 200_000,
  maxOutputTokens,
  vision,
});

/**
 * Known models by short name (dots written as dashes). Dated: prices change; a model's
 * `pricing` option, or costs declared in its capabilities, win over this table.
 */
export const ANTHROPIC_MODELS: Readonly<Record<string, AnthropicModelInfo>> = Object.freeze({
  "claude-3-opus": m("claude-3-opus-20240229", 15, 75, 4_096),
  "claude-3-haiku": m("claude-3-haiku-20240307", 0.25, 1.25, 4_096),
  "claude-3-5-sonnet": m("claude-3-5-sonnet-20241022", 3, 15, 8_192),
  "claude-3-5-haiku": m("claude-3-5-haiku-20241022", 0.8, 4, 8_192, false),
  "claude-3-7-sonnet": m("claude-3-7-sonnet-20250219", 3, 15, 64_000),
  "claude-sonnet-4": m("claude-sonnet-4-20250514", 3, 15, 64_000),
  "claude-opus-4": m("claude-opus-4-20250514", 15, 75, 32_000),
  "claude-opus-4-1": m("claude-opus-4-1-20250805", 15, 75, 32_000),
  "claude-sonnet-4-5": m("claude-sonnet-4-5-20250929", 3, 15, 64_000),
  "claude-haiku-4-5": m("claude-haiku-4-5-20251001", 1, 5, 64_000),
  "claude-opus-4-5": m("claude-opus-4-5-20251101", 5, 25, 64_000),
  "claude-opus-4-6": m("claude-opus-4-6", 5, 25, 128_000),
  "claude-sonnet-4-6": m("claude-sonnet-4-6", 3, 15, 64_000),
});

// The newest known member of each family: the estimate for ids newer than this table.
const FAMILY_ESTIMATE: Readonly<Record<string, string>> = {
  opus: "claude-opus-4-6",
  sonnet: "claude-sonnet-4-6",
  haiku: "claude-haiku-4-5",
};
// Unknown and not of a known family: the dearest entry, so a cost cap never lets it through as free.
const UNKNOWN_ESTIMATE = "claude-3-opus";

export type PriceSource = "table" | "family-estimate" | "unknown-estimate";

export interface AnthropicModelLookup {
  info: AnthropicModelInfo;
  /** The table key that matched or stood in. */
  key: string;
  source: PriceSource;
}

/** `claude-3-opus-20240229`, `claude-sonnet-4.5`, `claude-3-opus-latest` → the table's short name. */
export function normalizeAnthropicName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\./g, "-")
    .replace(/-latest$/, "")
    .replace(/-\d{8}$/, "");
}

/** The table entry for a name or API id; newer unknown ids get their family's price, marked as an estimate. */
export function lookupAnthropicModel(name: string): AnthropicModelLookup {
  const key = normalizeAnthropicName(name);
  // Own entries only: a name like "constructor" must not find Object.prototype's members.
  const exact = Object.hasOwn(ANTHROPIC_MODELS, key) ? ANTHROPIC_MODELS[key] : undefined;
  if (exact) return { info: exact, key, source: "table" };
  for (const [family, stand] of Object.entries(FAMILY_ESTIMATE)) {
    const info = ANTHROPIC_MODELS[stand];
    if (key.includes(family) && info) return { info: { ...info, id: name }, key: stand, source: "family-estimate" };
  }
  const fallback = ANTHROPIC_MODELS[UNKNOWN_ESTIMATE] as AnthropicModelInfo;
  return { info: { ...fallback, id: name }, key: UNKNOWN_ESTIMATE, source: "unknown-estimate" };
}
