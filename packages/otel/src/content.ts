import type { ContentPart, GenerateRequest, Message, ReasoningPart, ToolCall } from "@orchestrator-ts/core";

// Message content in the shapes of the GenAI conventions' opt-in attributes
// (gen-ai-input-messages.json / gen-ai-output-messages.json / system instructions), as JSON strings.

type Part = Record<string, unknown>;

function parts(content: string | ContentPart[]): Part[] {
  if (typeof content === "string") return [{ type: "text", content }];
  return content.map((p) => {
    if (p.type === "text") return { type: "text", content: p.text };
    // Image bytes would bloat every span: only a URL (not a data: URL) is kept.
    if (p.url !== undefined && !p.url.startsWith("data:")) return { type: "uri", modality: "image", uri: p.url };
    return { type: "blob", modality: "image", ...(p.mediaType ? { mime_type: p.mediaType } : {}) };
  });
}

function toolCallPart(call: ToolCall): Part {
  return { type: "tool_call", id: call.id, name: call.name, arguments: call.arguments };
}

/** Reasoning as the conventions' `reasoning` parts (text only: signatures and redacted blocks are opaque). */
function reasoningParts(reasoning: readonly ReasoningPart[] | undefined): Part[] {
  const out: Part[] = [];
  if (reasoning) for (const p of reasoning) if (p.text !== "") out.push({ type: "reasoning", content: p.text });
  return out;
}

/** `gen_ai.system_instructions` and `gen_ai.input.messages` of a request. */
export function inputContent(request: GenerateRequest): { system: string | undefined; input: string } {
  const system: Part[] = [];
  const input: Record<string, unknown>[] = [];
  for (const m of request.messages as Message[]) {
    if (m.role === "system") system.push({ type: "text", content: m.content });
    else if (m.role === "tool")
      input.push({
        role: "tool",
        // A result's images are left out as a user message's are (their bytes would bloat every span).
        parts: [
          {
            type: "tool_call_response",
            id: m.toolCallId,
            response: typeof m.content === "string" ? m.content : parts(m.content),
          },
        ],
      });
    else if (m.role === "assistant")
      input.push({
        role: "assistant",
        parts: [...reasoningParts(m.reasoning), ...parts(m.content), ...(m.toolCalls ?? []).map(toolCallPart)],
      });
    else input.push({ role: "user", parts: parts(m.content) });
  }
  return { system: system.length > 0 ? JSON.stringify(system) : undefined, input: JSON.stringify(input) };
}

/** `gen_ai.output.messages` of an answer: its reasoning, text and tool calls. */
export function outputContent(
  text: string,
  toolCalls: readonly ToolCall[],
  finishReason: string | undefined,
  reasoning?: string | readonly ReasoningPart[],
): string {
  const out: Part[] =
    typeof reasoning === "string"
      ? reasoning.length > 0
        ? [{ type: "reasoning", content: reasoning }]
        : []
      : reasoningParts(reasoning);
  if (text.length > 0) out.push({ type: "text", content: text });
  for (const call of toolCalls) out.push(toolCallPart(call));
  return JSON.stringify([{ role: "assistant", parts: out, ...(finishReason ? { finish_reason: finishReason } : {}) }]);
}
