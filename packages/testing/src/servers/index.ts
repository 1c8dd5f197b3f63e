export {
  FAULT_TYPES,
  errorKindForStatus,
  lastUserText,
  resolveScriptedReply,
  startLoopbackServer,
} from "./loopback-server";
export type {
  ChatMessage,
  ContextLengthFault,
  CutStreamFault,
  DropFault,
  ErrorKind,
  ErrorSpec,
  Fault,
  FaultRates,
  FaultType,
  FinishReason,
  HangFault,
  LatencyFault,
  LoopbackContext,
  LoopbackHandler,
  LoopbackRoute,
  LoopbackServer,
  LoopbackServerOptions,
  MalformedChunkFault,
  RecordedRequest,
  RenderedError,
  ReplyFunction,
  ReplyRequest,
  ReplyToolCall,
  ReplyUsage,
  ResolvedReply,
  ResolvedToolCall,
  ScriptedReply,
  ServerStats,
  StatusFault,
  StreamFault,
  StreamSpec,
  ToolDefinition,
} from "./loopback-server";

export { renderOpenAIError, startOpenAIServer } from "./openai-server";
export type { OpenAIErrorBody, OpenAIServer, OpenAIServerOptions } from "./openai-server";

export { anthropicFinishReason, anthropicStreamFrames, renderAnthropicError, startAnthropicServer } from "./anthropic-server";
export type {
  AnthropicErrorBody,
  AnthropicErrorType,
  AnthropicServer,
  AnthropicServerOptions,
} from "./anthropic-server";

export { renderTgiError, startHuggingFaceServer } from "./huggingface-server";
export type { HuggingFaceServer, HuggingFaceServerOptions, TgiErrorBody } from "./huggingface-server";

export { normalizeOllamaModelName, renderOllamaError, startOllamaServer } from "./ollama-server";
export type { OllamaErrorBody, OllamaModelSpec, OllamaServer, OllamaServerOptions } from "./ollama-server";
