import { appendFileSync } from "node:fs";
import type { DecisionRecord, DecisionSink } from "./decision-log";

// The one file of the registry that touches the file system: a decision log on disk. The
// selector never imports it (it writes to any DecisionSink it is given); registryFromConfig
// opens one for a config's `decision_log:`. Reading logs back is @orchestrator-ts/replay's.

export interface DecisionLogOptions {
  /** Keep the request's sparse features (default) or only a hash of its text. */
  features?: "sparse" | "hash";
}

/**
 * Appends decision records as JSONL to a file (synchronously: one short line per request; use
 * `MemoryDecisionLog` or your own `DecisionSink` to ship them elsewhere).
 */
export class DecisionLog implements DecisionSink {
  readonly path: string;
  readonly features: "sparse" | "hash";

  constructor(path: string, options: DecisionLogOptions = {}) {
    this.path = path;
    this.features = options.features ?? "sparse";
  }

  write(record: DecisionRecord): void {
    const line = this.features === "hash" && record.features ? { ...record, features: undefined } : record;
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }
}
