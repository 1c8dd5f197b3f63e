// What this package reads of the AI SDK's provider specification (`@ai-sdk/provider`, types only:
// nothing of it is loaded at run time, so any copy and version a provider package brings works).
import type {
  LanguageModelV2,
  LanguageModelV2CallWarning,
  LanguageModelV2FinishReason,
  LanguageModelV2StreamPart,
  LanguageModelV2Usage,
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3FinishReason,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
  SharedV3Warning,
} from "@ai-sdk/provider";

/** An AI SDK language model of either specification: `@ai-sdk/*` 2.x providers (V2) and 3.x (V3). */
export type AISDKLanguageModel = LanguageModelV2 | LanguageModelV3;

export type CallOptions = LanguageModelV3CallOptions;
export type AnyFinishReason = LanguageModelV3FinishReason | LanguageModelV2FinishReason;
export type AnyUsage = LanguageModelV3Usage | LanguageModelV2Usage;
export type AnyWarning = SharedV3Warning | LanguageModelV2CallWarning;
export type AnyStreamPart = LanguageModelV3StreamPart | LanguageModelV2StreamPart;

/** True for an AI SDK language model object of a specification this package understands. */
export function isAISDKLanguageModel(value: unknown): value is AISDKLanguageModel {
  if (typeof value !== "object" || value === null) return false;
  const model = value as Partial<LanguageModelV3>;
  return (
    (model.specificationVersion === "v3" || (model.specificationVersion as unknown) === "v2") &&
    typeof model.doGenerate === "function" &&
    typeof model.doStream === "function" &&
    typeof model.modelId === "string" &&
    typeof model.provider === "string"
  );
}
