import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** One side of a comparison: `run` is one call (awaited). */
export interface Contender {
  name: string;
  /** One call. It may return a number: a secondary per-call measure in ms (e.g. time to first chunk). */
  run: () => unknown;
}

export interface CaseOptions {
  /** Calls per contender before measuring. */
  warmup?: number;
  /** Measured calls per contender. */
  iterations?: number;
  /** Interleaving: each round runs a batch of every contender in a rotating order. */
  rounds?: number;
  notes?: string;
  secondaryLabel?: string;
}

export interface ContenderResult {
  name: string;
  iterations: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  /** CPU (user + system) of this process per call, from process.cpuUsage: steadier than wall time on a shared machine. */
  cpuUsPerCall: number;
  /** Ratios to the first contender (the baseline). */
  medianRatio: number;
  cpuRatio: number;
  /** Median of the numbers `run` returned (ms → µs), when it returns any: e.g. time to first chunk. */
  secondaryMedianUs?: number;
  secondaryRatio?: number;
}

export interface CaseResult {
  case: string;
  date: string;
  node: string;
  notes?: string;
  /** What the secondary measure is, when contenders return one. */
  secondaryLabel?: string;
  results: ContenderResult[];
  extra?: Record<string, unknown>;
}

const root = resolve(import.meta.dirname, "../../..");
export const RESULTS_DIR = join(root, "bench/results");

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * Runs contenders side by side in one process: warm-up, then `rounds` interleaved batches so that
 * drift of a shared, noisy machine hits every contender alike. Reports wall-time median/p99 per
 * call and CPU per call, with ratios to the first contender.
 */
export async function compare(name: string, contenders: Contender[], options: CaseOptions = {}): Promise<CaseResult> {
  const warmup = options.warmup ?? 200;
  const iterations = options.iterations ?? 2_000;
  const rounds = options.rounds ?? 10;
  const perRound = Math.ceil(iterations / rounds);
  for (const c of contenders) for (let i = 0; i < warmup; i++) await c.run();
  const samples = contenders.map(() => new Float64Array(perRound * rounds));
  const secondary = contenders.map(() => [] as number[]);
  const cpu = contenders.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (k + round) % contenders.length;
      const c = contenders[index] as Contender;
      const out = samples[index] as Float64Array;
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < perRound; i++) {
        const t0 = performance.now();
        const value = await c.run();
        out[round * perRound + i] = (performance.now() - t0) * 1000;
        if (typeof value === "number") (secondary[index] as number[]).push(value * 1000);
      }
      const used = process.cpuUsage(cpuStart);
      cpu[index] = (cpu[index] as number) + used.user + used.system;
    }
  }
  const base = { median: 0, cpu: 0, secondary: 0 };
  const results: ContenderResult[] = contenders.map((c, i) => {
    const s = (samples[i] as Float64Array).slice().sort();
    const medianUs = quantile(s, 0.5);
    const cpuUsPerCall = (cpu[i] as number) / s.length;
    if (i === 0) {
      base.median = medianUs;
      base.cpu = cpuUsPerCall;
    }
    let sum = 0;
    for (const v of s) sum += v;
    const sec = secondary[i] as number[];
    const secondaryMedianUs = sec.length > 0 ? quantile(Float64Array.from(sec).sort(), 0.5) : undefined;
    if (i === 0 && secondaryMedianUs !== undefined) base.secondary = secondaryMedianUs;
    return {
      ...(secondaryMedianUs === undefined
        ? {}
        : { secondaryMedianUs, secondaryRatio: secondaryMedianUs / base.secondary }),
      name: c.name,
      iterations: s.length,
      medianUs,
      p99Us: quantile(s, 0.99),
      meanUs: sum / s.length,
      cpuUsPerCall,
      medianRatio: medianUs / base.median,
      cpuRatio: cpuUsPerCall / base.cpu,
    };
  });
  return {
    case: name,
    date: new Date().toISOString(),
    node: process.version,
    ...(options.notes ? { notes: options.notes } : {}),
    ...(options.secondaryLabel ? { secondaryLabel: options.secondaryLabel } : {}),
    results,
  };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");

export function markdownTable(result: CaseResult): string {
  const lines = [
    `### ${result.case}`,
    "",
    ...(result.notes ? [result.notes, ""] : []),
    `| contender | median µs | p99 µs | CPU µs/call | median ratio | CPU ratio |${result.secondaryLabel ? ` ${result.secondaryLabel} median µs | ratio |` : ""}`,
    `|---|---:|---:|---:|---:|---:|${result.secondaryLabel ? "---:|---:|" : ""}`,
    ...result.results.map(
      (r) =>
        `| ${r.name} | ${fmt(r.medianUs)} | ${fmt(r.p99Us)} | ${fmt(r.cpuUsPerCall)} | ${fmt(r.medianRatio, 3)}× | ${fmt(r.cpuRatio, 3)}× |${result.secondaryLabel ? ` ${fmt(r.secondaryMedianUs ?? Number.NaN)} | ${fmt(r.secondaryRatio ?? Number.NaN, 3)}× |` : ""}`,
    ),
    "",
  ];
  return lines.join("\n");
}

/** Writes `bench/results/<case>.json` and `<case>.md`; returns the Markdown. */
export function writeResult(file: string, result: CaseResult | CaseResult[], markdown?: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const list = Array.isArray(result) ? result : [result];
  writeFileSync(join(RESULTS_DIR, `${file}.json`), `${JSON.stringify(list.length === 1 ? list[0] : list, null, 2)}\n`);
  const md = markdown ?? list.map(markdownTable).join("\n");
  writeFileSync(join(RESULTS_DIR, `${file}.md`), `${md}\n`);
  return md;
}
