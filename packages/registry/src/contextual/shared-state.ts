import { Buffer } from "node:buffer";
import type { NaturalDelta } from "./predictor";

/** Observed USD: overall and per task. */
export interface CostTotals {
  costSum: number;
  costCount: number;
  readonly taskCost: Map<string, { sum: number; count: number }>;
}

/** Adds `sum` USD over `count` calls to the totals (overall unless `overall` is false, and for the task). */
export function addCost(
  target: CostTotals,
  sum: number,
  count: number,
  task: string | undefined,
  overall = true,
): void {
  if (overall) {
    target.costSum += sum;
    target.costCount += count;
  }
  if (task === undefined) return;
  let t = target.taskCost.get(task);
  if (!t) {
    t = { sum: 0, count: 0 };
    target.taskCost.set(task, t);
  }
  t.sum += sum;
  t.count += count;
}

/** One model's share of what a process learnt: natural-parameter deltas and cost totals. */
export interface ArmContribution extends NaturalDelta, CostTotals {}

export type Contribution = Map<string, ArmContribution>;

export function emptyArmContribution(dimensions: number): ArmContribution {
  return {
    eta: new Float64Array(dimensions),
    q: new Float64Array(dimensions),
    count: 0,
    costSum: 0,
    costCount: 0,
    taskCost: new Map(),
  };
}

interface WireArm {
  eta: string;
  q: string;
  count: number;
  cost: [number, number];
  tasks: Record<string, [number, number]>;
}

interface Wire {
  v: 1;
  dimensions: number;
  arms: Record<string, WireArm>;
}

/** Float64 values as base64 (little-endian), for saved and shared state. */
export function encodeFloats(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

/** The inverse of `encodeFloats`; throws an `Error` saying what is wrong. */
export function decodeFloats(s: unknown, length: number): Float64Array {
  if (typeof s !== "string") throw new Error("expected base64 float64 values");
  const bytes = Buffer.from(s, "base64");
  if (bytes.byteLength !== length * 8)
    throw new Error(`expected ${length} float64 values, got ${bytes.byteLength / 8}`);
  const out = new Float64Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function encodeContribution(c: Contribution, dimensions: number): string {
  // Built with fromEntries: an arm named "__proto__" becomes an own key, not the object's prototype.
  const arms: Record<string, WireArm> = Object.fromEntries(
    [...c].map(([model, a]) => [
      model,
      {
        eta: encodeFloats(a.eta),
        q: encodeFloats(a.q),
        count: a.count,
        cost: [a.costSum, a.costCount],
        tasks: Object.fromEntries([...a.taskCost].map(([t, v]) => [t, [v.sum, v.count]])),
      },
    ]),
  );
  const wire: Wire = { v: 1, dimensions, arms };
  return JSON.stringify(wire);
}

/** Parses another process's contribution; throws an `Error` saying what is wrong. */
export function decodeContribution(text: string, dimensions: number): Contribution {
  const wire = JSON.parse(text) as Partial<Wire>;
  if (wire?.v !== 1) throw new Error("not a contextual-selector contribution (version 1)");
  if (wire.dimensions !== dimensions)
    throw new Error(`has ${String(wire.dimensions)} dimensions, this selector ${dimensions}`);
  const out: Contribution = new Map();
  for (const [model, a] of Object.entries(wire.arms ?? {})) {
    const taskCost = new Map<string, { sum: number; count: number }>();
    for (const [t, [sum, count]] of Object.entries(a.tasks ?? {})) taskCost.set(t, { sum, count });
    out.set(model, {
      eta: decodeFloats(a.eta, dimensions),
      q: decodeFloats(a.q, dimensions),
      count: Number(a.count) || 0,
      costSum: Number(a.cost?.[0]) || 0,
      costCount: Number(a.cost?.[1]) || 0,
      taskCost,
    });
  }
  return out;
}

/** `target += sign · source`, arm by arm. */
export function addContribution(
  target: Contribution,
  source: Contribution,
  dimensions: number,
  sign: 1 | -1 = 1,
): void {
  for (const [model, s] of source) {
    let t = target.get(model);
    if (!t) {
      t = emptyArmContribution(dimensions);
      target.set(model, t);
    }
    for (let i = 0; i < dimensions; i++) {
      t.eta[i] = (t.eta[i] as number) + sign * (s.eta[i] as number);
      t.q[i] = (t.q[i] as number) + sign * (s.q[i] as number);
    }
    t.count += sign * s.count;
    addCost(t, sign * s.costSum, sign * s.costCount, undefined);
    for (const [task, v] of s.taskCost) addCost(t, sign * v.sum, sign * v.count, task, false);
  }
}
