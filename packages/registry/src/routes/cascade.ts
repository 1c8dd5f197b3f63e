import { ConfigError, type ConfigIssue, type GenerateRequest, OrchestratorError } from "@orchestrator-ts/core";
import { BudgetPacer } from "../contextual/pacing";
import type { CascadeAnswer, CascadeInfo, RegistryResult } from "../types";

export type { CascadeAnswer, CascadeInfo };
import type { Extractor } from "./extractors";
import { type CascadeStageReport, stageEnd, stageStart } from "./stage-report";

// A cascade asks cheap models first, compares their extracted answers and escalates to the next
// stage only when they do not agree (FrugalGPT / AutoMix-style routing). This file holds the
// route's settings and its decision (`runCascade`), which knows nothing of the registry: the live
// route (registry) and offline replay give it different ways to ask a model, and the same code decides.

/** One stage: its models are asked one after another (stopping once the rule is decided) or all at once. */
export interface CascadeStage {
  models: readonly string[];
  /** Ask every model at once (latency of the slowest) instead of in order (may stop early, paying less). Default false. */
  parallel?: boolean;
}

export interface JudgeContext {
  route: string;
  stage: number;
  /** This is the last stage. */
  final: boolean;
  request: GenerateRequest;
  /** This stage's answers, in stage order. */
  answers: readonly CascadeAnswer[];
  /** This stage's answer texts, parallel to `answers` (`undefined` for a failed model). */
  texts: readonly (string | undefined)[];
  /** Ask a registered model (paid and recorded like every call); rejects when it fails. */
  ask(model: string, request?: GenerateRequest): Promise<RegistryResult>;
}

/** A judge's verdict: accept or not and, when accepting, which answer (an index into `answers`). */
export type JudgeVerdict = boolean | { accept: boolean; index?: number };
export type CascadeJudge = (context: JudgeContext) => JudgeVerdict | Promise<JudgeVerdict>;

/** `"unanimous"`: every model of the stage gave the same readable answer; `{ atLeast: k }`: k of them did; or a judge. */
export type AcceptRule = "unanimous" | { atLeast: number } | CascadeJudge;

/** Which of the agreeing answers' texts to return. */
export type PreferRule = "first" | "fastest" | "cheapest";

export interface CascadeSettings {
  stages: readonly CascadeStage[];
  /** Reads the answer out of a model's text; `undefined` (unreadable) counts as disagreement. See `extractors`. */
  extract: Extractor;
  /** Maps an answer to what is compared (`(a) => String(a).toLowerCase()`). Default: the answer itself. */
  normalize?: (answer: unknown) => unknown;
  /** Whether two normalised answers agree. Default: `===`, and equal JSON for objects. */
  equals?: (a: unknown, b: unknown) => boolean;
  /** Default `"unanimous"`. */
  accept?: AcceptRule;
  /** Default `"first"` (stage order). */
  prefer?: PreferRule;
  /** Mean USD per request to hold: escalations are paced (by the contextual selector's `BudgetPacer`) so the running mean stays at or under it. */
  budgetPerRequest?: number;
  /** Step of the pacer's update. Default 0.05. */
  pacingRate?: number;
}

export interface CascadeRouteOptions extends CascadeSettings {
  name: string;
  description?: string;
  /**
   * Per-task settings, by `request.task`: each key replaces the route's own for requests of that
   * task. The route's budget is one mean over all its requests, whatever their task; a task that
   * sets its own `budgetPerRequest` is paced on its own instead.
   */
  tasks?: Readonly<Record<string, Partial<CascadeSettings>>>;
}

/** One resolved set of settings (the route's, or a task's) with its own pacing state. */
export class CascadePlan {
  readonly stages: readonly CascadeStage[];
  readonly extract: Extractor;
  readonly normalize: ((answer: unknown) => unknown) | undefined;
  readonly equals: (a: unknown, b: unknown) => boolean;
  readonly accept: AcceptRule;
  readonly prefer: PreferRule;
  readonly pacer: BudgetPacer | undefined;
  /** Running mean USD of each stage when it runs: what an escalation to it is expected to cost. */
  readonly stageCost: Float64Array;
  readonly stageRuns: Float64Array;

  /** `pacer`: the route's, shared by a task that has no budget of its own (one budget, one account). */
  constructor(s: CascadeSettings, pacer?: BudgetPacer) {
    this.stages = s.stages.map((st) =>
      Object.freeze({ models: Object.freeze([...st.models]), parallel: st.parallel === true }),
    );
    this.extract = s.extract;
    this.normalize = s.normalize;
    this.equals = s.equals ?? defaultEquals;
    this.accept = s.accept ?? "unanimous";
    this.prefer = s.prefer ?? "first";
    this.pacer =
      pacer ??
      (s.budgetPerRequest !== undefined
        ? new BudgetPacer({
            budgetPerRequest: s.budgetPerRequest,
            ...(s.pacingRate !== undefined ? { rate: s.pacingRate } : {}),
          })
        : undefined);
    this.stageCost = new Float64Array(this.stages.length);
    this.stageRuns = new Float64Array(this.stages.length);
  }

  /** A request of this plan is over: its total cost paces the escalation rate. */
  settle(costUsd: number): void {
    this.pacer?.observe(costUsd);
  }
}

function defaultEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null)
    return JSON.stringify(a) === JSON.stringify(b);
  return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
}

function checkSettings(issues: ConfigIssue[], at: string, s: Partial<CascadeSettings>, partial: boolean): void {
  const p = (key: string) => (at ? `${at}.${key}` : key);
  if (s.stages !== undefined || !partial) {
    if (!Array.isArray(s.stages) || s.stages.length === 0)
      issues.push({
        path: p("stages"),
        message: `must be a non-empty list of { models, parallel? }, got ${JSON.stringify(s.stages)}`,
      });
    else
      s.stages.forEach((st, i) => {
        if (
          !st ||
          typeof st !== "object" ||
          !Array.isArray(st.models) ||
          st.models.length === 0 ||
          !st.models.every((m: unknown) => typeof m === "string" && m.length > 0)
        ) {
          issues.push({
            path: p(`stages[${i}].models`),
            message: `must be a non-empty list of model names, got ${JSON.stringify(st?.models)}`,
          });
        } else if (new Set(st.models).size !== st.models.length)
          issues.push({ path: p(`stages[${i}].models`), message: `lists a model twice: ${st.models.join(", ")}` });
        if (st && st.parallel !== undefined && typeof st.parallel !== "boolean")
          issues.push({
            path: p(`stages[${i}].parallel`),
            message: `must be true or false, got ${JSON.stringify(st.parallel)}`,
          });
      });
  }
  if ((s.extract !== undefined || !partial) && typeof s.extract !== "function")
    issues.push({
      path: p("extract"),
      message: "must be a function (text) => answer | undefined, e.g. extractors.choiceLetter",
    });
  if (s.normalize !== undefined && typeof s.normalize !== "function")
    issues.push({ path: p("normalize"), message: "must be a function (answer) => comparable value" });
  if (s.equals !== undefined && typeof s.equals !== "function")
    issues.push({ path: p("equals"), message: "must be a function (a, b) => boolean" });
  const a = s.accept;
  if (a !== undefined && a !== "unanimous" && typeof a !== "function") {
    const k = (a as { atLeast?: unknown })?.atLeast;
    if (typeof a !== "object" || a === null || typeof k !== "number" || !Number.isInteger(k) || k < 1)
      issues.push({
        path: p("accept"),
        message: `must be "unanimous", { atLeast: k } (k a positive integer) or a judge function, got ${JSON.stringify(a)}`,
      });
    else if (Array.isArray(s.stages))
      s.stages.forEach((st, i) => {
        // The final stage may be smaller than k: its answer is returned anyway.
        if (i < (s.stages?.length ?? 0) - 1 && Array.isArray(st?.models) && st.models.length < k)
          issues.push({
            path: p(`stages[${i}].models`),
            message: `has ${st.models.length} model(s), fewer than accept.atLeast = ${k}: it could never accept`,
          });
      });
  }
  if (s.prefer !== undefined && s.prefer !== "first" && s.prefer !== "fastest" && s.prefer !== "cheapest")
    issues.push({
      path: p("prefer"),
      message: `must be "first", "fastest" or "cheapest", got ${JSON.stringify(s.prefer)}`,
    });
  if (
    s.budgetPerRequest !== undefined &&
    !(typeof s.budgetPerRequest === "number" && Number.isFinite(s.budgetPerRequest) && s.budgetPerRequest > 0)
  )
    issues.push({
      path: p("budgetPerRequest"),
      message: `must be a positive USD amount, got ${JSON.stringify(s.budgetPerRequest)}`,
    });
  if (s.pacingRate !== undefined && !(typeof s.pacingRate === "number" && s.pacingRate > 0 && s.pacingRate <= 1))
    issues.push({ path: p("pacingRate"), message: `must be in (0, 1], got ${JSON.stringify(s.pacingRate)}` });
}

/**
 * A route that asks its stages' models in turn and returns an answer they agree on: stage 1's
 * cheap models first; only when the acceptance rule rejects their answers (they differ, one
 * cannot be read, one failed) does the next stage run. Every model asked is paid and recorded.
 *
 * ```ts
 * registry.addRoute(new CascadeRoute({ name: "mcq", stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }], extract: extractors.choiceLetter }));
 * await registry.generate({ ...request, route: "mcq" });
 * ```
 */
export class CascadeRoute {
  readonly type = "cascade" as const;
  readonly name: string;
  readonly description: string | undefined;
  readonly plan: CascadePlan;
  readonly #tasks: ReadonlyMap<string, CascadePlan>;

  constructor(options: CascadeRouteOptions) {
    if (!options || typeof options !== "object")
      throw new ConfigError([{ path: "", message: "CascadeRoute expects { name, stages, extract, accept? }" }], {
        title: "Invalid cascade route",
      });
    const issues: ConfigIssue[] = [];
    if (typeof options.name !== "string" || options.name.trim() === "")
      issues.push({ path: "name", message: `must be a non-empty string, got ${JSON.stringify(options.name)}` });
    checkSettings(issues, "", options, false);
    const tasks: [string, Partial<CascadeSettings>][] = [];
    if (options.tasks !== undefined) {
      if (typeof options.tasks !== "object" || options.tasks === null || Array.isArray(options.tasks))
        issues.push({ path: "tasks", message: "must map task names to settings" });
      else
        for (const [task, own] of Object.entries(options.tasks)) {
          checkSettings(issues, `tasks.${task}`, own ?? {}, true);
          if (own?.pacingRate !== undefined && own.budgetPerRequest === undefined)
            issues.push({
              path: `tasks.${task}.pacingRate`,
              message:
                "paces a budget of the task's own: set tasks." +
                `${task}.budgetPerRequest too, or set pacingRate on the route (whose budget this task shares)`,
            });
          tasks.push([task, own ?? {}]);
        }
    }
    if (issues.length > 0)
      throw new ConfigError(issues, {
        title: `Invalid cascade route${typeof options.name === "string" ? ` "${options.name}"` : ""}`,
      });
    this.name = options.name;
    this.description = options.description;
    this.plan = new CascadePlan(options);
    // Each task pacing the route's budget on its own would hold every task at the route's mean: a
    // task that spends less (a cheap single stage) would leave its share unspent, never lent to the others.
    const plans = new Map<string, CascadePlan>();
    for (const [task, own] of tasks)
      plans.set(
        task,
        new CascadePlan({ ...pick(options), ...own }, own.budgetPerRequest === undefined ? this.plan.pacer : undefined),
      );
    this.#tasks = plans;
  }

  /** The settings for a request of this task (its own when the route has some for it). */
  planFor(task: string | undefined): CascadePlan {
    return task === undefined ? this.plan : (this.#tasks.get(task) ?? this.plan);
  }

  /** Every model any stage (of the route or a task) names. */
  get models(): string[] {
    const out = new Set<string>();
    for (const plan of [this.plan, ...this.#tasks.values()])
      for (const st of plan.stages) for (const m of st.models) out.add(m);
    return [...out];
  }

  get tasks(): string[] {
    return [...this.#tasks.keys()];
  }
}

function pick(o: CascadeSettings): CascadeSettings {
  const { stages, extract, normalize, equals, accept, prefer, budgetPerRequest, pacingRate } = o;
  const out: CascadeSettings = { stages, extract };
  if (normalize) out.normalize = normalize;
  if (equals) out.equals = equals;
  if (accept !== undefined) out.accept = accept;
  if (prefer !== undefined) out.prefer = prefer;
  // A task's own budget is its own; the route's budget applies to a task without one.
  if (budgetPerRequest !== undefined) out.budgetPerRequest = budgetPerRequest;
  if (pacingRate !== undefined) out.pacingRate = pacingRate;
  return out;
}

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
