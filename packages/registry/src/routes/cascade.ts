import { type GenerateRequest, OrchestratorError } from "@orchestrator-ts/core";
import type { AcceptRule, CascadePlan, CascadeStage } from "./cascade-route";
import type { CascadeAnswer, CascadeInfo, RegistryResult } from "../types";
import { type CascadeStageReport, stageEnd, stageStart } from "./stage-report";

export type { CascadeAnswer, CascadeInfo };

// A cascade asks cheap models first, compares their extracted answers and escalates to the next
// stage only when they do not agree (FrugalGPT / AutoMix-style routing). This file holds its
// decision (`runCascade`; the route and its settings are in cascade-route.ts), which knows nothing
// of the registry: the live route (registry) and offline replay give it different ways to ask a
// model, and the same code decides.

// ---- the decision ----------------------------------------------------------------------------

/** One model asked, as the host reports it. `text` is `undefined` when the call failed. */
export interface Asked {
  text: string | undefined;
  costUsd: number | undefined;
  latencyMs: number;
  selectionId: string | undefined;
  errorCode?: string;
  error?: unknown;
  /** What the host wants back with the chosen answer (the live route keeps the model's result). */
  payload?: unknown;
}

/** How a cascade asks models: the live registry, or recorded answers in replay. */
export interface CascadeHost {
  /** Ask one stage model. Never rejects: a failure comes back with `text: undefined`. */
  ask(model: string, stage: number): Promise<Asked>;
  /** For a judge's own calls; rejects on failure. Absent in replay (a judge cannot be replayed). */
  judgeAsk?(model: string, request: GenerateRequest | undefined): Promise<{ result: RegistryResult; asked: Asked }>;
  /** In [0, 1): the pacer's coin. */
  random(): number;
  /** When the final stage is one model, hand it back (`streamFinal`) instead of asking it: the caller streams it. */
  streamFinal?: boolean;
  /** Told when each stage starts and what it decided (tracing, dashboards). */
  onStage?(report: CascadeStageReport): void;
}

export interface CascadeOutcome {
  info: CascadeInfo;
  /** The answer whose text is returned (`undefined` with `streamFinal`). */
  chosen: Asked | undefined;
  /** Set when the host asked for `streamFinal` and the cascade escalated to a one-model final stage. */
  streamFinal: string | undefined;
  costUsd: number | undefined;
  /** Every model asked, parallel to `info.answers`. */
  asked: Asked[];
}

interface Group {
  key: unknown;
  members: number[];
}

/** Answers of `indices` grouped by agreement; unreadable ones are left out. */
function groupAnswers(plan: CascadePlan, answers: readonly CascadeAnswer[], indices: readonly number[]): Group[] {
  const groups: Group[] = [];
  for (const i of indices) {
    const a = answers[i] as CascadeAnswer;
    if (a.answer === undefined) continue;
    const key = plan.normalize ? plan.normalize(a.answer) : a.answer;
    let found = false;
    for (const g of groups) {
      if (plan.equals(g.key, key)) {
        g.members.push(i);
        found = true;
        break;
      }
    }
    if (!found) groups.push({ key, members: [i] });
  }
  return groups;
}

function largest(groups: readonly Group[]): Group | undefined {
  let best: Group | undefined;
  for (const g of groups) if (!best || g.members.length > best.members.length) best = g;
  return best;
}

/** For the built-in rules, early in a sequential stage: "accept", "reject", or undecided. */
function decided(
  rule: AcceptRule,
  groups: readonly Group[],
  asked: number,
  size: number,
  anyUnreadable: boolean,
): "accept" | "reject" | undefined {
  if (typeof rule === "function") return undefined;
  if (rule === "unanimous") {
    if (anyUnreadable || groups.length > 1) return "reject";
    return asked === size && groups.length === 1 ? "accept" : undefined;
  }
  const top = largest(groups)?.members.length ?? 0;
  if (top >= rule.atLeast) return "accept";
  if (top + (size - asked) < rule.atLeast) return "reject";
  return undefined;
}

function preferred(plan: CascadePlan, answers: readonly CascadeAnswer[], members: readonly number[]): number {
  let best = members[0] as number;
  if (plan.prefer === "first") return best;
  for (const i of members) {
    const a = answers[i] as CascadeAnswer;
    const b = answers[best] as CascadeAnswer;
    if (
      plan.prefer === "fastest"
        ? a.latencyMs < b.latencyMs
        : (a.costUsd ?? Number.POSITIVE_INFINITY) < (b.costUsd ?? Number.POSITIVE_INFINITY)
    )
      best = i;
  }
  return best;
}

/**
 * When the final stage failed: the best answer of the stages before it — the largest agreeing
 * group's preferred answer, else any model's text that could not be read — or `undefined` when
 * every model failed.
 */
export function earlierBest(
  plan: CascadePlan,
  answers: readonly CascadeAnswer[],
): { index: number; answer: unknown } | undefined {
  const all = groupAnswers(
    plan,
    answers,
    answers.map((_, i) => i).filter((i) => !(answers[i] as CascadeAnswer).judge),
  );
  const top = largest(all);
  if (top)
    return {
      index: preferred(plan, answers, top.members),
      answer: (answers[top.members[0] as number] as CascadeAnswer).answer,
    };
  const anyOk = answers.findIndex((a) => a.ok && !a.judge);
  return anyOk >= 0 ? { index: anyOk, answer: undefined } : undefined;
}

/** A cascade had no answer to return: every model asked failed. */
export class CascadeFailedError extends OrchestratorError {
  static override readonly errorName: string = "CascadeFailedError";
  override readonly code: string = "cascade_failed";
  readonly route: string;
  constructor(route: string, answers: readonly CascadeAnswer[], cause: unknown) {
    const list = answers.map((a) => `${a.model}: ${a.errorCode ?? "failed"}`).join(", ");
    super(`Cascade route "${route}": no model answered (${list || "no model was asked"}).`, { cause });
    this.route = route;
  }
}

/**
 * Run one request through a cascade plan: each stage asks its models, the rule accepts or
 * rejects, a rejection escalates (paced by the budget when there is one). The host says how a
 * model is asked; this decides. Resolves with what to return; rejects only when no model of any
 * stage produced an answer.
 */
export async function runCascade(
  route: string,
  plan: CascadePlan,
  request: GenerateRequest,
  host: CascadeHost,
): Promise<CascadeOutcome> {
  const answers: CascadeAnswer[] = [];
  const asked: Asked[] = [];
  const texts: (string | undefined)[] = [];
  const stagesRun: number[] = [];
  const last = plan.stages.length - 1;
  let paced = false;
  let lastError: unknown;
  const record = (stage: number, model: string, a: Asked, judge: boolean): number => {
    const ok = a.text !== undefined;
    let answer: unknown;
    if (ok && !judge) {
      try {
        answer = plan.extract(a.text as string);
      } catch {
        // A throwing extractor reads nothing: the answer counts as unreadable.
        answer = undefined;
      }
    }
    if (!ok) lastError = a.error;
    const entry: CascadeAnswer = {
      stage,
      model,
      answer,
      ok,
      costUsd: a.costUsd,
      latencyMs: a.latencyMs,
      selectionId: a.selectionId,
    };
    if (a.errorCode !== undefined) entry.errorCode = a.errorCode;
    if (judge) entry.judge = true;
    answers.push(entry);
    asked.push(a);
    texts.push(a.text);
    return answers.length - 1;
  };
  const finish = (
    chosen: number | undefined,
    accepted: boolean,
    answer: unknown,
    streamFinal?: string,
  ): CascadeOutcome => {
    let cost: number | undefined;
    for (const a of answers) if (a.costUsd !== undefined) cost = (cost ?? 0) + a.costUsd;
    const info: CascadeInfo = {
      route,
      stages: stagesRun,
      answers,
      escalated: stagesRun.length > 1,
      accepted,
      paced,
      answer,
    };
    // A streamed final stage is settled by the caller once its cost is known.
    if (streamFinal === undefined) plan.settle(cost ?? 0);
    return { info, chosen: chosen === undefined ? undefined : asked[chosen], streamFinal, costUsd: cost, asked };
  };

  const onStage = host.onStage;
  for (let s = 0; s <= last; s++) {
    const stage = plan.stages[s] as CascadeStage;
    stagesRun.push(s);
    if (onStage) onStage(stageStart(s, s === last, stage));
    if (s === last && host.streamFinal && stage.models.length === 1)
      return finish(undefined, false, undefined, stage.models[0]);
    const first = answers.length;
    const size = stage.models.length;
    const mine: number[] = [];
    if (stage.parallel && size > 1) {
      const got = await Promise.all(stage.models.map((m) => host.ask(m, s)));
      for (let i = 0; i < got.length; i++) mine.push(record(s, stage.models[i] as string, got[i] as Asked, false));
    } else {
      let anyUnreadable = false;
      for (const m of stage.models) {
        const i = record(s, m, await host.ask(m, s), false);
        mine.push(i);
        if ((answers[i] as CascadeAnswer).answer === undefined) anyUnreadable = true;
        // Stop asking once the rule is decided (never for the final stage's plurality, which needs every answer).
        if (
          s < last &&
          decided(plan.accept, groupAnswers(plan, answers, mine), mine.length, size, anyUnreadable) !== undefined
        )
          break;
      }
    }
    const groups = groupAnswers(plan, answers, mine);
    const top = largest(groups);
    let accept: boolean;
    let chosen: number | undefined;
    const rule = plan.accept;
    if (typeof rule === "function") {
      const verdict = await rule({
        route,
        stage: s,
        final: s === last,
        request,
        answers: mine.map((i) => answers[i] as CascadeAnswer),
        texts: mine.map((i) => texts[i]),
        ask: async (model, req) => {
          if (!host.judgeAsk)
            throw new OrchestratorError(
              `Cascade route "${route}": a judge cannot call models here (offline replay has no recorded answer for it).`,
            );
          const { result, asked: a } = await host.judgeAsk(model, req);
          record(s, model, a, true);
          return result;
        },
      });
      accept = verdict === true || (typeof verdict === "object" && verdict !== null && verdict.accept === true);
      const index = typeof verdict === "object" && verdict !== null ? verdict.index : undefined;
      if (
        accept &&
        typeof index === "number" &&
        Number.isInteger(index) &&
        index >= 0 &&
        index < mine.length &&
        (answers[mine[index] as number] as CascadeAnswer).ok
      )
        chosen = mine[index];
      else if (accept)
        chosen = top ? preferred(plan, answers, top.members) : mine.find((i) => (answers[i] as CascadeAnswer).ok);
      if (accept && chosen === undefined) accept = false;
    } else {
      accept =
        decided(
          rule,
          groups,
          mine.length,
          size,
          mine.some((i) => (answers[i] as CascadeAnswer).answer === undefined),
        ) === "accept";
      if (accept && top) chosen = preferred(plan, answers, top.members);
    }
    // What this stage ran cost: the expected price of escalating to it next time.
    let stageCost = 0;
    for (let i = first; i < answers.length; i++) stageCost += (answers[i] as CascadeAnswer).costUsd ?? 0;
    plan.stageRuns[s] = (plan.stageRuns[s] as number) + 1;
    plan.stageCost[s] =
      (plan.stageCost[s] as number) + (stageCost - (plan.stageCost[s] as number)) / (plan.stageRuns[s] as number);

    const agreeing = top?.members.length ?? 0;
    if (accept && chosen !== undefined) {
      if (onStage) onStage(stageEnd(s, s === last, stage, answers, asked, first, agreeing, "accepted"));
      return finish(chosen, true, (answers[chosen] as CascadeAnswer).answer);
    }
    const best = top ? preferred(plan, answers, top.members) : mine.find((i) => (answers[i] as CascadeAnswer).ok);
    if (s === last) {
      if (onStage) onStage(stageEnd(s, true, stage, answers, asked, first, agreeing, "final"));
      if (best !== undefined) return finish(best, false, (answers[best] as CascadeAnswer).answer);
      // The final stage failed: the best earlier answer, if any, rather than nothing.
      const earlier = earlierBest(plan, answers);
      if (earlier) {
        const out = finish(earlier.index, false, earlier.answer);
        out.info.fallback = true;
        return out;
      }
      throw new CascadeFailedError(route, answers, lastError);
    }
    // Not accepted: escalate, unless the budget says this disagreement is not worth the next stage's price.
    if (best !== undefined && plan.pacer) {
      const next = plan.stageRuns[s + 1] as number;
      const expected = next > 0 ? (plan.stageCost[s + 1] as number) : 0;
      // How far from agreement the stage was: 1 − (largest agreeing share); a judge's rejection counts fully.
      const doubt = typeof rule === "function" ? 1 : 1 - (top?.members.length ?? 0) / size;
      const price = plan.pacer.lambda * expected;
      let spent = 0;
      for (const a of answers) spent += a.costUsd ?? 0;
      // The account: an escalation the budget has no room for is declined whatever the price
      // (the price alone lets the mean overshoot while it is still finding its level).
      if (spent + expected > plan.pacer.headroomUsd || (price > 0 && host.random() >= Math.min(1, doubt / price))) {
        paced = true;
        if (onStage) onStage(stageEnd(s, false, stage, answers, asked, first, agreeing, "paced"));
        return finish(best, false, (answers[best] as CascadeAnswer).answer);
      }
    }
    if (onStage) onStage(stageEnd(s, false, stage, answers, asked, first, agreeing, "escalated"));
  }
  // Unreachable: the final stage returns above.
  throw new CascadeFailedError(route, answers, lastError);
}
