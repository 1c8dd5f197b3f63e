import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ContextualSelector, HashedNgramExtractor } from "@orchestrator-ts/registry";
import { parseCsv } from "./csv";
import { type ReplayDataset, type ReplayRow, loadReplayCsv } from "./dataset";
import { aiq, oraclePoint, singleModelPoint } from "./metrics";
import {
  contextualPolicy,
  fitOnDataset,
  fixedPolicy,
  oraclePolicy,
  qualityCostCurve,
  replayFromFiles,
  replayFullInformation,
  renderSvg,
} from "./index";

describe("parseCsv (RFC 4180)", () => {
  it("handles quoted commas, newlines, doubled quotes and CRLF", () => {
    const text = 'id,prompt,score\r\n1,"[\'a, b\']",1.0\r\n2,"line one\nline ""two""",\n3,plain,0.0';
    expect(parseCsv(text)).toEqual([
      ["id", "prompt", "score"],
      ["1", "['a, b']", "1.0"],
      ["2", 'line one\nline "two"', ""],
      ["3", "plain", "0.0"],
    ]);
    expect(() => parseCsv('a,"open')).toThrow(/quoted field/);
  });
});

// Synthetic full information: "cheap" is right on task x, "big" on both, "bad" on neither.
function dataset(n: number): ReplayDataset {
  const rows: ReplayRow[] = [];
  for (let i = 0; i < n; i++) {
    const task = i % 2 === 0 ? "x" : "y";
    rows.push({
      id: String(i),
      task,
      prompt: task === "x" ? `easy arithmetic ${i % 5}` : `hard proof ${i % 5}`,
      quality: Float64Array.of(task === "x" ? 1 : 0, 1, 0),
      cost: Float64Array.of(0.001, 0.01, 0.0001),
    });
  }
  return { models: ["cheap", "big", "bad"], rows, skipped: [] };
}

describe("replayFullInformation", () => {
  it("reports accuracy, cost and regret against the best fixed model in hindsight", () => {
    const data = dataset(200);
    const big = replayFullInformation(data, () => fixedPolicy(1), { seeds: [1, 2] });
    expect(big).toMatchObject({
      accuracy: 1,
      regret: 0,
      prompts: 200,
      seeds: 2,
      bestFixed: { model: "big", accuracy: 1 },
    });
    expect(big.costPerPrompt).toBeCloseTo(0.01, 12);
    const cheap = replayFullInformation(data, () => fixedPolicy(0), { seeds: [1] });
    expect(cheap.accuracy).toBe(0.5);
    expect(cheap.regret).toBeCloseTo(100, 9);
    const oracle = replayFullInformation(data, () => oraclePolicy(), { seeds: [1], lambda: 50 });
    expect(oracle.accuracy).toBe(1);
    expect(oracle.regret).toBeLessThan(0); // beats every fixed model on quality − 50·cost
    expect(oracle.runs[0]?.curve.at(-1)?.prompts).toBe(200);
  });

  it("a warm-started contextual selector routes by task: quality of the big model at a fraction of its cost", () => {
    const data = dataset(400);
    const train = dataset(200);
    const extractor = new HashedNgramExtractor({ dimensions: 256 });
    const r = replayFullInformation(
      data,
      (seed) => {
        const s = new ContextualSelector({ exploration: "greedy", lambda: 20, seed, extractor });
        fitOnDataset(s, train);
        return contextualPolicy(s, data.models);
      },
      { seeds: [1, 2, 3], lambda: 20 },
    );
    expect(r.accuracy).toBe(1);
    expect(r.costPerPrompt).toBeCloseTo(0.0055, 9);
    expect(r.regret).toBeLessThan(0);
    // The λ sweep traces quality against cost; with the singles it spans the AIQ range.
    const curve = qualityCostCurve(
      data,
      (lambda, seed) =>
        contextualPolicy(
          fitOnDataset(new ContextualSelector({ exploration: "greedy", lambda, seed, extractor }), train),
          data.models,
        ),
      [0, 20, 1e4],
      { seeds: [1] },
    );
    expect(curve.map((p) => p.quality)).toEqual([1, 1, 0]);
    const singles = data.models.map((_, k) => singleModelPoint(data, k));
    expect(aiq(curve, 0.0001, 0.01)).toBeGreaterThan(aiq(singles, 0.0001, 0.01));
    expect(oraclePoint(data).quality).toBe(1);
  });
});

describe("renderSvg and replayFromFiles", () => {
  it("draws labelled points, the hull and curves", () => {
    const svg = renderSvg({
      title: "t & c",
      points: [
        { cost: 1e-4, quality: 0.5, label: "org/small" },
        { cost: 1e-2, quality: 0.9, label: "big" },
      ],
      curves: [{ label: "router", points: [{ cost: 1e-3, quality: 0.85 }] }],
      markers: [{ cost: 2e-3, label: "budget" }],
    });
    expect(svg).toMatch(/^<svg [^>]*viewBox/);
    expect(svg).toContain(">small</text>");
    expect(svg).toContain("t &amp; c");
    expect(svg.match(/<circle/g)).toHaveLength(3);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
  });

  it("replays a CSV folder with a warm start and writes json, md and svg", () => {
    const dir = mkdtempSync(join(tmpdir(), "replay-"));
    try {
      const header = "sample_id,prompt,eval_name,a,b,a|total_cost,b|total_cost,oracle_model_to_route_to";
      const line = (i: number) =>
        i % 2 === 0
          ? `${i},"['easy ${i}']",easy,1.0,1.0,0.001,0.01,a`
          : `${i},"['hard ${i}']",hard,0.0,1.0,0.001,0.01,b`;
      writeFileSync(join(dir, "toy_train.csv"), [header, ...Array.from({ length: 60 }, (_, i) => line(i))].join("\n"));
      writeFileSync(
        join(dir, "toy_test.csv"),
        [header, ...Array.from({ length: 40 }, (_, i) => line(i + 100)), "999,\"['x']\",easy,,1.0,0.001,0.01,b"].join(
          "\n",
        ),
      );
      expect(loadReplayCsv(dir, { split: "test" }).skipped).toEqual([
        { source: "toy_test.csv", line: 42, reason: "blank score or cost for a" },
      ]);
      const out = join(dir, "out");
      const report = replayFromFiles({
        data: dir,
        split: "test",
        policy: { exploration: "greedy", lambda: 20, warmStart: "train", extractor: { dimensions: 64 } },
        seeds: [1, 2],
        out,
      });
      expect(report.text).toMatch(/\| \*\*contextual \(greedy\)\*\* \(λ 20\) \| 1\.000/);
      expect(report.json.aiq).toBeGreaterThan(report.json.singlesAiq as number);
      expect(readFileSync(join(out, "replay.svg"), "utf8")).toContain("<svg");
      expect(JSON.parse(readFileSync(join(out, "replay.json"), "utf8")).prompts).toBe(40);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
