export {
  LazyLlamaCppModel,
  type LazyLlamaCppModelOptions,
  LlamaCppModel,
  type LlamaCppModelOptions,
} from "./llama-cpp-model";
export { estimateMemoryBytes } from "./models";
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
/** The YAML plugin under the name the config loader looks for, so `provider: "@orchestrator-ts/provider-llama-cpp"` finds it by package name. A named export rather than a default one: CommonJS consumers would otherwise need `.default`. */
export { llamaCppProvider as provider } from "./plugin";
