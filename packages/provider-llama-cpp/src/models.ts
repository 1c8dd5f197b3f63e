import { statSync } from "node:fs";
import { resolve } from "node:path";
import {
  ConfigError,
  type ModelCapabilitiesInput,
  ModelConstraints,
  type ModelConstraintsInput,
} from "@orchestrator-ts/core";
import type { GgufSummary } from "./gguf-file";
import { type FileQuantization, resolveModelFile } from "./quantization";

// What a model file decides: the file chosen for `modelPath` and `quantization`, the context it
// gets, the capabilities, price and memory that follow, and who answers (for cache keys).

export const PROVIDER = "llama-cpp";
export const DEFAULT_MAX_CONTEXT = 4096;
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** What the file decides: chosen once, from `modelPath` and `quantization`. */
export interface Resolved {
  file: GgufSummary;
  quantization: FileQuantization;
  contextSize: number;
}

/** The options these functions read (a model's options). */
interface FileOptions {
  name: string;
  modelPath: string;
  quantization?: string | undefined;
  contextSize?: number | undefined;
  threads?: number | undefined;
  maxTokens?: number | undefined;
  computeCostPerToken?: number | { input: number; output: number } | undefined;
  constraints?: ModelConstraints | ModelConstraintsInput | undefined;
}

/**
 * Rough memory a loaded model needs on the CPU: the weights (the file), the f16 KV cache for
 * `contextSize`, and compute buffers (64 MiB plus 10%). Deliberately simple and a little generous.
 */
export function estimateMemoryBytes(summary: GgufSummary, contextSize: number): number {
  const layers = summary.blockCount ?? 0;
  const embedding = summary.embeddingLength ?? 0;
  const heads = summary.headCount ?? 0;
  const kvDim = heads > 0 ? (embedding / heads) * (summary.headCountKv ?? heads) : embedding;
  const kvCache = 2 * layers * contextSize * kvDim * 2;
  return Math.ceil((summary.sizeBytes + kvCache) * 1.1 + 64 * MIB);
}

export function formatBytes(bytes: number): string {
  return bytes >= GIB ? `${(bytes / GIB).toFixed(2)} GiB` : `${(bytes / MIB).toFixed(1)} MiB`;
}

/** Checks of the options alone, no disk access: a lazy model runs only these when constructed. */
export function checkOptions(options: FileOptions): void {
  const context = { provider: PROVIDER, model: options?.name };
  if (!options || typeof options.modelPath !== "string" || options.modelPath.length === 0) {
    throw new ConfigError([{ path: "modelPath", message: "is required: a .gguf file or a directory of them" }], {
      ...context,
      title: "Invalid llama-cpp model options",
    });
  }
  const positive = (key: "contextSize" | "threads" | "maxTokens", value: number | undefined): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ConfigError([{ path: key, message: `must be a positive integer, got ${String(value)}` }], {
        ...context,
        title: "Invalid llama-cpp model options",
      });
    }
  };
  positive("contextSize", options.contextSize);
  positive("threads", options.threads);
  positive("maxTokens", options.maxTokens);
}

/** Reads the directory and the chosen file's header (synchronously, header only). */
export function resolveFile(options: FileOptions): Resolved {
  const { summary: file, quantization } = resolveModelFile(options.modelPath, options.quantization, {
    provider: PROVIDER,
    model: options.name,
  });
  const trained = file.contextLength ?? DEFAULT_MAX_CONTEXT;
  return { file, quantization, contextSize: options.contextSize ?? Math.min(trained, DEFAULT_MAX_CONTEXT) };
}

/** Local and free unless a compute cost per token is configured. */
export function defaultCapabilities(options: FileOptions, contextSize: number): ModelCapabilitiesInput {
  const cost = options.computeCostPerToken ?? 0;
  const [inputCost, outputCost] = typeof cost === "number" ? [cost, cost] : [cost.input, cost.output];
  return {
    textGeneration: true,
    maxTokens: contextSize,
    contextWindow: contextSize,
    supportsStreaming: true,
    structuredOutput: true,
    functionCalling: false,
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
  };
}

/** The declared constraints, with the memory the file needs (when it has been read). */
export function constraintsFor(
  options: FileOptions,
  resolved: Resolved | undefined,
): ModelConstraints | ModelConstraintsInput | undefined {
  const declared = options.constraints;
  if (!resolved || declared instanceof ModelConstraints) return declared;
  const required = Math.ceil((estimateMemoryBytes(resolved.file, resolved.contextSize) / GIB) * 100) / 100;
  return { requiredMemoryGb: required, ...declared };
}

/**
 * Who answers, for cache keys: the weights file (its absolute path, size and modification time:
 * two fine-tunes of one base model can share a size, and a file replaced in place changes its
 * time), its quantization, and what changes answers (context size, default `maxTokens`). A lazy
 * model reads its file at the first use, so its identity is computed then (the same as an eager one's).
 */
export function fileIdentity(resolved: Resolved, options: FileOptions): Record<string, unknown> {
  const path = resolve(resolved.file.path);
  let modifiedMs: number | undefined;
  try {
    modifiedMs = statSync(path).mtimeMs;
  } catch {
    // Read a moment ago; if it is gone now, loading will say so. Path and size still identify it.
  }
  return {
    file: path,
    sizeBytes: resolved.file.sizeBytes,
    modifiedMs,
    quantization: resolved.quantization.type,
    contextSize: resolved.contextSize,
    maxTokens: options.maxTokens ?? resolved.contextSize,
  };
}
