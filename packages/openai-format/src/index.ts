export type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessage,
  ChatContentPart,
  ChatDelta,
  ChatErrorBody,
  ChatFinishReason,
  ChatIdentity,
  ChatImagePart,
  ChatMessage,
  ChatRequest,
  ChatResponseFormat,
  ChatTextPart,
  ChatThinkingBlock,
  ChatTool,
  ChatToolCall,
  ChatToolCallDelta,
  ChatToolChoice,
  ChatUsage,
} from "./wire";
export {
  type ChatReasoningInput,
  type ChatRequestOptions,
  imageUrl,
  schemaOf,
  toChatMessages,
  toChatPart,
  toChatRequest,
  toChatResponseFormat,
  toChatToolCall,
  toChatToolChoice,
  toChatTools,
} from "./request";
export { fromChatRequest, InvalidChatRequestError, type ParsedChatRequest } from "./parse-request";
export { fromResponsesRequest, type ParsedResponsesRequest } from "./responses-request";
export {
  type ResponsesIdentity,
  type ResponsesOutputItem,
  type ResponsesOutputText,
  type ResponsesResponse,
  ResponsesStreamEncoder,
  type ResponsesStreamEvent,
  type ResponsesUsage,
  responsesSseEvent,
  toResponsesResponse,
} from "./responses-response";
export {
  type ChatCompletionLike,
  type ChatOutput,
  type ChatUsageLike,
  fromChatCompletion,
  fromChatFinishReason,
  fromChatUsage,
  toChatCompletion,
  toChatFinishReason,
  toChatUsage,
} from "./response";
export {
  type ChatCompletionChunkLike,
  ChatStreamDecoder,
  ChatStreamEncoder,
  type ChatStreamEncoderOptions,
  SSE_DONE,
  sseFrame,
} from "./stream";
export {
  type ChatReasoningLike,
  fromChatReasoning,
  fromChatThinkingBlock,
  pushChatReasoningDelta,
  toChatThinkingBlock,
  toChatThinkingBlocks,
} from "./reasoning";
export { parseArguments, stringifyArguments, ToolCallAssembler, type ToolCallDeltaLike } from "./tool-calls";
export {
  DONE_GRACE_MS,
  type EventDataParser,
  NODE_BODY,
  readJsonBody,
  SSEJsonStream,
  type SSEJsonStreamOptions,
} from "./sse";
export { chatChunkParser } from "./chat-chunk-parser";
export {
  type ChatModelInfo,
  chatModelCapabilities,
  ownEntry,
  type PerMillionPrice,
  type PriceSource,
  resolveCapabilities,
  type ResolveCapabilitiesOptions,
} from "./pricing";
