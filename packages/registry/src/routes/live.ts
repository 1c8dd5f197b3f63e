import { type GenerateRequest, OrchestratorError, type Usage } from "@orchestrator-ts/core";
import { toOrchestratorError } from "@orchestrator-ts/core/internal";
import type { CallOptions } from "../call-state";
import type { AttemptRecord, RegistryResult, RegistryStream, RegistryStreamChunk } from "../types";
import {
  type Asked,
  type CascadeAnswer,
  type CascadeHost,
  type CascadeInfo,
  type CascadeOutcome,
  runCascade,
} from "./cascade";
import type { CascadePlan, CascadeRoute } from "./cascade-route";

// A cascade route on the live registry: each stage model is one pinned registry call (retries on
// the same model, no fallback to another: a failure counts as disagreement), so every model
// asked is paid and recorded like any call (stats store, health, events, selector).

/** What the live cascade needs of its registry. */
export interface CascadeRunner {
  /** One pinned registry call; its attempts (also failed ones) are appended to `attempts`. */
  call(request: GenerateRequest, options: CallOptions, attempts: AttemptRecord[]): Promise<RegistryResult>;
  stream(request: GenerateRequest, options: CallOptions): RegistryStream;
  random(): number;
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

function host(
  runner: CascadeRunner,
  request: GenerateRequest,
  attempts: AttemptRecord[],
  streamFinal: boolean,
): CascadeHost {
  const ask = async (
    model: string,
    req: GenerateRequest,
  ): Promise<{ result: RegistryResult | undefined; asked: Asked }> => {
    const started = performance.now();
    try {
      const result = await runner.call(req, stageCall(model), attempts);
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
  return {
    ask: async (model) => (await ask(model, request)).asked,
    judgeAsk: async (model, req) => {
      const { result, asked } = await ask(model, req ?? request);
      if (!result) throw asked.error;
      return { result, asked };
    },
    random: runner.random,
    streamFinal,
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
  return {
    ...chosen,
    usage: sumUsage(outcome.asked),
    costUsd: outcome.costUsd,
    latencyMs: performance.now() - startedAt,
    selectionId: id,
    attempts,
    cascade: outcome.info,
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
  const outcome = await runCascade(route.name, plan, request, host(runner, request, attempts, false));
  return resultOf(route, plan, outcome, attempts, startedAt);
}

/**
 * `registry.stream({ ...request, route })` for a cascade route. A cascade cannot stream before it
 * has decided: the earlier stages run to completion first. When it escalates to a final stage of
 * one model, that model's answer streams live; otherwise the accepted answer is replayed as a stream.
 */
export function streamCascade(runner: CascadeRunner, route: CascadeRoute, request: GenerateRequest): RegistryStream {
  const attempts: AttemptRecord[] = [];
  let selectionId: string | undefined;
  let cascade: CascadeInfo | undefined;
  let live: RegistryStream | undefined;
  let started = false;
  async function* run(): AsyncGenerator<RegistryStreamChunk> {
    const startedAt = performance.now();
    const plan = route.planFor(request.task);
    const outcome = await runCascade(route.name, plan, request, host(runner, request, attempts, true));
    if (outcome.streamFinal === undefined) {
      const result = resultOf(route, plan, outcome, attempts, startedAt);
      selectionId = result.selectionId;
      cascade = result.cascade;
      if (result.text.length > 0) yield { type: "text", text: result.text };
      for (const toolCall of result.toolCalls) yield { type: "tool-call", toolCall };
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
      };
      return;
    }
    // Escalated to a one-model final stage: stream it, then record its answer like the others'.
    const model = outcome.streamFinal;
    const stage = outcome.info.stages[outcome.info.stages.length - 1] as number;
    const inner = runner.stream(request, stageCall(model));
    live = inner;
    let text = "";
    let finish: Extract<RegistryStreamChunk, { type: "finish" }> | undefined;
    const streamStarted = performance.now();
    try {
      for await (const chunk of inner) {
        if (chunk.type === "finish") {
          finish = chunk;
          break;
        }
        if (chunk.type === "text") text += chunk.text;
        yield chunk;
      }
    } catch (thrown) {
      attempts.push(...inner.attempts);
      const error = toOrchestratorError(thrown, { model });
      outcome.info.answers.push({
        stage,
        model,
        answer: undefined,
        ok: false,
        costUsd: undefined,
        latencyMs: performance.now() - streamStarted,
        selectionId: inner.selectionId,
        errorCode: error.code,
      });
      plan.settle(outcome.costUsd ?? 0);
      throw error;
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
    const costUsd = own.costUsd === undefined ? outcome.costUsd : (outcome.costUsd ?? 0) + own.costUsd;
    plan.settle(costUsd ?? 0);
    const id = cascadeId(outcome.info, plan);
    selectionId = id;
    cascade = outcome.info;
    const usage = sumUsage(outcome.asked);
    addUsage(usage, finish?.usage);
    yield {
      ...(finish ?? { type: "finish" }),
      usage,
      costUsd,
      latencyMs: performance.now() - startedAt,
      selectionId: id,
      attempts,
      cascade: outcome.info,
    };
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
    [Symbol.asyncIterator]: () => {
      if (started) throw new TypeError("A registry stream can be iterated only once.");
      started = true;
      return run();
    },
  };
}
