import { isRecord, parseMaybeJson } from "../internal/http";
import { countWords, splitWordChunks } from "../internal/text";

/** Unified finish reasons; each protocol maps them to its own (`tool-calls` -> `tool_use`...). */
export type FinishReason = "stop" | "length" | "tool-calls" | "content-filter";

export interface ReplyToolCall {
  id?: string;
  name: string;
  /** An object, or a JSON string sent verbatim (it may be deliberately invalid). */
  arguments: Record<string, unknown> | string;
}

export interface ReplyUsage {
  inputTokens: number;
  outputTokens: number;
  /** Of `inputTokens`, how many the server says it read from its prompt cache. */
  cacheReadInputTokens?: number;
}

/** A block of the model's reasoning ("thinking") before its answer. */
export interface ReplyReasoning {
  text: string;
  /** Anthropic's signature of the block; the Anthropic server signs an unsigned block itself. */
  signature?: string;
  /** A redacted block's opaque data (Anthropic `redacted_thinking`); `text` is then ignored. */
  redactedData?: string;
  /** Interleaved thinking: the block comes after this many of the reply's tool calls (Anthropic's wire). */
  afterToolCalls?: number;
}

export interface ScriptedReply {
  /** Reasoning before the answer: a text (one block) or blocks, sent in each protocol's way. */
  reasoning?: string | ReplyReasoning[];
  text?: string;
  toolCalls?: ReplyToolCall[];
  /** `null`: the server omits usage from the reply. Omitted: whitespace-word counts. */
  usage?: ReplyUsage | null;
  /** A unified reason, or any raw string sent verbatim. */
  finishReason?: FinishReason | (string & {});
}

export interface ChatMessage {
  role: string;
  /** The message's text parts joined (tool results included). */
  content: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: unknown;
}

export interface ReplyRequest {
  protocol: string;
  path: string;
  model: string;
  messages: ChatMessage[];
  lastUserText: string;
  tools: ToolDefinition[];
  stream: boolean;
  maxTokens: number | undefined;
  /** The request asked for JSON output (response_format / format). */
  jsonMode: boolean;
  body: Record<string, unknown>;
}

export type ReplyFunction = (request: ReplyRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface ResolvedToolCall {
  id: string;
  name: string;
  argumentsJson: string;
  /** The arguments as an object ({} when the JSON string does not parse to an object). */
  argumentsObject: Record<string, unknown>;
}

export interface ResolvedReasoning extends ReplyReasoning {
  /** Word chunks whose concatenation is exactly `text`. */
  chunks: string[];
}

export interface ResolvedReply {
  /** Reasoning blocks, in order (empty when the reply has none). */
  reasoning: ResolvedReasoning[];
  text: string;
  /** Word chunks whose concatenation is exactly `text`. */
  chunks: string[];
  toolCalls: ResolvedToolCall[];
  usage: ReplyUsage | null;
  /** Already mapped to the protocol's own finish reason. */
  finishReason: string;
}

/** What `resolveScriptedReply` needs of a protocol: its tool-call id prefix and finish-reason names. */
export interface ReplyProtocol {
  /** Prefix of generated tool-call ids (`call_`, `toolu_`). */
  toolCallIdPrefix: string;
  /** A unified finish reason in the protocol's own spelling. */
  mapFinishReason(reason: string): string;
}

/** Turns a scripted reply into what every protocol renders. Exported for custom protocols. */
export function resolveScriptedReply(
  spec: ScriptedReply,
  request: ReplyRequest,
  handler: ReplyProtocol,
  nextId: (prefix: string) => string,
): ResolvedReply {
  const scriptedCalls = spec.toolCalls ?? [];
  let text = spec.text;
  if (text === undefined) {
    if (scriptedCalls.length > 0) text = "";
    else text = request.jsonMode ? JSON.stringify({ echo: request.lastUserText }) : `Echo: ${request.lastUserText}`;
  }
  let chunks = splitWordChunks(text);
  let truncated = false;
  if (request.maxTokens !== undefined && spec.finishReason === undefined && chunks.length > request.maxTokens) {
    chunks = chunks.slice(0, Math.max(0, request.maxTokens));
    text = chunks.join("");
    truncated = true;
  }
  const toolCalls: ResolvedToolCall[] = scriptedCalls.map((call) => {
    const argumentsJson = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
    let argumentsObject: Record<string, unknown> = {};
    if (typeof call.arguments === "string") {
      const parsed = parseMaybeJson(call.arguments);
      if (isRecord(parsed)) argumentsObject = parsed;
    } else {
      argumentsObject = call.arguments;
    }
    return { id: call.id ?? nextId(handler.toolCallIdPrefix), name: call.name, argumentsJson, argumentsObject };
  });
  let usage: ReplyUsage | null;
  if (spec.usage === null) usage = null;
  else if (spec.usage !== undefined) usage = spec.usage;
  else {
    usage = {
      inputTokens: request.messages.reduce((sum, m) => sum + countWords(m.content), 0),
      outputTokens: countWords(text) + toolCalls.reduce((sum, c) => sum + countWords(c.argumentsJson), 0),
    };
  }
  const unified = spec.finishReason ?? (truncated ? "length" : toolCalls.length > 0 ? "tool-calls" : "stop");
  const blocks = typeof spec.reasoning === "string" ? [{ text: spec.reasoning }] : (spec.reasoning ?? []);
  const reasoning = blocks.map((block) => ({ ...block, chunks: splitWordChunks(block.text) }));
  return { reasoning, text, chunks, toolCalls, usage, finishReason: handler.mapFinishReason(unified) };
}

/** Text of the last message with role "user". */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message && message.role === "user") return message.content;
  }
  return "";
}
