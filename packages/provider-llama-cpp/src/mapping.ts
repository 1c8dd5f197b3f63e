import { type FinishReason, type GenerateRequest, contentText } from "@orchestrator-ts/core";
import type { ChatHistoryItem } from "node-llama-cpp";

// The core request and result ⇄ node-llama-cpp's chat history and stop reasons.

const LENGTH: FinishReason = Object.freeze({ unified: "length", raw: "maxTokens" }) as FinishReason;
const STOP_REASONS: Record<string, FinishReason> = {
  eogToken: Object.freeze({ unified: "stop", raw: "eogToken" }) as FinishReason,
  stopGenerationTrigger: Object.freeze({ unified: "stop", raw: "stopGenerationTrigger" }) as FinishReason,
  customStopTrigger: Object.freeze({ unified: "stop", raw: "customStopTrigger" }) as FinishReason,
  functionCalls: Object.freeze({ unified: "tool-calls", raw: "functionCalls" }) as FinishReason,
  maxTokens: LENGTH,
};

/** `{ unified, raw }` for node-llama-cpp's stop reason; an unknown one is `other`. */
export function mapStopReason(reason: string): FinishReason {
  return (Object.hasOwn(STOP_REASONS, reason) ? STOP_REASONS[reason] : undefined) ?? { unified: "other", raw: reason };
}

/** The request's messages as a chat history ending in the model's turn; what cannot be sent is a warning. */
export function toChatHistory(request: GenerateRequest, warnings: string[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  let sawImage = false;
  for (const m of request.messages) {
    if (typeof m.content !== "string" && m.content.some((p) => p.type === "image")) sawImage = true;
    const text = contentText(m.content);
    if (m.role === "system") history.push({ type: "system", text });
    else if (m.role === "assistant") history.push({ type: "model", response: [text] });
    else if (m.role === "tool") history.push({ type: "user", text: `Result of ${m.name ?? "tool"}: ${text}` });
    else history.push({ type: "user", text });
  }
  // A trailing assistant message is a prefix to continue; otherwise the model answers anew.
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  if (sawImage) warnings.push("Images are not supported by llama-cpp models and were left out.");
  if (request.tools && request.tools.length > 0)
    warnings.push("Tools are not supported by the llama-cpp adapter and were ignored.");
  return history;
}
