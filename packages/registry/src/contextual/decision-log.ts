/**
 * One routing decision and what came of it: a line of a decision log (JSONL). Enough to
 * warm-start a selector (`fit`) and to estimate off-policy how another policy would have done.
 */
export interface DecisionRecord {
  /** Format version. */
  v: 1;
  /** Epoch ms of the decision. */
  time: number;
  selectionId?: string;
  task?: string;
  /** The request's sparse features (`{ i: indices, v: values }`), when the log keeps them. */
  features?: { i: number[]; v: number[] };
  /** A hash of the request text, when the log keeps no features (privacy). */
  textHash?: string;
  /** The eligible models, in the order the selector saw them. */
  candidates: string[];
  /** The chosen model. */
  model: string;
  /** Probability with which the logging policy chose `model` (for inverse propensity weighting). */
  probability?: number;
  /** Per candidate: predicted quality. */
  predictedQuality?: number[];
  /** Per candidate: predicted USD. */
  predictedCostUsd?: number[];
  /** Price of cost at the time, in quality per USD. */
  lambda?: number;
  /** Observed quality in [0, 1] (0 for a failed call). */
  quality?: number;
  costUsd?: number;
  latencyMs?: number;
  success?: boolean;
}

/** Something decision records can be written to. */
export interface DecisionSink {
  write(record: DecisionRecord): void;
}

/** Keeps decision records in memory (tests, or batching to another sink). */
export class MemoryDecisionLog implements DecisionSink {
  readonly records: DecisionRecord[] = [];
  write(record: DecisionRecord): void {
    this.records.push(record);
  }
  toJSONL(): string {
    return this.records.map((r) => `${JSON.stringify(r)}\n`).join("");
  }
}

/** FNV-1a of a string as 8 hex digits: a request identity for logs that keep no features. */
export function textHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}
