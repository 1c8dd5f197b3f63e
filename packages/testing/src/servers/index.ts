export { startLoopbackServer, type LoopbackServerOptions } from "./loopback-server";
export {
  FAULT_TYPES,
  type ContextLengthFault,
  type CutStreamFault,
  type DropFault,
  type Fault,
  type FaultRates,
  type FaultType,
  type HangFault,
  type LatencyFault,
  type MalformedChunkFault,
  type StatusFault,
  type StreamFault,
} from "./faults";
export {
  errorKindForStatus,
  type ErrorKind,
  type ErrorSpec,
  type LoopbackContext,
  type LoopbackHandler,
  type LoopbackRoute,
  type LoopbackServer,
  type RecordedRequest,
  type RenderedError,
  type ServerStats,
  type StreamSpec,
} from "./handler";
export {
  lastUserText,
  resolveScriptedReply,
  type ChatMessage,
  type FinishReason,
  type ReplyFunction,
  type ReplyProtocol,
  type ReplyReasoning,
  type ReplyRequest,
  type ReplyToolCall,
  type ReplyUsage,
  type ResolvedReasoning,
  type ResolvedReply,
  type ResolvedToolCall,
  type ScriptedReply,
  type ToolDefinition,
} from "./scripted-replies";

export { renderOpenAIError, startOpenAIServer } from "./openai-server";
export type { OpenAIErrorBody, OpenAIServer, OpenAIServerOptions } from "./openai-server";

export {
  anthropicFinishReason,
  anthropicStreamFrames,
  signatureOf as anthropicSignatureOf,
  renderAnthropicError,
  startAnthropicServer,
} from "./anthropic-server";
export type {
  AnthropicErrorBody,
  AnthropicErrorType,
  AnthropicReply,
  AnthropicServer,
  AnthropicServerOptions,
} from "./anthropic-server";

export { renderTgiError, startHuggingFaceServer } from "./huggingface-server";
export type { HuggingFaceServer, HuggingFaceServerOptions, TgiErrorBody } from "./huggingface-server";

export { normalizeOllamaModelName, renderOllamaError, startOllamaServer } from "./ollama-server";
export type { OllamaErrorBody, OllamaModelSpec, OllamaServer, OllamaServerOptions } from "./ollama-server";
