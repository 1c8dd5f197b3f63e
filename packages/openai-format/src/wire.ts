/**
 * The OpenAI chat-completions wire shapes, as JSON carries them. Written here rather than taken
 * from the `openai` SDK so that this package needs no SDK at run time; they are structurally the
 * SDK's types (the tests assign them to `openai`'s own), trimmed to what the conversion reads and
 * writes. Fields a reader does not know are kept by readers and ignored by writers.
 */

export type ChatFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

/** A text part of a message's `content`. */
export interface ChatTextPart {
  type: "text";
  text: string;
}

/** An image part of a message's `content` (`image_url`: a URL or a data URL). */
export interface ChatImagePart {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}

/** A part of a message's `content`. */
export type ChatContentPart = ChatTextPart | ChatImagePart;

/** A function call in an assistant message (`arguments` is a JSON string). */
export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/**
 * A block of an Anthropic model's reasoning as LiteLLM carries it through the OpenAI shape
 * (`thinking_blocks` of a message or delta): signed thinking, or an encrypted (redacted) block.
 * A streamed `thinking` block may carry only its signature (`thinking: ""`).
 */
export type ChatThinkingBlock =
  | { type: "thinking"; thinking: string; signature?: string }
  | { type: "redacted_thinking"; data: string };

/** A message of a chat-completions request, by role. */
export type ChatMessage =
  | { role: "system" | "developer"; content: string | ChatTextPart[]; name?: string }
  | { role: "user"; content: string | ChatContentPart[]; name?: string }
  | {
      role: "assistant";
      content?: string | ChatTextPart[] | null;
      tool_calls?: ChatToolCall[];
      refusal?: string | null;
      name?: string;
      /** An earlier turn's reasoning given back (DeepSeek refuses it; vLLM and others ignore it). */
      reasoning_content?: string | null;
      /** An earlier turn's Anthropic reasoning given back, signed (LiteLLM's shape). */
      thinking_blocks?: ChatThinkingBlock[];
    }
  | { role: "tool"; content: string | ChatTextPart[]; tool_call_id: string };

/** A function tool the model may call. */
export interface ChatTool {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

/** Which tool the model must or may call. */
export type ChatToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

/** `response_format`: text, any JSON object, or a JSON schema. */
export type ChatResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
      type: "json_schema";
      json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null };
    };

/** A `POST /chat/completions` body. */
export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  max_tokens?: number | null;
  /** What reasoning models (o-series, gpt-5) take instead of `max_tokens`. */
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  response_format?: ChatResponseFormat;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  /** Anything else (`user`, `logit_bias`, `reasoning_effort`…) is passed as is. */
  [key: string]: unknown;
}

/** Token counts as OpenAI reports them. */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** How many of the prompt tokens came from the provider's prompt cache. */
  prompt_tokens_details?: { cached_tokens: number };
}

/** The assistant message of a `chat.completion` choice. */
export interface ChatCompletionMessage {
  role: "assistant";
  content: string | null;
  refusal: string | null;
  tool_calls?: ChatToolCall[];
  /**
   * The model's reasoning before its answer: what DeepSeek, vLLM, SGLang, LM Studio and LiteLLM
   * send (OpenAI itself sends none). Never part of `content`.
   */
  reasoning_content?: string | null;
  /** OpenRouter's and Ollama's name for `reasoning_content`. */
  reasoning?: string | null;
  /** The same reasoning as signed or redacted blocks, when they are Anthropic's (LiteLLM). */
  thinking_blocks?: ChatThinkingBlock[];
}

/** A whole answer (`object: "chat.completion"`). */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: { index: number; message: ChatCompletionMessage; logprobs: null; finish_reason: ChatFinishReason }[];
  usage?: ChatUsage;
  system_fingerprint?: string;
}

/** A piece of a streamed tool call: the first carries id and name, the rest argument text. */
export interface ChatToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

/** What one `chat.completion.chunk` adds to the message. */
export interface ChatDelta {
  role?: "assistant";
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ChatToolCallDelta[];
  /** A piece of the model's reasoning (see `ChatCompletionMessage.reasoning_content`). */
  reasoning_content?: string | null;
  /** OpenRouter's and Ollama's name for `reasoning_content`. */
  reasoning?: string | null;
  /** A reasoning block's signature, or a redacted block, as LiteLLM streams them. */
  thinking_blocks?: ChatThinkingBlock[];
}

/** One streamed piece (`object: "chat.completion.chunk"`), one `data:` event of the SSE body. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: { index: number; delta: ChatDelta; logprobs?: null; finish_reason: ChatFinishReason | null }[];
  usage?: ChatUsage | null;
  system_fingerprint?: string;
}

/** What an OpenAI-compatible server answers on failure. */
export interface ChatErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Who answers: the fields every completion and chunk of one answer share. */
export interface ChatIdentity {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  systemFingerprint?: string;
}
