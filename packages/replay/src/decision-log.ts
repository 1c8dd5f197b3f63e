import { readFileSync } from "node:fs";
import type { DecisionRecord } from "@orchestrator-ts/registry";

// Reading decision logs back (the contextual selector writes them, see DecisionLog in the registry).

export interface DecisionLogProblem {
  /** 1-based line number. */
  line: number;
  message: string;
}

function isNumberArray(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => typeof v === "number" && Number.isFinite(v));
}

function check(value: unknown): DecisionRecord | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const r = value as Record<string, unknown>;
  if (r.v !== 1) return `unsupported version ${JSON.stringify(r.v)} (expected 1)`;
  if (typeof r.model !== "string" || r.model === "") return "missing `model`";
  if (!Array.isArray(r.candidates) || !r.candidates.every((c) => typeof c === "string"))
    return "`candidates` must be an array of model names";
  if (typeof r.time !== "number") return "missing `time`";
  for (const key of ["probability", "quality", "costUsd", "latencyMs", "lambda"] as const) {
    if (r[key] !== undefined && (typeof r[key] !== "number" || !Number.isFinite(r[key])))
      return `\`${key}\` must be a finite number`;
  }
  if (r.probability !== undefined && !((r.probability as number) > 0 && (r.probability as number) <= 1))
    return "`probability` must be in (0, 1]";
  if (r.features !== undefined) {
    const f = r.features as Record<string, unknown> | null;
    if (typeof f !== "object" || f === null || !isNumberArray(f.i) || !isNumberArray(f.v) || f.i.length !== f.v.length)
      return "`features` must be { i: number[], v: number[] } of equal length";
  }
  return r as unknown as DecisionRecord;
}

/**
 * Parses a JSONL decision log. A corrupt line (bad JSON, missing fields) is reported with its
 * line number in `problems` and skipped: one torn write never makes the log unreadable.
 */
export function parseDecisionLog(text: string): { records: DecisionRecord[]; problems: DecisionLogProblem[] } {
  const records: DecisionRecord[] = [];
  const problems: DecisionLogProblem[] = [];
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push({ line, message: `invalid JSON: ${(error as Error).message}` });
      continue;
    }
    const checked = check(value);
    if (typeof checked === "string") problems.push({ line, message: checked });
    else records.push(checked);
  }
  return { records, problems };
}

/** Reads a JSONL decision log file; see `parseDecisionLog`. */
export function readDecisionLog(path: string): { records: DecisionRecord[]; problems: DecisionLogProblem[] } {
  return parseDecisionLog(readFileSync(path, "utf8"));
}
