import type { ExclusionReason, GenerateRequest, GenerateResult, OrchestratorError, StreamChunk } from "@orchestrator-ts/core";

// What `instrument` needs of a `ModelRegistry`, typed structurally: this package depends on the
// contract (core) only, and any registry with the same events and calls can be instrumented.

/** A candidate's score in a selection explanation. */
export interface CandidateLike {
  model: string;
  provider: string;
  score: number;
  meanReward?: number;
  note?: string;
  chosen: boolean;
}

export interface ExplanationLike {
  selector: string;
  candidates: readonly CandidateLike[];
  excluded: readonly ExclusionReason[];
  fallbackFor?: string;
}

export interface AttemptLike {
  model: string;
  success: boolean;
  latencyMs: number;
  errorCode?: string;
  next?: "retry" | "fallback" | "throw";
}

export interface CallEventLike {
  selectionId: string;
  request: GenerateRequest;
  stream: boolean;
}

export interface SelectionEventLike {
  selectionId: string | undefined;
  model: string;
  explanation: ExplanationLike | undefined;
  fallback: number;
}

export interface OutcomeEventLike {
  selectionId: string;
  model: string;
  success: boolean;
  latencyMs: number;
  costUsd: number | undefined;
  error: OrchestratorError | undefined;
  attempt: number;
}

export interface ResultLike extends GenerateResult {
  selectionId: string;
  explanation: ExplanationLike;
  attempts: readonly AttemptLike[];
}

export type StreamChunkLike = StreamChunk | (Extract<StreamChunk, { type: "finish" }> & { selectionId: string; attempts: readonly AttemptLike[] });

export interface StreamLike extends AsyncIterable<StreamChunkLike> {
  readonly selectionId: string | undefined;
  readonly explanation: ExplanationLike | undefined;
  readonly attempts: readonly AttemptLike[];
}

/** The part of `ModelRegistry` (from `@orchestrator-ts/registry`) that `instrument` uses. */
export interface InstrumentableRegistry {
  on(event: "call", listener: (event: CallEventLike) => void): () => void;
  on(event: "selection", listener: (event: SelectionEventLike) => void): () => void;
  on(event: "outcome", listener: (event: OutcomeEventLike) => void): () => void;
  generate(request: GenerateRequest, requirements?: never): Promise<ResultLike>;
  stream(request: GenerateRequest, requirements?: never): StreamLike;
  getModel?(name: string): { provider: string };
}
