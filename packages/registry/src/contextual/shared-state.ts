import { Buffer } from "node:buffer";
import type { NaturalDelta } from "./predictor";

/** One model's share of what a process learnt: natural-parameter deltas and cost totals. */
export interface ArmContribution extends NaturalDelta {
  costSum: number;
  costCount: number;
  readonly tasks: Map<string, { sum: number; count: number }>;
}

export type Contribution = Map<string, ArmContribution>;

export function emptyArmContribution(dimensions: number): ArmContribution {
  return { eta: new Float64Array(dimensions), q: new Float64Array(dimensions), count: 0, costSum: 0, costCount: 0, tasks: new Map() };
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

function b64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

function floats(s: unknown, dimensions: number): Float64Array {
  if (typeof s !== "string") throw new Error("expected base64 float64 values");
  const bytes = Buffer.from(s, "base64");
  if (bytes.byteLength !== dimensions * 8) throw new Error(`expected ${dimensions} float64 values, got ${bytes.byteLength / 8}`);
  const out = new Float64Array(dimensions);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function encodeContribution(c: Contribution, dimensions: number): string {
  const arms: Record<string, WireArm> = {};
  for (const [model, a] of c) {
    arms[model] = { eta: b64(a.eta), q: b64(a.q), count: a.count, cost: [a.costSum, a.costCount], tasks: Object.fromEntries([...a.tasks].map(([t, v]) => [t, [v.sum, v.count]])) };
  }
  const wire: Wire = { v: 1, dimensions, arms };
  return JSON.stringify(wire);
}

/** Parses another process's contribution; throws an `Error` saying what is wrong. */
export function decodeContribution(text: string, dimensions: number): Contribution {
  const wire = JSON.parse(text) as Partial<Wire>;
  if (wire?.v !== 1) throw new Error("not a contextual-selector contribution (version 1)");
  if (wire.dimensions !== dimensions) throw new Error(`has ${String(wire.dimensions)} dimensions, this selector ${dimensions}`);
  const out: Contribution = new Map();
  for (const [model, a] of Object.entries(wire.arms ?? {})) {
    const tasks = new Map<string, { sum: number; count: number }>();
    for (const [t, [sum, count]] of Object.entries(a.tasks ?? {})) tasks.set(t, { sum, count });
    out.set(model, { eta: floats(a.eta, dimensions), q: floats(a.q, dimensions), count: Number(a.count) || 0, costSum: Number(a.cost?.[0]) || 0, costCount: Number(a.cost?.[1]) || 0, tasks });
  }
  return out;
}

/** `target += sign · source`, arm by arm. */
export function addContribution(target: Contribution, source: Contribution, dimensions: number, sign: 1 | -1 = 1): void {
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
    t.costSum += sign * s.costSum;
    t.costCount += sign * s.costCount;
    for (const [task, v] of s.tasks) {
      const tv = t.tasks.get(task) ?? { sum: 0, count: 0 };
      tv.sum += sign * v.sum;
      tv.count += sign * v.count;
      t.tasks.set(task, tv);
    }
  }
}
