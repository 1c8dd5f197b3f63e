import {
  type Attributes,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  context,
  metrics,
  trace,
} from "@opentelemetry/api";
import type { FinishReason, GenerateRequest, ReasoningPart, ToolCall, Usage } from "@orchestrator-ts/core";
import { replaceMethods, rewrapStream, withFields } from "@orchestrator-ts/core/internal";
import { CascadeSpans } from "./cascade-spans";
import { inputContent, outputContent } from "./content";
import { NOOP_HISTOGRAM, createInstruments } from "./metrics";
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, type InstrumentOptions, type Instrumentation } from "./options";
import { type StreamHooks, tracedStream } from "./traced-stream";
import {
  OPERATION,
  epochMs,
  errorMessageOf,
  errorTypeOf,
  explored,
  finishReasonOf,
  requestAttributes,
  selectionAttributes,
  spanKindOf,
  usageAttributes,
} from "./attributes";
import type {
  AttemptLike,
  CallEventLike,
  ExplanationLike,
  InstrumentableRegistry,
  OutcomeEventLike,
  ResultLike,
  SelectionEventLike,
  StreamLike,
} from "./registry-shape";

type Kind = "first" | "retry" | "fallback";

/** One registry call in flight. */
export class CallState {
  readonly span: Span;
  readonly ctx: Context;
  readonly stream: boolean;
  readonly request: GenerateRequest;
  readonly startedAt = performance.now();
  selectionId: string | undefined;
  model: string | undefined;
  provider: string | undefined;
  selector: string | undefined;
  onModel = 0;
  fallback = 0;
  attempts = 0;
  firstChunkS: number | undefined;
  text = "";
  reasoning = "";
  toolCalls: ToolCall[] | undefined;
  /** A cascade's call: its stages' model calls are traced (and measured) under it. */
  cascade = false;
  /** A cascade's stage call: it ends when its stage has decided, at the time its outcome came. */
  stageCall = false;
  endedAt: number | undefined;
  constructor(span: Span, ctx: Context, stream: boolean, request: GenerateRequest) {
    this.span = span;
    this.ctx = ctx;
    this.stream = stream;
    this.request = request;
  }
  /** What the next attempt is: the call's first, a retry on the same model, or the first on a fallback. */
  nextKind(): Kind {
    const kind: Kind = this.attempts === 0 ? "first" : this.onModel === 0 ? "fallback" : "retry";
    this.attempts++;
    this.onModel++;
    return kind;
  }
}

/** Calls tracked at once; past it the oldest (a stream nobody finished) is let go. */
const MAX_CALLS_IN_FLIGHT = 10_000;

/**
 * Trace and measure every call through `registry.generate` and `registry.stream` with the
 * OpenTelemetry GenAI conventions: a span per call, a child span per attempt (retries and
 * fallbacks), and the `gen_ai.client.*` metrics plus cost and selections. Returns a function that
 * stops it (also `Symbol.dispose`).
 */
export function instrument(registry: InstrumentableRegistry, options: InstrumentOptions = {}): Instrumentation {
  const tracer: Tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
    INSTRUMENTATION_NAME,
    INSTRUMENTATION_VERSION,
  );
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
    INSTRUMENTATION_NAME,
    INSTRUMENTATION_VERSION,
  );
  const captureContent = options.captureContent === true;
  const maxCallsInFlight = options.maxCallsInFlight ?? MAX_CALLS_IN_FLIGHT;
  const m = createInstruments(meter);
  // No meter provider registered: skip the per-call metric work.
  const metricsOn = !(m.duration instanceof NOOP_HISTOGRAM);

  const calls = new Map<string, CallState>();
  let stopped = false;
  // The call being started: set around the synchronous start of generate()/a stream's first next(),
  // during which the registry emits "call" with the call's selection id.
  let starting: CallState | undefined;

  const providerOf = (model: string): string | undefined => {
    try {
      return registry.getModel?.(model).provider;
    } catch {
      return undefined;
    }
  };

  // The registry builds event payloads only while someone listens: listen from the first call
  // that records something, so that with no SDK the registry's own path is unchanged.
  let listening = false;
  let offCall = (): void => {};
  let offSelection = (): void => {};
  let offOutcome = (): void => {};
  let offCascade = (): void => {};
  const listen = (): void => {
    listening = true;
    offCall = registry.on("call", onCall);
    offSelection = registry.on("selection", onSelection);
    offOutcome = registry.on("outcome", onOutcome);
    offCascade = registry.on("cascade", (e) => cascades.onStage(e));
  };

  const cascades = new CascadeSpans<CallState>({
    tracer,
    captureContent,
    take: () => {
      const state = starting;
      starting = undefined;
      return state;
    },
    // Stage calls start on the same clock their stage spans use (explicit times, not the SDK's own).
    begin: (request, stream, parent) => begin(request, stream, parent, epochMs(performance.now())),
    track: (selectionId, state) => {
      state.selectionId = selectionId;
      calls.set(selectionId, state);
      if (state.span.isRecording()) state.span.setAttribute("orchestrator.selection.id", selectionId);
    },
    succeed: (state, result) => succeed(state, result, result.attempts, result.explanation),
    fail: (state, error) => fail(state, error),
    maxInFlight: maxCallsInFlight,
  });

  const onCall = (e: CallEventLike): void => {
    if (e.cascade !== undefined) {
      cascades.onStageCall(e);
      return;
    }
    const state = starting;
    if (state === undefined) return;
    starting = undefined;
    state.selectionId = e.selectionId;
    calls.set(e.selectionId, state);
    // A stream dropped without being finished or returned never ends: bound what is kept for them.
    if (calls.size > maxCallsInFlight) {
      const [oldest, abandoned] = calls.entries().next().value as [string, CallState];
      calls.delete(oldest);
      if (abandoned.span.isRecording()) {
        abandoned.span.setAttribute("orchestrator.abandoned", true);
        abandoned.span.end();
      }
    }
    if (state.span.isRecording()) state.span.setAttribute("orchestrator.selection.id", e.selectionId);
  };

  const onSelection = (e: SelectionEventLike): void => {
    const state = e.selectionId === undefined ? undefined : calls.get(e.selectionId);
    const explanation = e.explanation;
    const provider = explanation?.candidates.find((c) => c.chosen)?.provider ?? providerOf(e.model);
    if (metricsOn && state !== undefined) {
      const a: Attributes = {
        "gen_ai.request.model": e.model,
        "orchestrator.selection.kind": e.fallback > 0 ? "fallback" : "first",
      };
      if (provider !== undefined) a["gen_ai.provider.name"] = provider;
      if (explanation !== undefined) {
        a["orchestrator.selector"] = explanation.selector;
        a["orchestrator.selection.explored"] = explored(explanation);
      }
      m.selections.add(1, a);
    }
    if (state === undefined) return;
    state.model = e.model;
    state.provider = provider;
    state.onModel = 0;
    state.fallback = e.fallback;
    if (explanation !== undefined) state.selector = explanation.selector;
    if (explanation !== undefined && state.span.isRecording()) selectionAttributes(state.span, explanation, e.fallback);
  };

  const onOutcome = (e: OutcomeEventLike): void => {
    // A success is recorded when the call returns, with the answer's usage and finish reason
    // (a stage call's when its stage has decided: it ends now).
    if (e.success) {
      const state = calls.get(e.selectionId);
      if (state?.stageCall) state.endedAt = performance.now();
      return;
    }
    const state = calls.get(e.selectionId);
    if (state === undefined) return;
    const kind = state.nextKind();
    const end = performance.now();
    const errorType = e.error ? errorTypeOf(e.error) : "_OTHER";
    if (state.span.isRecording()) {
      const span = attemptSpan(state, e.model, kind, e.attempt, end - e.latencyMs);
      span.setAttribute("error.type", errorType);
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessageOf(e.error) });
      span.end(epochMs(end));
    }
    if (metricsOn)
      m.duration.record(e.latencyMs / 1000, withFields(metricBase(state, e.model), { "error.type": errorType }));
  };

  function metricBase(state: CallState, model: string | undefined): Attributes {
    const a: Attributes = { "gen_ai.operation.name": OPERATION };
    const provider = model === state.model ? state.provider : providerOf(model ?? "");
    if (provider !== undefined) a["gen_ai.provider.name"] = provider;
    if (model !== undefined) a["gen_ai.request.model"] = model;
    return a;
  }

  function attemptSpan(state: CallState, model: string, kind: Kind, attempt: number, startMs: number): Span {
    const provider = model === state.model ? state.provider : providerOf(model);
    const a: Attributes = requestAttributes(state.request, state.stream);
    a["gen_ai.request.model"] = model;
    if (provider !== undefined) a["gen_ai.provider.name"] = provider;
    a["orchestrator.attempt"] = attempt;
    a["orchestrator.attempt.kind"] = kind;
    if (state.selectionId !== undefined) a["orchestrator.selection.id"] = state.selectionId;
    return tracer.startSpan(
      `${OPERATION} ${model}`,
      { kind: spanKindOf(provider), attributes: a, startTime: epochMs(startMs) },
      state.ctx,
    );
  }

  function begin(
    request: GenerateRequest,
    stream: boolean,
    parent = context.active(),
    startTime?: number,
  ): CallState | undefined {
    const span = tracer.startSpan(
      OPERATION,
      startTime === undefined ? { kind: SpanKind.INTERNAL } : { kind: SpanKind.INTERNAL, startTime },
      parent,
    );
    const recording = span.isRecording();
    // Nothing would be recorded: the call runs untouched (the cost with no SDK is this check).
    if (!recording && !metricsOn) return undefined;
    if (!listening && !stopped) listen();
    if (recording) {
      try {
        span.setAttributes(requestAttributes(request, stream));
        if (captureContent) {
          const content = inputContent(request);
          if (content.system !== undefined) span.setAttribute("gen_ai.system_instructions", content.system);
          span.setAttribute("gen_ai.input.messages", content.input);
        }
      } catch {
        // A request that is not one (no messages…): the span ends as a failure, and the call runs
        // untouched so the registry rejects it with its own typed error, as without instrument().
        span.setAttribute("error.type", "invalid_request");
        span.setStatus({ code: SpanStatusCode.ERROR, message: "The request is not a valid request." });
        span.end();
        return undefined;
      }
    }
    return new CallState(span, trace.setSpan(parent, span), stream, request);
  }

  /** The call answered: the successful attempt's span, the call span's response attributes, the metrics. */
  function succeed(
    state: CallState,
    answer: {
      model?: string;
      provider?: string;
      responseId?: string;
      usage?: Usage;
      finishReason?: FinishReason;
      costUsd?: number;
      cached?: boolean;
      latencyMs?: number;
      text?: string;
      toolCalls?: readonly ToolCall[];
      reasoning?: readonly ReasoningPart[];
      /** Settings the model could not honour and left out (a stream's finish chunk carries them too). */
      warnings?: readonly string[];
    },
    attempts: readonly AttemptLike[],
    explanation: ExplanationLike | undefined,
  ): void {
    const end = state.endedAt ?? performance.now();
    if (state.selectionId !== undefined) calls.delete(state.selectionId);
    const last = attempts[attempts.length - 1];
    const model = last?.model ?? state.model ?? answer.model;
    if (model !== undefined && model !== state.model) {
      state.model = model;
      state.provider = answer.provider ?? providerOf(model);
    }
    if (answer.provider !== undefined) state.provider = answer.provider;
    const kind = state.nextKind();
    const reason = finishReasonOf(answer.finishReason);
    const cached = answer.cached === true;
    const span = state.span;
    if (span.isRecording()) {
      const a: Attributes = {};
      if (state.provider !== undefined) a["gen_ai.provider.name"] = state.provider;
      if (model !== undefined) a["gen_ai.request.model"] = model;
      if (answer.model !== undefined) a["gen_ai.response.model"] = answer.model;
      if (answer.responseId !== undefined) a["gen_ai.response.id"] = answer.responseId;
      if (reason !== undefined) a["gen_ai.response.finish_reasons"] = [reason];
      usageAttributes(a, answer.usage);
      if (answer.costUsd !== undefined) a["orchestrator.cost_usd"] = answer.costUsd;
      a["orchestrator.cache.hit"] = cached;
      a["orchestrator.attempts"] = state.attempts;
      const warnings = answer.warnings;
      if (warnings !== undefined && warnings.length > 0) a["orchestrator.warnings"] = [...warnings];
      if (state.firstChunkS !== undefined) a["gen_ai.response.time_to_first_chunk"] = state.firstChunkS;
      if (captureContent)
        a["gen_ai.output.messages"] = outputContent(
          state.stream ? state.text : (answer.text ?? ""),
          state.stream ? (state.toolCalls ?? []) : (answer.toolCalls ?? []),
          reason,
          state.stream ? state.reasoning : answer.reasoning,
        );
      if (explanation !== undefined && state.selector === undefined)
        selectionAttributes(span, explanation, state.fallback);
      span.setAttributes(a);
      if (model !== undefined) span.updateName(`${OPERATION} ${model}`);
      // A cascade's model calls have their spans under its stages.
      if (model !== undefined && !state.cascade) {
        const latencyMs = last?.latencyMs ?? answer.latencyMs ?? end - state.startedAt;
        const attempt = attemptSpan(state, model, kind, state.attempts, Math.max(state.startedAt, end - latencyMs));
        const b: Attributes = { "orchestrator.cache.hit": cached };
        if (answer.model !== undefined) b["gen_ai.response.model"] = answer.model;
        if (answer.responseId !== undefined) b["gen_ai.response.id"] = answer.responseId;
        if (reason !== undefined) b["gen_ai.response.finish_reasons"] = [reason];
        usageAttributes(b, answer.usage);
        if (answer.costUsd !== undefined) b["orchestrator.cost_usd"] = answer.costUsd;
        if (a["orchestrator.warnings"] !== undefined) b["orchestrator.warnings"] = a["orchestrator.warnings"];
        attempt.setAttributes(b);
        attempt.end(epochMs(end));
      }
      span.end(epochMs(end));
    }
    // A cascade's model calls are measured one by one, not again as a whole.
    if (metricsOn && !state.cascade) {
      const base = metricBase(state, model);
      if (answer.model !== undefined) base["gen_ai.response.model"] = answer.model;
      const latencyMs = last?.latencyMs ?? answer.latencyMs ?? end - state.startedAt;
      m.duration.record(latencyMs / 1000, withFields(base, { "orchestrator.cache.hit": cached }));
      // A cache hit used no tokens and cost nothing.
      if (!cached) {
        if (answer.usage?.inputTokens !== undefined)
          m.tokens.record(answer.usage.inputTokens, withFields(base, { "gen_ai.token.type": "input" }));
        if (answer.usage?.outputTokens !== undefined)
          m.tokens.record(answer.usage.outputTokens, withFields(base, { "gen_ai.token.type": "output" }));
        if (answer.costUsd !== undefined) m.cost.add(answer.costUsd, base);
      }
      if (state.firstChunkS !== undefined) m.firstChunk.record(state.firstChunkS, base);
    }
  }

  function fail(state: CallState, error: unknown): void {
    if (state.selectionId !== undefined) calls.delete(state.selectionId);
    const span = state.span;
    if (!span.isRecording()) return;
    span.setAttribute("error.type", errorTypeOf(error));
    span.setAttribute("orchestrator.attempts", state.attempts);
    if (state.model !== undefined) {
      span.setAttribute("gen_ai.request.model", state.model);
      if (state.provider !== undefined) span.setAttribute("gen_ai.provider.name", state.provider);
      span.updateName(`${OPERATION} ${state.model}`);
    }
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessageOf(error) });
    span.end();
  }

  /** The caller stopped reading a stream: not an error of the call. */
  function cancel(state: CallState): void {
    if (state.selectionId !== undefined) calls.delete(state.selectionId);
    if (!state.span.isRecording()) return;
    state.span.setAttribute("orchestrator.cancelled", true);
    state.span.end();
  }

  const originalGenerate = registry.generate;
  const originalStream = registry.stream;

  const generate = function generate(
    this: unknown,
    request: GenerateRequest,
    requirements?: never,
  ): Promise<ResultLike> {
    const state = begin(request, false);
    if (state === undefined) return originalGenerate.call(registry, request, requirements);
    starting = state;
    let pending: Promise<ResultLike>;
    try {
      pending = context.with(state.ctx, () => originalGenerate.call(registry, request, requirements));
    } finally {
      starting = undefined;
    }
    return pending.then(
      (result) => {
        succeed(state, result, result.attempts, result.explanation);
        return result;
      },
      (error: unknown) => {
        fail(state, error);
        throw error;
      },
    );
  };

  const streamHooks: StreamHooks<CallState> = {
    captureContent,
    begin: (request) => begin(request, true),
    starting: (state) => {
      starting = state;
    },
    succeed,
    fail,
    cancel,
  };

  const stream = function stream(this: unknown, request: GenerateRequest, requirements?: never): StreamLike {
    const inner = originalStream.call(registry, request, requirements);
    return rewrapStream(inner, () => tracedStream(inner, request, streamHooks));
  };

  const unwrap = replaceMethods(registry, { generate, stream });

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    offCall();
    offSelection();
    offOutcome();
    offCascade();
    cascades.clear();
    // Put back what was there, unless someone replaced our wrappers since.
    unwrap();
    calls.clear();
  };
  return Object.assign(stop, { [Symbol.dispose]: stop }) as Instrumentation;
}
