import { type Attributes, type Span, SpanKind } from "@opentelemetry/api";
import type { FinishReason, GenerateRequest, Usage } from "@orchestrator-ts/core";
import type { ExplanationLike } from "./registry-shape";

/** The GenAI operation every call is (`gen_ai.operation.name`). */
export const OPERATION = "chat";

export function epochMs(performanceMs: number): number {
  return performance.timeOrigin + performanceMs;
}

/** The conventions' finish reasons: the provider's own word when it gave one. */
export function finishReasonOf(reason: FinishReason | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (reason.raw !== undefined && reason.raw !== "") return reason.raw;
  switch (reason.unified) {
    case "tool-calls":
      return "tool_call";
    case "content-filter":
      return "content_filter";
    default:
      return reason.unified;
  }
}

export function spanKindOf(provider: string | undefined): SpanKind {
  // The conventions: INTERNAL for a model running in this process.
  return provider === "llama-cpp" ? SpanKind.INTERNAL : SpanKind.CLIENT;
}

export function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" && name !== "" ? name : "_OTHER";
}

export function errorMessageOf(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : undefined;
}

export function requestAttributes(request: GenerateRequest, stream: boolean): Attributes {
  const a: Attributes = { "gen_ai.operation.name": OPERATION };
  if (request.maxTokens !== undefined) a["gen_ai.request.max_tokens"] = request.maxTokens;
  if (request.temperature !== undefined) a["gen_ai.request.temperature"] = request.temperature;
  if (request.topP !== undefined) a["gen_ai.request.top_p"] = request.topP;
  if (request.seed !== undefined) a["gen_ai.request.seed"] = request.seed;
  if (request.stop !== undefined && request.stop.length > 0) a["gen_ai.request.stop_sequences"] = request.stop;
  if (stream) a["gen_ai.request.stream"] = true;
  if (request.responseFormat?.type === "json") a["gen_ai.output.type"] = "json";
  if (request.task !== undefined) a["orchestrator.task"] = request.task;
  return a;
}

export function usageAttributes(a: Attributes, usage: Usage | undefined): void {
  if (usage?.inputTokens !== undefined) a["gen_ai.usage.input_tokens"] = usage.inputTokens;
  if (usage?.outputTokens !== undefined) a["gen_ai.usage.output_tokens"] = usage.outputTokens;
  if (usage?.cacheReadInputTokens !== undefined) a["gen_ai.usage.cache_read.input_tokens"] = usage.cacheReadInputTokens;
  if (usage?.cacheWriteInputTokens !== undefined)
    a["gen_ai.usage.cache_creation.input_tokens"] = usage.cacheWriteInputTokens;
}

/** The selection part of a call span: selector, chosen score, whether it explored, exclusions by reason. */
export function selectionAttributes(span: Span, explanation: ExplanationLike, fallback: number): void {
  const a: Attributes = {
    "orchestrator.selector": explanation.selector,
    "orchestrator.selection.candidates": explanation.candidates.length,
  };
  const chosen = explanation.candidates.find((c) => c.chosen);
  if (chosen) {
    if (Number.isFinite(chosen.score)) a["orchestrator.selection.score"] = chosen.score;
    if (chosen.meanReward !== undefined) a["orchestrator.selection.mean_reward"] = chosen.meanReward;
    a["orchestrator.selection.explored"] = explored(explanation);
  }
  a["orchestrator.selection.excluded"] = explanation.excluded.length;
  const byCode = new Map<string, number>();
  for (const e of explanation.excluded) byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
  for (const [code, n] of byCode) a[`orchestrator.selection.excluded.${code}`] = n;
  if (fallback > 0) a["orchestrator.fallbacks"] = fallback;
  if (explanation.fallbackFor !== undefined) a["orchestrator.selection.fallback_for"] = explanation.fallbackFor;
  span.setAttributes(a);
}

/** Chosen for exploration: a forced trial, or not the best by mean reward (the bonus or a posterior draw won). */
export function explored(explanation: ExplanationLike): boolean {
  const chosen = explanation.candidates.find((c) => c.chosen);
  if (!chosen) return false;
  if (chosen.note !== undefined && /exploring/.test(chosen.note)) return true;
  if (chosen.meanReward === undefined) return false;
  return explanation.candidates.some(
    (c) => !c.chosen && c.meanReward !== undefined && c.meanReward > (chosen.meanReward as number),
  );
}
