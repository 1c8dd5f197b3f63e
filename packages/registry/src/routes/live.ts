import { type GenerateRequest, OrchestratorError, type Usage, answerChunks } from "@orchestrator-ts/core";
import { toOrchestratorError, withFields } from "@orchestrator-ts/core/internal";
import type { CallOptions } from "../call-state";
import { FINISH, NO_WARNINGS } from "../registry-stream";
import type { Emitter, RegistryEvents } from "../events";
import type { AttemptRecord, RegistryResult, RegistryStream, RegistryStreamChunk } from "../types";
import {
  type Asked,
  type CascadeAnswer,
  type CascadeHost,
  type CascadeInfo,
  type CascadeOutcome,
  CascadeFailedError,
  earlierBest,
  runCascade,
} from "./cascade";
import type { CascadePlan, CascadeRoute } from "./cascade-route";
import type { CascadeStageReport } from "./stage-report";

// A cascade route on the live registry: each stage model is one pinned registry call (retries on
// the same model, no fallback to another: a failure counts as disagreement), so every model
// asked is paid and recorded like any call (stats store, health, events, selector).

/** What the live cascade needs of its registry. */
export interface CascadeRunner {
  /** One pinned registry call; its attempts (also failed ones) are appended to `attempts`. */
  call(request: GenerateRequest, options: CallOptions, attempts: AttemptRecord[]): Promise<RegistryResult>;
  stream(request: GenerateRequest, options: CallOptions): RegistryStream;
  random(): number;
  /** The registry's events: a cascade reports its stages while someone listens to `cascade`. */
  events: Emitter<RegistryEvents>;
}

/** The prefix of a cascade result's `selectionId`. */
export const CASCADE_ID_PREFIX = "cascade:";

/**
 * A cascade result's id names its stage calls, so `recordFeedback` can credit them without the
 * registry keeping a record per cascade (retaining one per request measurably cost CPU in GC):
 * `cascade:<ids that agreed with the answer>|<ids that answered otherwise>`.
 */
function cascadeId(info: CascadeInfo, plan: CascadePlan): string {
  let agreed = "";
  let differed = "";
  const key = info.answer === undefined ? undefined : plan.normalize ? plan.normalize(info.answer) : info.answer;
  for (const a of info.answers) {
    if (a.judge || !a.ok || a.selectionId === undefined) continue;
    const same =
      key !== undefined &&
      a.answer !== undefined &&
      plan.equals(plan.normalize ? plan.normalize(a.answer) : a.answer, key);
    if (same) agreed = agreed ? `${agreed},${a.selectionId}` : a.selectionId;
    else differed = differed ? `${differed},${a.selectionId}` : a.selectionId;
  }
  return `${CASCADE_ID_PREFIX}${agreed}|${differed}`;
}

/** The stage calls a cascade id names; `undefined` when it is not one. */
export function parseCascadeId(id: string): { agreed: string[]; differed: string[] } | undefined {
  if (!id.startsWith(CASCADE_ID_PREFIX) || id.length > 16_384) return undefined;
  const bar = id.indexOf("|", CASCADE_ID_PREFIX.length);
  if (bar < 0) return undefined;
  const list = (text: string) => (text === "" ? [] : text.split(","));
  return { agreed: list(id.slice(CASCADE_ID_PREFIX.length, bar)), differed: list(id.slice(bar + 1)) };
}

// One options object per stage model, reused by every request (a stage call never falls back to another model).
const stageCalls = new Map<string, CallOptions>();
function stageCall(model: string): CallOptions {
  let options = stageCalls.get(model);
  if (options === undefined) {
    options = Object.freeze({ pin: model, pinFallbacks: false });
    if (stageCalls.size < 10_000) stageCalls.set(model, options);
  }
  return options;
}

let cascadeCounter = 0;

/** A cascade's host on the live registry; `options(model, stage)` are the stage call's options. */
interface LiveHost extends CascadeHost {
  options(model: string, stage: number): CallOptions;
}

function host(
  runner: CascadeRunner,
  route: string,
  request: GenerateRequest,
  attempts: AttemptRecord[],
  streamFinal: boolean,
): LiveHost {
  const events = runner.events;
  // Stage reports and tagged stage calls only while someone listens: otherwise the path is as before.
  const cascadeId = events.has("cascade") ? `cascade_${(++cascadeCounter).toString(36)}` : undefined;
  let current = 0;
  const options = (model: string, stage: number): CallOptions =>
    cascadeId === undefined ? stageCall(model) : { pin: model, pinFallbacks: false, cascade: { cascadeId, stage } };
  const ask = async (
    model: string,
    req: GenerateRequest,
    stage: number,
  ): Promise<{ result: RegistryResult | undefined; asked: Asked }> => {
    const started = performance.now();
    try {
      const result = await runner.call(req, options(model, stage), attempts);
      return {
        result,
        asked: {
          text: result.text,
          costUsd: result.costUsd,
          latencyMs: result.latencyMs,
          selectionId: result.selectionId,
          payload: result,
        },
      };
    } catch (thrown) {
      const error = toOrchestratorError(thrown, { model });
      return {
        result: undefined,
        asked: {
          text: undefined,
          costUsd: undefined,
          latencyMs: performance.now() - started,
          selectionId: undefined,
          errorCode: error.code,
          error,
        },
      };
    }
  };
  const onStage =
    cascadeId === undefined
      ? undefined
      : (report: CascadeStageReport): void => {
          current = report.stage;
          events.emit("cascade", withFields(report, { cascadeId, route }));
        };
  return {
    ask: async (model, stage) => (await ask(model, request, stage)).asked,
    judgeAsk: async (model, req) => {
      const { result, asked } = await ask(model, req ?? request, current);
      if (!result) throw asked.error;
      return { result, asked };
    },
    random: runner.random,
    streamFinal,
    options,
    ...(onStage ? { onStage } : {}),
  };
}

function sumUsage(answers: readonly Asked[]): Usage {
  const usage: Usage = {};
  for (const a of answers) addUsage(usage, (a.payload as RegistryResult | undefined)?.usage);
  return usage;
}

const USAGE_COUNTS = ["inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens"] as const;

/** Adds the counts `u` knows to `into`; a count no stage reported stays undefined. */
function addUsage(into: Usage, u: Usage | undefined): void {
  if (!u) return;
  for (const k of USAGE_COUNTS) {
    const v = u[k];
    if (v !== undefined) into[k] = (into[k] ?? 0) + v;
  }
}

function resultOf(
  route: CascadeRoute,
  plan: CascadePlan,
  outcome: CascadeOutcome,
  attempts: AttemptRecord[],
  startedAt: number,
): RegistryResult {
  const chosen = outcome.chosen?.payload as RegistryResult | undefined;
  if (!chosen) throw new OrchestratorError(`Cascade route "${route.name}" chose no answer.`);
  const id = cascadeId(outcome.info, plan);
  return withFields(chosen, {
    usage: sumUsage(outcome.asked),
    costUsd: outcome.costUsd,
    latencyMs: performance.now() - startedAt,
    selectionId: id,
    attempts,
    cascade: outcome.info,
  });
}

/** The end report of a streamed one-model final stage. */
function finalReport(
  stage: number,
  model: string,
  answer: CascadeAnswer,
  result: RegistryResult | undefined,
  error: OrchestratorError | undefined,
): CascadeStageReport {
  return {
    phase: "end",
    stage,
    final: true,
    models: [model],
    parallel: false,
    answers: [answer],
    results: [result],
    errors: [error],
    agreeing: answer.answer === undefined ? 0 : 1,
    decision: "final",
  };
}

/** `registry.generate({ ...request, route })` for a cascade route. */
export async function generateCascade(
  runner: CascadeRunner,
  route: CascadeRoute,
  request: GenerateRequest,
): Promise<RegistryResult> {
  const startedAt = performance.now();
  const attempts: AttemptRecord[] = [];
  const plan = route.planFor(request.task);
  const outcome = await runCascade(route.name, plan, request, host(runner, route.name, request, attempts, false));
  return resultOf(route, plan, outcome, attempts, startedAt);
}

/**
 * `registry.stream({ ...request, route })` for a cascade route. A cascade cannot stream before it
 * has decided: the earlier stages run to completion first. When it escalates to a final stage of
 * one model, that model's answer streams live; otherwise the accepted answer is replayed as a stream.
 * A final model that fails before its first chunk falls back to the earlier stages' best answer,
 * replayed (`cascade.fallback`); with none, the stream rejects with `CascadeFailedError`.
 */
export function streamCascade(runner: CascadeRunner, route: CascadeRoute, request: GenerateRequest): RegistryStream {
  const attempts: AttemptRecord[] = [];
  let selectionId: string | undefined;
  let cascade: CascadeInfo | undefined;
  let live: RegistryStream | undefined;
  // A replayed answer's warnings (a live final stage's are its stream's).
  let replayed: readonly string[] | undefined;
  let started = false;
  /** A decided answer, replayed as a stream in the model's order (`answerChunks`), then `finish`. */
  function* replay(plan: CascadePlan, outcome: CascadeOutcome, startedAt: number): Generator<RegistryStreamChunk> {
    const result = resultOf(route, plan, outcome, attempts, startedAt);
    selectionId = result.selectionId;
    cascade = result.cascade;
    replayed = result.warnings;
    yield* answerChunks(result);
    yield {
      type: "finish",
      finishReason: result.finishReason,
      usage: result.usage,
      costUsd: result.costUsd,
      latencyMs: result.latencyMs,
      model: result.model,
      cached: false,
      selectionId: result.selectionId,
      attempts,
      cascade: result.cascade,
      ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
    };
  }
  async function* run(): AsyncGenerator<RegistryStreamChunk> {
    const startedAt = performance.now();
    const plan = route.planFor(request.task);
    const h = host(runner, route.name, request, attempts, true);
    const outcome = await runCascade(route.name, plan, request, h);
    if (outcome.streamFinal === undefined) {
      yield* replay(plan, outcome, startedAt);
      return;
    }
    // Escalated to a one-model final stage: stream it, then record its answer like the others'.
    const model = outcome.streamFinal;
    const stage = outcome.info.stages[outcome.info.stages.length - 1] as number;
    const inner = runner.stream(request, h.options(model, stage));
    live = inner;
    let text = "";
    let finish: Extract<RegistryStreamChunk, { type: "finish" }> | undefined;
    const streamStarted = performance.now();
    let yielded = false;
    try {
      for await (const chunk of inner) {
        if (chunk.type === "finish") {
          finish = chunk;
          break;
        }
        if (chunk.type === "text") text += chunk.text;
        yielded = true;
        yield chunk;
      }
    } catch (thrown) {
      attempts.push(...inner.attempts);
      const error = toOrchestratorError(thrown, { model });
      const failed: CascadeAnswer = {
        stage,
        model,
        answer: undefined,
        ok: false,
        costUsd: undefined,
        latencyMs: performance.now() - streamStarted,
        selectionId: inner.selectionId,
        errorCode: error.code,
      };
      plan.settle(outcome.costUsd ?? 0);
      h.onStage?.(finalReport(stage, model, failed, undefined, error));
      // Text already sent cannot be taken back: a stream cut after its first chunk fails as it is.
      if (yielded) {
        outcome.info.answers.push(failed);
        throw error;
      }
      // Nothing sent yet: the final stage failed like a generate() call's would, and falls back the same way.
      const earlier = earlierBest(plan, outcome.info.answers);
      outcome.info.answers.push(failed);
      if (!earlier) throw new CascadeFailedError(route.name, outcome.info.answers, error);
      outcome.info.answer = earlier.answer;
      outcome.info.fallback = true;
      yield* replay(
        plan,
        withFields(outcome, { chosen: outcome.asked[earlier.index], streamFinal: undefined }),
        startedAt,
      );
      return;
    }
    attempts.push(...inner.attempts);
    let answer: unknown;
    try {
      answer = plan.extract(text);
    } catch {
      answer = undefined;
    }
    const own: CascadeAnswer = {
      stage,
      model,
      answer,
      ok: true,
      costUsd: finish?.costUsd,
      latencyMs: finish?.latencyMs ?? performance.now() - streamStarted,
      selectionId: inner.selectionId,
    };
    outcome.info.answers.push(own);
    outcome.info.answer = answer;
    if (h.onStage) {
      const streamed = {
        text,
        toolCalls: [],
        usage: finish?.usage ?? {},
        costUsd: finish?.costUsd,
        finishReason: finish?.finishReason,
        latencyMs: own.latencyMs,
        model: finish?.model ?? model,
        cached: finish?.cached === true,
        responseId: finish?.responseId,
        selectionId: inner.selectionId,
        explanation: inner.explanation,
        attempts: inner.attempts,
        warnings: inner.warnings,
      } as unknown as RegistryResult;
      h.onStage(finalReport(stage, model, own, streamed, undefined));
    }
    const costUsd = own.costUsd === undefined ? outcome.costUsd : (outcome.costUsd ?? 0) + own.costUsd;
    plan.settle(costUsd ?? 0);
    const id = cascadeId(outcome.info, plan);
    selectionId = id;
    cascade = outcome.info;
    const usage = sumUsage(outcome.asked);
    addUsage(usage, finish?.usage);
    yield withFields(finish ?? FINISH, {
      usage,
      costUsd,
      latencyMs: performance.now() - startedAt,
      selectionId: id,
      attempts,
      cascade: outcome.info,
    });
  }
  return {
    get selectionId() {
      return selectionId;
    },
    get explanation() {
      return live?.explanation;
    },
    get attempts() {
      return attempts;
    },
    get cascade() {
      return cascade;
    },
    get warnings() {
      return replayed ?? live?.warnings ?? NO_WARNINGS;
    },
    [Symbol.asyncIterator]: () => {
      if (started) throw new TypeError("A registry stream can be iterated only once.");
      started = true;
      return run();
    },
  };
}
