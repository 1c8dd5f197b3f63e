import type {
  ExclusionReason,
  GenerateRequest,
  GenerateResult,
  OrchestratorError,
  StreamChunk,
} from "@orchestrator-ts/core";

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

/** Why a model was chosen (`SelectionExplanation` of the registry): the parts spans report. */
export interface ExplanationLike {
  selector: string;
  candidates: readonly CandidateLike[];
  excluded: readonly ExclusionReason[];
  fallbackFor?: string;
}

/** One try within a call (`AttemptRecord` of the registry). */
export interface AttemptLike {
  model: string;
  success: boolean;
  latencyMs: number;
  errorCode?: string;
  next?: "retry" | "fallback" | "throw";
}

/** The registry's `call` event: a call starts (a cascade's stage call names its cascade and stage). */
export interface CallEventLike {
  selectionId: string;
  request: GenerateRequest;
  stream: boolean;
  cascade?: { cascadeId: string; stage: number } | undefined;
}

/** One model's answer in a cascade stage (`CascadeAnswer` of the registry). */
export interface CascadeAnswerLike {
  model: string;
  answer: unknown;
  ok: boolean;
  costUsd: number | undefined;
  selectionId: string | undefined;
  errorCode?: string;
  judge?: boolean;
}

/** The registry's `cascade` event: a cascade stage starts or has decided. */
export interface CascadeStageEventLike {
  cascadeId: string;
  route: string;
  phase: "start" | "end";
  stage: number;
  final: boolean;
  models: readonly string[];
  parallel: boolean;
  answers: readonly CascadeAnswerLike[];
  results: readonly (ResultLike | undefined)[];
  errors: readonly (OrchestratorError | undefined)[];
  agreeing: number;
  decision: "accepted" | "escalated" | "final" | "paced" | undefined;
}

/** The registry's `selection` event: a model was chosen (first, or a fallback). */
export interface SelectionEventLike {
  selectionId: string | undefined;
  model: string;
  explanation: ExplanationLike | undefined;
  fallback: number;
}

/** The registry's `outcome` event: an attempt ended. */
export interface OutcomeEventLike {
  selectionId: string;
  model: string;
  success: boolean;
  latencyMs: number;
  costUsd: number | undefined;
  error: OrchestratorError | undefined;
  attempt: number;
}

/** What `registry.generate` resolves to (`RegistryResult`). */
export interface ResultLike extends GenerateResult {
  selectionId: string;
  explanation: ExplanationLike;
  attempts: readonly AttemptLike[];
}

/** A chunk of a registry stream; its finish chunk names the selection and the attempts. */
export type StreamChunkLike =
  | StreamChunk
  | (Extract<StreamChunk, { type: "finish" }> & { selectionId: string; attempts: readonly AttemptLike[] });

/** What `registry.stream` returns (`RegistryStream`). */
export interface StreamLike extends AsyncIterable<StreamChunkLike> {
  readonly selectionId: string | undefined;
  readonly explanation: ExplanationLike | undefined;
  readonly attempts: readonly AttemptLike[];
  /** A cascade route's record, once known (kept by `instrument`'s wrapper as it is). */
  readonly cascade?: unknown;
}

/** The part of `ModelRegistry` (from `@orchestrator-ts/registry`) that `instrument` uses. */
export interface InstrumentableRegistry {
  /** Subscribe to an event; returns the unsubscribe function. */
  on(event: "call", listener: (event: CallEventLike) => void): () => void;
  /** Subscribe to an event; returns the unsubscribe function. */
  on(event: "selection", listener: (event: SelectionEventLike) => void): () => void;
  /** Subscribe to an event; returns the unsubscribe function. */
  on(event: "outcome", listener: (event: OutcomeEventLike) => void): () => void;
  /** Subscribe to an event; returns the unsubscribe function. */
  on(event: "cascade", listener: (event: CascadeStageEventLike) => void): () => void;
  /** Select, call, retry and fall back: one traced call. */
  generate(request: GenerateRequest, requirements?: never): Promise<ResultLike>;
  /** Like `generate`, streamed. */
  stream(request: GenerateRequest, requirements?: never): StreamLike;
  /** A registered model, for its provider name. */
  getModel?(name: string): { provider: string };
}
