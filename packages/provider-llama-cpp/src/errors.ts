import { ProviderError, type ProviderErrorOptions } from "@orchestrator-ts/core";
import type { GgufProblem } from "@orchestrator-ts/gguf";

/** What is wrong with a model file (`@orchestrator-ts/gguf`'s reader says). */
export type GgufFileProblem = GgufProblem;

/** A model file that llama.cpp cannot load: not GGUF, truncated, or corrupt. Retrying cannot help. */
export class GgufFileError extends ProviderError {
  static override readonly errorName: string = "GgufFileError";
  override readonly code = "gguf_file_error";
  readonly problem: GgufFileProblem;
  constructor(message: string, problem: GgufFileProblem, options: ProviderErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.problem = problem;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), problem: this.problem };
  }
}

/** Loading would need more memory than the machine has free; the numbers are in the message. */
export class InsufficientMemoryError extends ProviderError {
  static override readonly errorName: string = "InsufficientMemoryError";
  override readonly code = "insufficient_memory";
  readonly requiredBytes: number;
  readonly freeBytes: number;
  constructor(message: string, requiredBytes: number, freeBytes: number, options: ProviderErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.requiredBytes = requiredBytes;
    this.freeBytes = freeBytes;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), requiredBytes: this.requiredBytes, freeBytes: this.freeBytes };
  }
}
