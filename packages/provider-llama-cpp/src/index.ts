export { LazyLlamaCppModel, type LazyLlamaCppModelOptions, LlamaCppModel, type LlamaCppModelOptions, estimateMemoryBytes } from "./llama-cpp-model";
export { GgufFileError, type GgufFileProblem, InsufficientMemoryError } from "./errors";
export { type GgufSummary, readGgufSummary } from "./gguf-file";
export {
  type FileQuantization,
  type GgufFileEntry,
  type LlamaQuantization,
  type ResolvedModelFile,
  listGgufFiles,
  matchesQuantization,
  quantizationOf,
  resolveModelFile,
} from "./quantization";
export { defaultThreads } from "./llama-runtime";
export { type LlamaCppProviderConfig, llamaCppProvider } from "./plugin";
export { llamaCppProvider as default } from "./plugin";
