// The AI SDK's results in one shape whatever the specification version: V3's nested usage and
// `{ unified, raw }` finish reasons. Kept apart from the model so that the other direction (the
// orchestrator as an AI SDK provider) can share them.
import type { FinishReason, UnifiedFinishReason, Usage } from "@orchestrator-ts/core";
import type { JSONObject, JSONValue, LanguageModelV3FinishReason, LanguageModelV3Usage } from "@ai-sdk/provider";
import type { AnyFinishReason, AnyUsage, AnyWarning } from "./spec";

const UNIFIED = new Set<string>(["stop", "length", "content-filter", "tool-calls", "error", "other"]);

/** V2's flat usage (`inputTokens: number`) as V3's nested one; V3 usage as it is. */
export function normalizeUsage(usage: AnyUsage | undefined): LanguageModelV3Usage {
  if (usage === undefined || usage === null) return emptyUsage();
  const input = (usage as { inputTokens?: unknown }).inputTokens;
  if (typeof input === "object" && input !== null) return usage as LanguageModelV3Usage;
  const flat = usage as {
    inputTokens?: number;
    outputTokens?: number;
    reasoningTokens?: number;
    cachedInputTokens?: number;
  };
  const cached = flat.cachedInputTokens;
  const reasoning = flat.reasoningTokens;
  return {
    inputTokens: {
      total: flat.inputTokens,
      noCache: flat.inputTokens !== undefined && cached !== undefined ? flat.inputTokens - cached : undefined,
      cacheRead: cached,
      cacheWrite: undefined,
    },
    outputTokens: {
      total: flat.outputTokens,
      text: flat.outputTokens !== undefined && reasoning !== undefined ? flat.outputTokens - reasoning : undefined,
      reasoning,
    },
  };
}

function emptyUsage(): LanguageModelV3Usage {
  return {
    inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: undefined, text: undefined, reasoning: undefined },
  };
}

/** Our usage: the totals, `undefined` where the provider reported none (never a made-up 0). */
export function toUsage(usage: AnyUsage | undefined): Usage | undefined {
  if (usage === undefined || usage === null) return undefined;
  const normalized = normalizeUsage(usage);
  const inputTokens = normalized.inputTokens.total;
  const outputTokens = normalized.outputTokens.total;
  if (inputTokens === undefined && outputTokens === undefined) return undefined;
  const out: Usage = {};
  if (inputTokens !== undefined) out.inputTokens = inputTokens;
  if (outputTokens !== undefined) out.outputTokens = outputTokens;
  const { cacheRead, cacheWrite } = normalized.inputTokens;
  // Providers report 0 when nothing was cached (or when they do not know): only a hit is news.
  if (cacheRead) out.cacheReadInputTokens = cacheRead;
  if (cacheWrite) out.cacheWriteInputTokens = cacheWrite;
  return out;
}

/** Our usage in V3's nesting (the direction of the orchestrator as an AI SDK provider); unknown counts stay `undefined`. */
export function fromUsage(usage: Usage | undefined): LanguageModelV3Usage {
  const out = emptyUsage();
  if (usage === undefined) return out;
  out.inputTokens.total = usage.inputTokens;
  out.outputTokens.total = usage.outputTokens;
  out.inputTokens.cacheRead = usage.cacheReadInputTokens;
  out.inputTokens.cacheWrite = usage.cacheWriteInputTokens;
  // What was neither read from nor written to the cache, when every part is known.
  if (
    usage.inputTokens !== undefined &&
    (usage.cacheReadInputTokens !== undefined || usage.cacheWriteInputTokens !== undefined)
  ) {
    out.inputTokens.noCache =
      usage.inputTokens - (usage.cacheReadInputTokens ?? 0) - (usage.cacheWriteInputTokens ?? 0);
  }
  return out;
}

/** Our finish reason as V3's `{ unified, raw }` (the same shape; `raw` is explicit there). */
export function fromFinishReason(reason: FinishReason | undefined): LanguageModelV3FinishReason {
  if (reason === undefined) return { unified: "other", raw: undefined };
  return { unified: UNIFIED.has(reason.unified) ? reason.unified : "other", raw: reason.raw };
}

/** V2's finish reason string (`"unknown"` included) as V3's `{ unified, raw }`. */
export function normalizeFinishReason(reason: AnyFinishReason | undefined): LanguageModelV3FinishReason {
  if (reason === undefined || reason === null) return { unified: "other", raw: undefined };
  if (typeof reason === "object") return reason;
  // V2 has no raw reason; "unknown" means the provider gave none.
  if (reason === "unknown") return { unified: "other", raw: undefined };
  return { unified: UNIFIED.has(reason) ? (reason as LanguageModelV3FinishReason["unified"]) : "other", raw: reason };
}

/** Our finish reason; the raw one is the provider's own when the AI SDK passed it on. */
export function toFinishReason(reason: AnyFinishReason | undefined): FinishReason {
  const normalized = normalizeFinishReason(reason);
  const unified = (UNIFIED.has(normalized.unified) ? normalized.unified : "other") as UnifiedFinishReason;
  return normalized.raw === undefined ? { unified } : { unified, raw: normalized.raw };
}

/**
 * True when a stream's finish part does not say why the answer ended: the AI SDK's providers
 * finish every stream they read to its end, and report `{ unified: "other", raw: undefined }`
 * (V2: `"unknown"`) when the provider's own finish reason never came — a body cut short.
 */
export function isUnexplainedFinish(reason: AnyFinishReason | undefined): boolean {
  if (reason === undefined || reason === null) return true;
  if (typeof reason === "string") return reason === "unknown";
  return reason.unified === "other" && reason.raw === undefined;
}

/** The AI SDK's warnings (either version) as the sentences of `result.warnings`. */
export function warningTexts(warnings: readonly AnyWarning[] | undefined): string[] | undefined {
  if (!warnings || warnings.length === 0) return undefined;
  return warnings.map(warningText);
}

function warningText(warning: AnyWarning): string {
  const w = warning as {
    type: string;
    feature?: string;
    setting?: unknown;
    tool?: { name?: string };
    details?: string;
    message?: string;
  };
  const details = w.details ? `: ${w.details}` : "";
  switch (w.type) {
    case "unsupported":
      return `${w.feature} is not supported${details}`;
    case "compatibility":
      return `${w.feature} runs in compatibility mode${details}`;
    case "unsupported-setting":
      return `${String(w.setting)} is not supported${details}`;
    case "unsupported-tool":
      return `tool ${w.tool?.name ?? "?"} is not supported${details}`;
    default:
      return w.message ?? w.details ?? w.type;
  }
}

/** `providerMetadata.orchestrator`: who answered, the selection to rate, the cost and the attempts. */
export function metadata(
  model: string | undefined,
  provider: string | undefined,
  selectionId: string | undefined,
  costUsd: number | undefined,
  cached: boolean | undefined,
  latencyMs: number | undefined,
  attempts: readonly { model: string; success: boolean; errorCode?: string }[],
): JSONObject {
  // JSON values only (the spec's metadata is JSON): no undefined fields.
  const out: Record<string, JSONValue> = {};
  if (model !== undefined) out.model = model;
  if (provider !== undefined) out.provider = provider;
  if (selectionId !== undefined) out.selectionId = selectionId;
  if (costUsd !== undefined) out.costUsd = costUsd;
  out.cached = cached === true;
  if (latencyMs !== undefined) out.latencyMs = latencyMs;
  out.attempts = attempts.map((a) =>
    a.errorCode === undefined
      ? { model: a.model, success: a.success }
      : { model: a.model, success: a.success, errorCode: a.errorCode },
  );
  return out;
}
