// How the feed shows a cascade route's request: which stages ran, what each model's answer read as,
// and whether the cascade escalated, accepted an answer, or was stopped by its budget.
import type { CascadeInfo } from "@orchestrator-ts/registry";
import { esc } from "./escape";

/** A cascade in the feed's JSON (`GET /ui/state`). */
export interface CascadeView {
  route: string;
  escalated: boolean;
  accepted: boolean;
  paced: boolean;
  /** The answer returned, as read by the route's extractor. */
  answer?: string;
  stages: {
    stage: number;
    /** What the stage decided: `escalated` (the next stage ran), `accepted`, `final` (the last stage's answer, not agreed) or `paced` (the budget kept the next stage from running). */
    decision: "escalated" | "accepted" | "final" | "paced";
    answers: { model: string; answer?: string; ok: boolean; errorCode?: string; judge?: boolean }[];
  }[];
}

const MAX_ANSWER = 60;

/** An extracted answer as text, bounded. */
function shown(answer: unknown): string | undefined {
  if (answer === undefined) return undefined;
  const text = typeof answer === "string" ? answer : (JSON.stringify(answer) ?? String(answer));
  return text.length > MAX_ANSWER ? `${text.slice(0, MAX_ANSWER - 1)}…` : text;
}

export function cascadeView(info: CascadeInfo): CascadeView {
  const last = info.stages[info.stages.length - 1];
  return {
    route: info.route,
    escalated: info.escalated,
    accepted: info.accepted,
    paced: info.paced,
    ...(shown(info.answer) === undefined ? {} : { answer: shown(info.answer) as string }),
    stages: info.stages.map((stage) => ({
      stage,
      decision: stage !== last ? "escalated" : info.accepted ? "accepted" : info.paced ? "paced" : "final",
      answers: info.answers
        .filter((a) => a.stage === stage)
        .map((a) => {
          const answer = shown(a.answer);
          return {
            model: a.model,
            ...(answer === undefined ? {} : { answer }),
            ok: a.ok,
            ...(a.errorCode === undefined ? {} : { errorCode: a.errorCode }),
            ...(a.judge ? { judge: true } : {}),
          };
        }),
    })),
  };
}

const DECISION: Record<CascadeView["stages"][number]["decision"], [string, string]> = {
  escalated: ["escalated", "warn"],
  accepted: ["accepted", "good"],
  final: ["final answer", "muted"],
  paced: ["budget: not escalated", "warn"],
};

/** The feed's cell for a cascade: one line per stage, each model with the answer read from it. */
export function renderCascade(info: CascadeInfo): string {
  const view = cascadeView(info);
  const lines = view.stages.map((s) => {
    const answers = s.answers
      .map((a) => {
        const what = a.ok
          ? a.answer === undefined
            ? `<span class="muted">unreadable</span>`
            : `<b>${esc(a.answer)}</b>`
          : `<span class="bad-text">${esc(a.errorCode ?? "failed")}</span>`;
        return `<span class="ans">${esc(a.model)}${a.judge ? " (judge)" : ""} → ${what}</span>`;
      })
      .join(" · ");
    const [label, tone] = DECISION[s.decision];
    return `<div class="stage" data-stage="${s.stage}"><span class="muted">stage ${s.stage + 1}</span> ${answers} <span class="badge ${tone}">${label}</span></div>`;
  });
  return `<div class="cascade" data-route="${esc(view.route)}">${lines.join("")}</div>`;
}
