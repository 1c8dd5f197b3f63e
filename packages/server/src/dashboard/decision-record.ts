// A decision of an application that uses the library, as it publishes it (through Redis) for
// `orchestrator dashboard`: what the gateway's feed shows for its own requests, in plain JSON.
// Read back, a record is untrusted input: every field is checked and bounded before it is shown.
import type { CascadeInfo, RegistryResult, SelectionEvent } from "@orchestrator-ts/registry";
import type { RequestRecord } from "../contract";

/** One finished registry call of a library process. */
export interface DecisionRecord {
  v: 1;
  /** Epoch ms when the call ended. */
  at: number;
  /** Which process (`host:pid`). */
  source?: string;
  /** The request's `route` (a route or a model asked for by name); absent for the selector's choice. */
  route?: string;
  /** The model that answered, or the last one tried when the call failed. */
  model?: string;
  ok: boolean;
  errorCode?: string;
  stream: boolean;
  latencyMs: number;
  costUsd?: number;
  cached?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  selectionId?: string;
  selector?: string;
  /** The chosen model's score (absent when it was an untried model's forced trial). */
  score?: number;
  /** The other candidates: their score, or why they have none. */
  alternatives?: { model: string; score?: number; note?: string }[];
  /** Models left out, and why. */
  excluded?: { model: string; reason: string }[];
  /** Other models tried before the answer. */
  fallbacks: number;
  cascade?: CascadeInfo;
}

const MAX_LIST = 12;
const MAX_TEXT = 300;

/** The record of a call that answered. */
export function decisionOfResult(
  result: RegistryResult,
  options: { route?: string | undefined; stream: boolean; source?: string; at?: number },
): DecisionRecord {
  const e = result.explanation as RegistryResult["explanation"] | undefined;
  const chosen = e?.candidates.find((c) => c.chosen);
  const record: DecisionRecord = {
    v: 1,
    at: options.at ?? Date.now(),
    ok: true,
    model: result.model,
    stream: options.stream,
    latencyMs: result.latencyMs,
    fallbacks: result.attempts.filter((a) => a.next === "fallback").length,
  };
  if (options.source !== undefined) record.source = options.source;
  if (options.route !== undefined) record.route = options.route;
  if (result.costUsd !== undefined) record.costUsd = result.costUsd;
  record.cached = result.cached;
  if (result.usage.inputTokens !== undefined) record.inputTokens = result.usage.inputTokens;
  if (result.usage.outputTokens !== undefined) record.outputTokens = result.usage.outputTokens;
  record.selectionId = result.selectionId;
  if (e !== undefined) {
    record.selector = e.selector;
    if (chosen && Number.isFinite(chosen.score)) record.score = chosen.score;
    record.alternatives = e.candidates
      .filter((c) => !c.chosen)
      .slice(0, MAX_LIST)
      .map((c) =>
        Number.isFinite(c.score) ? { model: c.model, score: c.score } : { model: c.model, note: c.note ?? "untried" },
      );
    record.excluded = e.excluded.slice(0, MAX_LIST).map((x) => ({ model: x.model, reason: x.reason }));
  }
  if (result.cascade !== undefined) record.cascade = result.cascade;
  return record;
}

/** The record of a call that failed. */
export function decisionOfError(
  error: unknown,
  options: { route?: string | undefined; stream: boolean; source?: string; latencyMs: number; at?: number },
): DecisionRecord {
  const e = error as { code?: unknown; model?: unknown } | null;
  const record: DecisionRecord = {
    v: 1,
    at: options.at ?? Date.now(),
    ok: false,
    stream: options.stream,
    latencyMs: options.latencyMs,
    fallbacks: 0,
  };
  if (options.source !== undefined) record.source = options.source;
  if (options.route !== undefined) record.route = options.route;
  if (typeof e?.model === "string") record.model = e.model;
  record.errorCode = typeof e?.code === "string" ? e.code : "error";
  return record;
}

const text = (v: unknown): string | undefined =>
  typeof v === "string" && v.length > 0 ? (v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT - 1)}…` : v) : undefined;
const finite = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function cascadeOf(v: unknown): CascadeInfo | undefined {
  const c = v as Partial<CascadeInfo> | null;
  if (typeof c !== "object" || c === null || !Array.isArray(c.answers) || !Array.isArray(c.stages)) return undefined;
  const route = text(c.route);
  if (route === undefined) return undefined;
  return {
    route,
    stages: c.stages.filter((s): s is number => Number.isInteger(s) && s >= 0 && s < 64).slice(0, 16),
    answers: c.answers.slice(0, 64).flatMap((a) => {
      const model = text(a?.model);
      if (model === undefined || !Number.isInteger(a.stage)) return [];
      return [
        {
          stage: a.stage,
          model,
          answer: typeof a.answer === "string" || typeof a.answer === "number" ? a.answer : undefined,
          ok: a.ok === true,
          costUsd: finite(a.costUsd),
          latencyMs: finite(a.latencyMs) ?? 0,
          selectionId: undefined,
          ...(text(a.errorCode) === undefined ? {} : { errorCode: text(a.errorCode) as string }),
          ...(a.judge === true ? { judge: true } : {}),
        },
      ];
    }),
    escalated: c.escalated === true,
    accepted: c.accepted === true,
    paced: c.paced === true,
    answer: typeof c.answer === "string" || typeof c.answer === "number" ? c.answer : undefined,
  };
}

/**
 * A published record as the feed's request record and selection, checked field by field;
 * `undefined` when it is not a decision record.
 */
export function fromDecisionRecord(
  value: unknown,
): { record: RequestRecord; selections: SelectionEvent[]; at: number } | undefined {
  const d = value as Partial<DecisionRecord> | null;
  if (typeof d !== "object" || d === null || d.v !== 1 || typeof d.ok !== "boolean") return undefined;
  const at = finite(d.at) ?? Date.now();
  const record: RequestRecord = {
    endpoint: "library",
    status: d.ok ? 200 : 500,
    stream: d.stream === true,
    latencyMs: Math.max(0, finite(d.latencyMs) ?? 0),
  };
  const fields: [keyof RequestRecord, unknown][] = [
    ["requested", text(d.route)],
    ["model", text(d.model)],
    ["errorCode", d.ok ? undefined : (text(d.errorCode) ?? "error")],
    ["selectionId", text(d.selectionId)],
    ["costUsd", finite(d.costUsd)],
    ["inputTokens", finite(d.inputTokens)],
    ["outputTokens", finite(d.outputTokens)],
    ["keyName", text(d.source)],
  ];
  for (const [k, v] of fields) if (v !== undefined) (record as unknown as Record<string, unknown>)[k] = v;
  if (typeof d.cached === "boolean") record.cached = d.cached;
  const cascade = cascadeOf(d.cascade);
  if (cascade !== undefined) record.cascade = cascade;
  const selections: SelectionEvent[] = [];
  const model = record.model;
  const selector = text(d.selector);
  if (model !== undefined && selector !== undefined) {
    const score = finite(d.score);
    const alternatives = Array.isArray(d.alternatives) ? d.alternatives.slice(0, MAX_LIST) : [];
    const excluded = Array.isArray(d.excluded) ? d.excluded.slice(0, MAX_LIST) : [];
    selections.push({
      selectionId: record.selectionId,
      model,
      task: undefined,
      fallback: 0,
      explanation: {
        model: undefined as never,
        selector,
        task: undefined,
        candidates: [
          {
            model,
            provider: "",
            score: score ?? Number.POSITIVE_INFINITY,
            chosen: true,
            ...(score === undefined ? { note: "untried" } : {}),
          },
          ...alternatives.flatMap((a) => {
            const name = text(a?.model);
            if (name === undefined) return [];
            const s = finite(a.score);
            return [
              {
                model: name,
                provider: "",
                score: s ?? Number.POSITIVE_INFINITY,
                chosen: false,
                ...(s === undefined ? { note: text(a.note) ?? "untried" } : {}),
              },
            ];
          }),
        ],
        excluded: excluded.flatMap((x) => {
          const name = text(x?.model);
          const reason = text(x?.reason);
          return name === undefined || reason === undefined ? [] : [{ model: name, code: "other", reason }];
        }),
      } as unknown as SelectionEvent["explanation"],
    });
  }
  const fallbacks = Math.min(8, Math.max(0, Math.floor(finite(d.fallbacks) ?? 0)));
  for (let i = 1; i <= fallbacks; i++)
    selections.push({
      selectionId: record.selectionId,
      model: model ?? "",
      task: undefined,
      fallback: i,
      explanation: undefined,
    });
  return { record, selections, at };
}
