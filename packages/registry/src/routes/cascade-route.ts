import { ConfigError, type ConfigIssue, type GenerateRequest } from "@orchestrator-ts/core";
import { BudgetPacer } from "../contextual/pacing";
import type { CascadeAnswer, RegistryResult } from "../types";
import type { Extractor } from "./extractors";

// A cascade route and its settings, checked once: what `runCascade` (cascade.ts) decides with.

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
