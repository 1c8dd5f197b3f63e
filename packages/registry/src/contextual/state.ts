import { ConfigError } from "@orchestrator-ts/core";
import type { DiagonalLogisticPredictor } from "./predictor";
import { type CostTotals, decodeFloats, encodeFloats } from "./shared-state";

// What a ContextualSelector learnt, per model, and its saved (JSON) form.

/** One model's predictor of quality and its observed costs. */
export interface Arm extends CostTotals {
  readonly model: string;
  readonly predictor: DiagonalLogisticPredictor;
}

/** Saved state: JSON-serialisable; typed arrays as base64 (little-endian float64). */
export interface ContextualSelectorState {
  kind: "contextual-selector";
  version: 1;
  dimensions: number;
  ridge: number;
  lambda: number;
  pacer?: { lambda: number; requests: number; spentUsd: number };
  extractor?: unknown;
  arms: {
    model: string;
    count: number;
    mean: string;
    precision: string;
    cost: { sum: number; count: number; tasks: Record<string, [number, number]> };
  }[];
}

function fromBase64(s: string, length: number, path: string): Float64Array {
  try {
    return decodeFloats(s, length);
  } catch (error) {
    throw new ConfigError([{ path, message: (error as Error).message }], { title: "Invalid ContextualSelector state" });
  }
}

/** Throws a ConfigError unless `state` is a saved ContextualSelector state of these dimensions. */
export function checkState(state: ContextualSelectorState, dimensions: number): void {
  if (state?.kind !== "contextual-selector" || state.version !== 1)
    throw new ConfigError([{ path: "kind", message: "not a ContextualSelector state (version 1)" }], {
      title: "Invalid ContextualSelector state",
    });
  if (state.dimensions !== dimensions)
    throw new ConfigError(
      [{ path: "dimensions", message: `state has ${state.dimensions} dimensions, the extractor ${dimensions}` }],
      { title: "Invalid ContextualSelector state" },
    );
}

export function armState(a: Arm): ContextualSelectorState["arms"][number] {
  return {
    model: a.model,
    count: a.predictor.count,
    mean: encodeFloats(a.predictor.mean),
    precision: encodeFloats(a.predictor.precision),
    cost: {
      sum: a.costSum,
      count: a.costCount,
      tasks: Object.fromEntries([...a.taskCost].map(([t, v]) => [t, [v.sum, v.count] as [number, number]])),
    },
  };
}

/** Set `arm` to the saved arm `a` (index `k` of the state, for error paths). */
export function restoreArm(arm: Arm, a: ContextualSelectorState["arms"][number], dimensions: number, k: number): void {
  arm.predictor.mean.set(fromBase64(a.mean, dimensions, `arms[${k}].mean`));
  arm.predictor.precision.set(fromBase64(a.precision, dimensions, `arms[${k}].precision`));
  arm.predictor.count = a.count;
  arm.costSum = a.cost.sum;
  arm.costCount = a.cost.count;
  for (const [t, [sum, count]] of Object.entries(a.cost.tasks)) arm.taskCost.set(t, { sum, count });
}
