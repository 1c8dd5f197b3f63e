import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CounterTally, FastHistogram } from "./tally";

// The gateway's own counters and histograms must read, to Prometheus, exactly as prom-client's:
// each test feeds the same updates to both and compares the registries' exposition text.

/** Exposition lines with each line's labels in name order (prom-client prints `le` first, we last). */
const normalized = (text: string) =>
  text
    .split("\n")
    .map((line) => {
      const m = /^([^{ ]+)\{(.*)\} (.*)$/.exec(line);
      if (!m) return line;
      const labels = (m[2] as string).match(/[a-zA-Z_]+="(?:[^"\\]|\\.)*"/g) ?? [];
      return `${m[1]}{${labels.sort().join(",")}} ${m[3]}`;
    })
    .join("\n");

describe("the gateway's metric tallies", () => {
  it("a FastHistogram reads as prom-client's Histogram: buckets, +Inf, sum and count per series", async () => {
    const buckets = [0.005, 0.05, 0.5, 5];
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({
      name: "t_seconds",
      help: "Test histogram.",
      labelNames: ["endpoint", "stream"] as const,
      buckets,
      registers: [theirs],
    });
    const fast = new FastHistogram("t_seconds", "Test histogram.", ["endpoint", "stream"] as const, buckets, ours);
    const observations: [number, string, string][] = [
      [0.001, "openai.chat", "false"],
      [0.005, "openai.chat", "false"],
      [0.3, "openai.chat", "true"],
      [7, "openai.chat", "true"],
      [0.04, "anthropic.messages", "false"],
      [0.04, "openai.chat", "false"],
    ];
    for (const [value, endpoint, stream] of observations) {
      reference.observe({ endpoint, stream }, value);
      fast.observe(value, endpoint, stream);
    }
    // Byte for byte: `le` first, as prom-client prints it.
    const expected = await theirs.metrics();
    expect(await ours.metrics()).toBe(expected);
    expect(normalized(expected)).toContain('t_seconds_bucket{endpoint="openai.chat",le="+Inf",stream="true"} 2');
    // As JSON too (the registry's other reader), and after a reset.
    const withoutExemplars = (metrics: Awaited<ReturnType<Registry["getMetricsAsJSON"]>>) =>
      metrics.map((m) => ({
        ...m,
        values: m.values.map((v) => ({
          labels: v.labels,
          value: v.value,
          metricName: (v as { metricName?: string }).metricName,
        })),
      }));
    expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
    reference.reset();
    fast.reset();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("a CounterTally's increments reach its Counter when the registry is read", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({
      name: "t_total",
      help: "Test counter.",
      labelNames: ["model", "direction"] as const,
      registers: [theirs],
    });
    const tally = new CounterTally("t_total", "Test counter.", ["model", "direction"] as const, ours);
    const updates: [number, string, string][] = [
      [12, "gpt-4o-mini", "input"],
      [40, "gpt-4o-mini", "output"],
      [3, "claude", "input"],
      [8, "gpt-4o-mini", "input"],
    ];
    for (const [value, model, direction] of updates) {
      reference.inc({ model, direction }, value);
      tally.inc(value, model, direction);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('t_total{model="gpt-4o-mini",direction="input"} 20');
    // Read twice: what was handed on is not handed on again; later increments are.
    expect(await ours.metrics()).toBe(await theirs.metrics());
    reference.inc({ model: "claude", direction: "input" }, 1);
    tally.inc(1, "claude", "input");
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});

describe("what prom-client refused at the update", () => {
  it("a non-finite or negative figure is left out; the registry stays readable", async () => {
    const register = new Registry();
    const counter = new CounterTally("t_total", "Test counter.", ["model"] as const, register);
    const histogram = new FastHistogram("t_seconds", "Test histogram.", ["model"] as const, [1], register);
    counter.inc(2, "a");
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN, -1]) counter.inc(bad, "a");
    histogram.observe(0.5, "a");
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) histogram.observe(bad, "a");
    const text = await register.metrics();
    expect(text).toContain('t_total{model="a"} 2');
    expect(text).toContain('t_seconds_sum{model="a"} 0.5');
    expect(text).toContain('t_seconds_count{model="a"} 1');
  });

  it("resetMetrics forgets what a counter gathered and had not handed on yet", async () => {
    const register = new Registry();
    const counter = new CounterTally("t_total", "Test counter.", ["model"] as const, register);
    counter.inc(5, "a");
    register.resetMetrics();
    expect(await register.metrics()).not.toContain('t_total{model="a"}');
    counter.inc(1, "a");
    expect(await register.metrics()).toContain('t_total{model="a"} 1');
  });
});
