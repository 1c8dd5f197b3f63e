import { type Attributes, type Context, type Span, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import type { GenerateRequest } from "@orchestrator-ts/core";
import type { CallEventLike, CascadeStageEventLike, ResultLike } from "./registry-shape";

// A cascade call's spans: under the call span, one INTERNAL span per stage that ran
// (`cascade stage <n>`: its models, parallel or not, how many answers were readable and agreed,
// what it decided), and under each stage the stage's model calls, traced like any registry call
// (a call span and its attempts). Built from the registry's `cascade` events and the `call`
// events of the stage calls, which name their cascade and stage.

/** What the cascade spans use of a call `instrument` tracks (its `CallState`). */
export interface CallLike {
  readonly span: Span;
  readonly ctx: Context;
  model: string | undefined;
  cascade: boolean;
  stageCall: boolean;
}

/** What the cascade spans need of `instrument`. */
export interface CascadeHooks<CallState extends CallLike> {
  tracer: Tracer;
  captureContent: boolean;
  /** The call being started now (the cascade's own call span), taken so no other event claims it. */
  take(): CallState | undefined;
  /** A call state under `parent` (a stage span) for a stage call. */
  begin(request: GenerateRequest, stream: boolean, parent: Context): CallState | undefined;
  /** Start tracking a call by its selection id, as `instrument` does for its own calls. */
  track(selectionId: string, state: CallState): void;
  succeed(state: CallState, result: ResultLike): void;
  fail(state: CallState, error: unknown): void;
  /** Cascades tracked at once; past it the oldest (a stream dropped mid-way) is ended. */
  maxInFlight: number;
}

interface Stage<CallState> {
  span: Span;
  ctx: Context;
  /** Its model calls, in the order they began. */
  calls: { selectionId: string; state: CallState; done: boolean }[];
}

interface Cascade<CallState> {
  owner: CallState;
  stages: Map<number, Stage<CallState>>;
  ran: number;
}

/** Now, on the clock the call spans' explicit times use (the SDK's default clock can be a millisecond apart). */
const now = (): number => performance.timeOrigin + performance.now();

export class CascadeSpans<CallState extends CallLike> {
  readonly #hooks: CascadeHooks<CallState>;
  readonly #cascades = new Map<string, Cascade<CallState>>();

  constructor(hooks: CascadeHooks<CallState>) {
    this.#hooks = hooks;
  }

  /** A `cascade` event. */
  onStage(e: CascadeStageEventLike): void {
    if (e.phase === "start") this.#start(e);
    else this.#end(e);
  }

  /** A stage call begins: its call state, under its stage's span (undefined when the cascade is not traced). */
  onStageCall(e: CallEventLike): CallState | undefined {
    const tag = e.cascade;
    if (tag === undefined) return undefined;
    const stage = this.#cascades.get(tag.cascadeId)?.stages.get(tag.stage);
    if (stage === undefined) return undefined;
    const state = this.#hooks.begin(e.request, e.stream, stage.ctx);
    if (state === undefined) return undefined;
    state.stageCall = true;
    stage.calls.push({ selectionId: e.selectionId, state, done: false });
    this.#hooks.track(e.selectionId, state);
    return state;
  }

  #start(e: CascadeStageEventLike): void {
    let cascade = this.#cascades.get(e.cascadeId);
    if (cascade === undefined) {
      // Only a cascade's first stage starts inside the traced call, synchronously.
      if (e.stage !== 0) return;
      const owner = this.#hooks.take();
      if (owner === undefined) return;
      owner.cascade = true;
      if (owner.span.isRecording()) owner.span.setAttribute("orchestrator.cascade.route", e.route);
      cascade = { owner, stages: new Map(), ran: 0 };
      this.#cascades.set(e.cascadeId, cascade);
      if (this.#cascades.size > this.#hooks.maxInFlight) this.#evictOldest();
    }
    cascade.ran++;
    const span = this.#hooks.tracer.startSpan(
      `cascade stage ${e.stage}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "orchestrator.cascade.route": e.route,
          "orchestrator.cascade.stage": e.stage,
          "orchestrator.cascade.models": [...e.models],
          "orchestrator.cascade.parallel": e.parallel,
          "orchestrator.cascade.final": e.final,
        },
        startTime: now(),
      },
      cascade.owner.ctx,
    );
    cascade.stages.set(e.stage, { span, ctx: trace.setSpan(cascade.owner.ctx, span), calls: [] });
  }

  #end(e: CascadeStageEventLike): void {
    const cascade = this.#cascades.get(e.cascadeId);
    const stage = cascade?.stages.get(e.stage);
    if (cascade === undefined || stage === undefined) return;
    // Each answer ends its call's span: by its selection id, else (a failed call has none) by order of its model.
    e.answers.forEach((answer, i) => {
      const call =
        stage.calls.find((c) => !c.done && answer.selectionId !== undefined && c.selectionId === answer.selectionId) ??
        stage.calls.find((c) => !c.done && (c.state.model === answer.model || c.state.model === undefined));
      if (call === undefined) return;
      call.done = true;
      const result = e.results[i];
      if (result !== undefined) this.#hooks.succeed(call.state, result);
      else this.#hooks.fail(call.state, e.errors[i] ?? { code: answer.errorCode ?? "_OTHER" });
    });
    for (const call of stage.calls) if (!call.done) this.#hooks.fail(call.state, { code: "_OTHER" });
    let readable = 0;
    let costUsd: number | undefined;
    for (const a of e.answers) {
      if (a.judge) continue;
      if (a.answer !== undefined) readable++;
      if (a.costUsd !== undefined) costUsd = (costUsd ?? 0) + a.costUsd;
    }
    const a: Attributes = {
      "orchestrator.cascade.answers": e.answers.filter((x) => !x.judge).length,
      "orchestrator.cascade.answers.readable": readable,
      "orchestrator.cascade.agreeing": e.agreeing,
      "orchestrator.cascade.decision": e.decision ?? "final",
      "orchestrator.cascade.escalated": e.decision === "escalated",
    };
    if (costUsd !== undefined) a["orchestrator.cost_usd"] = costUsd;
    // The extracted answers are derived from the models' output: recorded only when content is.
    if (this.#hooks.captureContent)
      a["orchestrator.cascade.extracted"] = e.answers
        .filter((x) => !x.judge)
        .map(
          (x) =>
            `${x.model}: ${x.answer === undefined ? "—" : typeof x.answer === "string" ? x.answer : JSON.stringify(x.answer)}`,
        );
    stage.span.setAttributes(a);
    stage.span.end(now());
    cascade.stages.delete(e.stage);
    if (e.decision === "escalated") return;
    // The cascade has its answer: what the call span says about it.
    this.#cascades.delete(e.cascadeId);
    const owner = cascade.owner.span;
    if (owner.isRecording())
      owner.setAttributes({
        "orchestrator.cascade.stages": cascade.ran,
        "orchestrator.cascade.escalated": cascade.ran > 1,
        "orchestrator.cascade.accepted": e.decision === "accepted",
        "orchestrator.cascade.paced": e.decision === "paced",
      });
  }

  #evictOldest(): void {
    const [id, cascade] = this.#cascades.entries().next().value as [string, Cascade<CallState>];
    this.#cascades.delete(id);
    for (const stage of cascade.stages.values()) {
      stage.span.setAttribute("orchestrator.abandoned", true);
      stage.span.end(now());
    }
  }

  clear(): void {
    this.#cascades.clear();
  }
}
