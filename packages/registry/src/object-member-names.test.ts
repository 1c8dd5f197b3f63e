import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { encodeContribution, decodeContribution, emptyArmContribution } from "./contextual/shared-state";
import { ModelRegistry } from "./registry";
import { WeightedRandomSelector } from "./simple-selectors";
import { ask } from "./test-helpers";

// User strings that name Object.prototype members: per-name records must be Maps or own-property checks.
const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty"];

describe("models and tasks named like Object.prototype members", () => {
  it("WeightedRandomSelector weighs them by their own weight, or the default", () => {
    // A config file parsed as JSON/YAML gives "__proto__" as an own key.
    const weights = JSON.parse('{"__proto__": 3, "toString": 1}') as Record<string, number>;
    const registry = new ModelRegistry({ modelSelector: new WeightedRandomSelector({ weights, seed: 7 }) });
    for (const name of NAMES) registry.registerModel(new FakeModel({ name }));
    const e = registry.explainSelection();
    expect(e.excluded).toEqual([]);
    expect(e.candidates.map((c) => [c.model, c.score])).toEqual([
      ["__proto__", 0.5],
      ["constructor", 1 / 6],
      ["toString", 1 / 6],
      ["hasOwnProperty", 1 / 6],
    ]);
  });

  it("the registry learns and reports them, per model and per task", async () => {
    const registry = new ModelRegistry();
    for (const name of NAMES) registry.registerModel(new FakeModel({ name }));
    for (const task of NAMES) for (let i = 0; i < 8; i++) await registry.generate(ask(`${task} ${i}`, { task }));
    const stats = registry.getStatistics();
    expect(stats.models.map((m) => m.model)).toEqual(NAMES);
    expect(stats.models.reduce((n, m) => n + m.trials, 0)).toBe(32);
    for (const m of stats.models) {
      const tasks = Object.entries(m.tasks);
      expect(tasks.map(([task]) => task).sort()).toEqual([...NAMES].sort());
      expect(tasks.reduce((n, [, s]) => n + s.trials, 0)).toBe(m.trials);
      expect(Object.getPrototypeOf(m.tasks)).toBe(Object.prototype);
    }
  });

  it("a contextual selector's shared state keeps an arm named __proto__", () => {
    const arms = new Map(NAMES.map((name, i) => [name, { ...emptyArmContribution(2), count: i + 1 }]));
    const decoded = decodeContribution(encodeContribution(arms, 2), 2);
    expect([...decoded].map(([name, arm]) => [name, arm.count])).toEqual(NAMES.map((name, i) => [name, i + 1]));
  });
});
