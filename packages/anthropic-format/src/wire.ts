// Anthropic Messages API wire shapes, written here so the package needs no SDK at run time. They are
// structurally the `@anthropic-ai/sdk` types' subset this package reads and writes (the tests assign
// one to the other).

/** The image types the API accepts. */
export type MessagesImageMediaType = "image/jpeg" | "image/png" | "image/gif" | "image/webp";

/** A prompt-cache breakpoint on a block or tool: the prefix up to it may be cached. */
export interface MessagesCacheControl {
  type: "ephemeral";
  ttl?: "5m" | "1h";
}

/** A text block of a request. */
export interface MessagesTextBlockParam {
  type: "text";
  text: string;
  cache_control?: MessagesCacheControl | null;
}

/** An image in a user turn: base64 data or a URL. */
export interface MessagesImageBlockParam {
  type: "image";
  source: { type: "base64"; media_type: MessagesImageMediaType; data: string } | { type: "url"; url: string };
  cache_control?: MessagesCacheControl | null;
}

/** An assistant turn's tool call, replayed in a later request. */
export interface MessagesToolUseBlockParam {
  type: "tool_use";
  id: string;
  name: string;
  input: unknown;
}

/** A tool's result, in the user turn after the call. */
export interface MessagesToolResultBlockParam {
  type: "tool_result";
  tool_use_id: string;
  content?: string | Array<MessagesTextBlockParam | MessagesImageBlockParam>;
  is_error?: boolean;
  cache_control?: MessagesCacheControl | null;
}

/** The model's reasoning in an assistant turn (extended thinking), given back with its signature. */
export interface MessagesThinkingBlockParam {
  type: "thinking";
  thinking: string;
  signature: string;
}

/** Reasoning the API encrypted, given back as it came. */
export interface MessagesRedactedThinkingBlockParam {
  type: "redacted_thinking";
  data: string;
}

/** A block of a request's turn. */
export type MessagesContentBlockParam =
  | MessagesTextBlockParam
  | MessagesImageBlockParam
  | MessagesToolUseBlockParam
  | MessagesToolResultBlockParam
  | MessagesThinkingBlockParam
  | MessagesRedactedThinkingBlockParam;

/** One turn of the conversation. */
export interface MessagesMessageParam {
  role: "user" | "assistant";
  content: string | MessagesContentBlockParam[];
}

/** A client tool: the model may call it with input matching `input_schema`. */
export interface MessagesTool {
  name: string;
  description?: string;
  input_schema: { type: "object"; [key: string]: unknown };
  cache_control?: MessagesCacheControl | null;
}

/** Whether and which tool the model must call (`any`: some tool). */
export type MessagesToolChoice =
  | { type: "auto"; disable_parallel_tool_use?: boolean }
  | { type: "any"; disable_parallel_tool_use?: boolean }
  | { type: "none" }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean };

/** A `POST /v1/messages` body (without `stream`, which a caller adds). */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: MessagesMessageParam[];
  system?: string | MessagesTextBlockParam[];
  stop_sequences?: string[];
  tools?: MessagesTool[];
  tool_choice?: MessagesToolChoice;
  metadata?: { user_id?: string | null };
  /** Older API versions' sampling settings; `@anthropic-ai/sdk` 1.14 no longer declares them. */
  temperature?: number;
  top_p?: number;
  stream?: boolean;
}

/** Why the answer ended. */
export type MessagesStopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

/**
 * Token counts. `input_tokens` excludes the prompt tokens written to or read from the prompt
 * cache, which are counted apart.
 */
export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** A text block of an answer. */
export interface MessagesTextBlock {
  type: "text";
  text: string;
}

/** A tool call in an answer. */
export interface MessagesToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: unknown;
}

/** The model's reasoning before its answer (extended thinking), signed by the API. */
export interface MessagesThinkingBlock {
  type: "thinking";
  thinking: string;
  signature: string;
}

/** Reasoning the API encrypted: opaque `data`, to be given back unchanged. */
export interface MessagesRedactedThinkingBlock {
  type: "redacted_thinking";
  data: string;
}

/** A block of an answer. */
export type MessagesContentBlock =
  | MessagesTextBlock
  | MessagesToolUseBlock
  | MessagesThinkingBlock
  | MessagesRedactedThinkingBlock;

/** A `message` object: the non-streamed answer, and the snapshot in `message_start`. */
export interface MessagesResponse {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: MessagesContentBlock[];
  stop_reason: MessagesStopReason | null;
  stop_sequence: string | null;
  usage: MessagesUsage;
}

/** What identifies one answer on the wire. */
export interface MessagesIdentity {
  /** `msg_…`. */
  id: string;
  model: string;
}

/** The error types of Anthropic's error body (its SDK maps them to its error classes). */
export type MessagesErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

/** Anthropic's error body, also the data of a stream's `error` event. */
export interface MessagesErrorBody {
  type: "error";
  error: { type: MessagesErrorType | (string & {}); message: string };
  request_id?: string;
}

// ---- stream events ---------------------------------------------------------------------------

/** The first event of a stream. */
export interface MessagesMessageStartEvent {
  type: "message_start";
  /** The answer so far: no content, no stop reason, the usage known at the start. */
  message: Omit<MessagesResponse, "usage"> & { usage: Partial<MessagesUsage> };
}

/** A content block begins (a tool call's `input` is empty here; it follows as `input_json_delta`s). */
export interface MessagesContentBlockStartEvent {
  type: "content_block_start";
  index: number;
  content_block:
    | MessagesTextBlock
    | (MessagesToolUseBlock & { input: Record<string, never> })
    | MessagesThinkingBlock
    | MessagesRedactedThinkingBlock;
}

/** A piece of the open block: text, a piece of a tool call's input JSON, reasoning, or a thinking block's signature. */
export interface MessagesContentBlockDeltaEvent {
  type: "content_block_delta";
  index: number;
  delta:
    | { type: "text_delta"; text: string }
    | { type: "input_json_delta"; partial_json: string }
    | { type: "thinking_delta"; thinking: string }
    | { type: "signature_delta"; signature: string };
}

/** The block at `index` is complete. */
export interface MessagesContentBlockStopEvent {
  type: "content_block_stop";
  index: number;
}

/** The stop reason and the final counts, before `message_stop`. */
export interface MessagesMessageDeltaEvent {
  type: "message_delta";
  delta: { stop_reason: MessagesStopReason | (string & {}) | null; stop_sequence: string | null };
  /** Cumulative counts; a count not known is left out. */
  usage: Partial<MessagesUsage>;
}

/** The last event of a complete answer. */
export interface MessagesMessageStopEvent {
  type: "message_stop";
}

/** A keep-alive; clients skip it. */
export interface MessagesPingEvent {
  type: "ping";
}

/** A failure after the stream began (the HTTP status is already 200). */
export type MessagesErrorEvent = MessagesErrorBody;

/** Every event of a stream. */
export type MessagesStreamEvent =
  | MessagesMessageStartEvent
  | MessagesContentBlockStartEvent
  | MessagesContentBlockDeltaEvent
  | MessagesContentBlockStopEvent
  | MessagesMessageDeltaEvent
  | MessagesMessageStopEvent
  | MessagesPingEvent
  | MessagesErrorEvent;
