import { type Context, context } from "@opentelemetry/api";
import type { GenerateRequest, StreamChunk, ToolCall } from "@orchestrator-ts/core";
import type { AttemptLike, ExplanationLike, StreamChunkLike, StreamLike } from "./registry-shape";
import { withFields } from "@orchestrator-ts/core/internal";

// A registry stream, traced: the call begins at the first next() (when the registry selects), time
// to first chunk and the streamed content are kept, and the call succeeds, fails or is cancelled
// with the stream.

/** What a traced stream reads and writes of its call's state (`instrument`'s CallState). */
export interface StreamedCall {
  readonly ctx: Context;
  readonly startedAt: number;
  firstChunkS: number | undefined;
  text: string;
  reasoning: string;
  toolCalls: ToolCall[] | undefined;
}

/** The stream's finish chunk, as the answer of the call. */
export type StreamAnswer = Extract<StreamChunk, { type: "finish" }> & { provider: undefined };

/** What a traced stream needs of `instrument`. */
export interface StreamHooks<S extends StreamedCall> {
  readonly captureContent: boolean;
  /** The call's state, or `undefined` when nothing would be recorded (the stream then runs untouched). */
  begin(request: GenerateRequest): S | undefined;
  /** The call being started, set around the synchronous start of the first `next()`. */
  starting(state: S | undefined): void;
  succeed(
    state: S,
    answer: StreamAnswer,
    attempts: readonly AttemptLike[],
    explanation: ExplanationLike | undefined,
  ): void;
  fail(state: S, error: unknown): void;
  cancel(state: S): void;
}

export function tracedStream<S extends StreamedCall>(
  inner: StreamLike,
  request: GenerateRequest,
  hooks: StreamHooks<S>,
): AsyncIterator<StreamChunkLike> {
  const { captureContent, succeed, fail, cancel } = hooks;
  const it = inner[Symbol.asyncIterator]();
  let state: S | undefined;
  let begun = false;
  let done = false;
  const onNext = (next: IteratorResult<StreamChunkLike>): IteratorResult<StreamChunkLike> => {
    const s = state as S;
    if (done) return next;
    if (next.done) {
      // Ended without a finish chunk (the caller left while a wait was cut short).
      done = true;
      cancel(s);
      return next;
    }
    const chunk = next.value;
    if (chunk.type === "finish") {
      done = true;
      const attempts = "attempts" in chunk ? chunk.attempts : inner.attempts;
      succeed(s, withFields(chunk, { provider: undefined, latencyMs: chunk.latencyMs }), attempts, inner.explanation);
      return next;
    }
    if (s.firstChunkS === undefined) s.firstChunkS = (performance.now() - s.startedAt) / 1000;
    if (captureContent) {
      if (chunk.type === "text") s.text += chunk.text;
      else if (chunk.type === "reasoning") s.reasoning += chunk.text;
      else if (chunk.type === "tool-call") (s.toolCalls ??= []).push(chunk.toolCall);
    }
    return next;
  };
  const onError = (error: unknown): never => {
    if (!done && state !== undefined) {
      done = true;
      fail(state, error);
    }
    throw error;
  };
  return {
    next() {
      if (!begun) {
        begun = true;
        state = hooks.begin(request);
        if (state === undefined) {
          // Untraced: hand the caller the registry's own iterator from now on.
          this.next = () => it.next();
          this.return = () => (it.return ? it.return() : Promise.resolve({ done: true, value: undefined }));
          return it.next();
        }
        hooks.starting(state);
        let first: Promise<IteratorResult<StreamChunkLike>>;
        try {
          first = context.with(state.ctx, () => it.next());
        } finally {
          hooks.starting(undefined);
        }
        return first.then(onNext, onError);
      }
      if (state === undefined || done) return it.next();
      return it.next().then(onNext, onError);
    },
    return() {
      if (state !== undefined && !done) {
        done = true;
        cancel(state);
      }
      return it.return ? it.return() : Promise.resolve({ done: true, value: undefined });
    },
  };
}
