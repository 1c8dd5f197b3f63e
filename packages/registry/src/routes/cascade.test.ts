import type { GenerateRequest } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "../registry";
import { ScriptedHealth } from "../test-helpers";
import type { RegistryResult } from "../types";
import { CascadeRoute, type CascadeRouteOptions, extractorByName, extractors } from "./index";

/** Each model answers the letter the prompt assigns it: "yi=A mixtral=B gpt-4=C" (missing: "I am not sure"). */
function letterModel(name: string, costUsd: number): FakeModel {
  return new FakeModel({
    name,
    costUsd,
    response: (request: GenerateRequest) => {
      const text = String(request.messages.at(-1)?.content ?? "");
      const m = new RegExp(`${name.replace(/[-]/g, "\\-")}=(\\S+)`).exec(text);
      if (!m) return "I am not sure.";
      return m[1] === "fail" ? "unreachable" : `The answer is ${m[1]}.`;
    },
  });
}

function setup(options: Partial<CascadeRouteOptions> = {}) {
  const health = new ScriptedHealth();
  const registry = new ModelRegistry({ healthMonitor: health, maxRetries: 0, backoff: { initialMs: 1, maxMs: 2 } });
  const yi = registry.registerModel(letterModel("yi", 0.001));
  const mixtral = registry.registerModel(letterModel("mixtral", 0.002));
  const gpt4 = registry.registerModel(letterModel("gpt-4", 0.01));
  registry.addRoute(
    new CascadeRoute({
      name: "mcq",
      stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
      extract: extractors.choiceLetter,
      accept: "unanimous",
      ...options,
    }),
  );
  const outcomes: { model: string; success: boolean; costUsd: number | undefined }[] = [];
  registry.on("outcome", (e) => outcomes.push({ model: e.model, success: e.success, costUsd: e.costUsd }));
  return { registry, yi, mixtral, gpt4, health, outcomes };
}

const q = (content: string, extra: Partial<GenerateRequest> = {}) => ({
  messages: [{ role: "user" as const, content }],
  route: "mcq",
  ...extra,
});
const trials = (registry: ModelRegistry) =>
  Object.fromEntries(registry.getStatistics().models.map((m) => [m.model, m.trials]));

describe("CascadeRoute", () => {
  it("agreeing cheap models answer; the expensive one is never asked; cost is the sum of the models asked", async () => {
    const { registry, gpt4, outcomes } = setup();
    const r = await registry.generate(q("yi=B mixtral=B gpt-4=C"));
    expect(r.text).toBe("The answer is B.");
    expect(r.model).toBe("yi");
    expect(gpt4.calls).toBe(0);
    expect(r.costUsd).toBeCloseTo(0.003, 12);
    expect(r.cascade).toMatchObject({ route: "mcq", stages: [0], escalated: false, accepted: true, answer: "B" });
    expect(r.cascade?.answers.map((a) => [a.model, a.answer, a.costUsd])).toEqual([
      ["yi", "B", 0.001],
      ["mixtral", "B", 0.002],
    ]);
    expect(outcomes).toEqual([
      { model: "yi", success: true, costUsd: 0.001 },
      { model: "mixtral", success: true, costUsd: 0.002 },
    ]);
  });

  it("disagreeing answers escalate: the final stage answers, every model asked is paid and recorded", async () => {
    const { registry, gpt4, health } = setup();
    const r = await registry.generate(q("yi=A mixtral=B gpt-4=C"));
    expect(r.text).toBe("The answer is C.");
    expect(r.model).toBe("gpt-4");
    expect(gpt4.calls).toBe(1);
    expect(r.costUsd).toBeCloseTo(0.013, 12);
    // The final stage's one model is unanimous with itself: its answer is accepted.
    expect(r.cascade).toMatchObject({ stages: [0, 1], escalated: true, accepted: true, answer: "C" });
    expect(r.attempts.map((a) => a.model)).toEqual(["yi", "mixtral", "gpt-4"]);
    expect(trials(registry)).toEqual({ yi: 1, mixtral: 1, "gpt-4": 1 });
    expect(health.successes.sort()).toEqual(["gpt-4", "mixtral", "yi"]);
  });

  it("an unreadable answer or a failing model counts as disagreement, never as the answer", async () => {
    const { registry, mixtral, health } = setup();
    const unreadable = await registry.generate(q("yi=B gpt-4=C"));
    expect(unreadable.cascade?.answers[1]).toMatchObject({ model: "mixtral", answer: undefined, ok: true });
    expect(unreadable.text).toBe("The answer is C.");
    mixtral.enqueue({ fail: "server-error" });
    const failed = await registry.generate(q("yi=B mixtral=B gpt-4=C"));
    expect(failed.cascade?.escalated).toBe(true);
    expect(failed.cascade?.answers[1]).toMatchObject({
      model: "mixtral",
      ok: false,
      errorCode: "provider_error",
      answer: undefined,
    });
    expect(failed.text).toBe("The answer is C.");
    expect(health.failures).toEqual([{ name: "mixtral", code: "provider_error" }]);
    // The final stage failing too: the best earlier answer rather than nothing, marked not accepted.
    const { registry: r2, mixtral: m2, gpt4: g2 } = setup();
    m2.enqueue({ fail: "server-error" });
    g2.enqueue({ fail: "server-error" });
    const fallback = await r2.generate(q("yi=B mixtral=B gpt-4=C"));
    expect(fallback).toMatchObject({
      text: "The answer is B.",
      cascade: { accepted: false, escalated: true, answer: "B" },
    });
    // Nothing answered at all: a typed error.
    const { registry: r3, yi: y3, mixtral: m3, gpt4: g3 } = setup();
    for (const m of [y3, m3, g3]) m.enqueue({ fail: "server-error" });
    await expect(r3.generate(q("yi=B mixtral=B gpt-4=C"))).rejects.toMatchObject({ code: "cascade_failed" });
  });

  it("a sequential stage stops asking once the rule is decided; { atLeast: k } accepts k of n", async () => {
    const { registry, mixtral } = setup({ stages: [{ models: ["yi", "mixtral"] }, { models: ["gpt-4"] }] });
    const r = await registry.generate(q("mixtral=B gpt-4=C"));
    // yi could not be read: unanimity is impossible, mixtral is not paid for.
    expect(mixtral.calls).toBe(0);
    expect(r.cascade?.answers.map((a) => a.model)).toEqual(["yi", "gpt-4"]);
    const k = setup({
      stages: [{ models: ["yi", "mixtral", "gpt-4"] }, { models: ["gpt-4"] }],
      accept: { atLeast: 2 },
    });
    k.registry.removeRoute("mcq");
    k.registry.addRoute(
      new CascadeRoute({
        name: "mcq",
        stages: [{ models: ["yi", "mixtral", "gpt-4"] }, { models: ["gpt-4"] }],
        extract: extractors.choiceLetter,
        accept: { atLeast: 2 },
      }),
    );
    const two = await k.registry.generate(q("yi=A mixtral=A gpt-4=C"));
    expect(two.cascade).toMatchObject({ accepted: true, escalated: false, answer: "A" });
    expect(k.gpt4.calls).toBe(0);
  });

  it("a judge function decides and may call a model, which is paid and recorded", async () => {
    const { registry, gpt4 } = setup({
      accept: async ({ answers, ask, final }) => {
        if (final) return true;
        const check = await ask("gpt-4", { messages: [{ role: "user", content: "gpt-4=Y" }] });
        return { accept: check.text.includes("Y") && answers.length === 2, index: 1 };
      },
    });
    const r = await registry.generate(q("yi=A mixtral=B gpt-4=C"));
    expect(r.text).toBe("The answer is B.");
    expect(r.cascade?.answers.map((a) => [a.model, a.judge === true])).toEqual([
      ["yi", false],
      ["mixtral", false],
      ["gpt-4", true],
    ]);
    expect(r.costUsd).toBeCloseTo(0.013, 12);
    expect(gpt4.calls).toBe(1);
  });

  it("prefer chooses which agreeing answer is returned; per-task settings replace the route's", async () => {
    const { registry, gpt4 } = setup({ prefer: "cheapest", tasks: { arc: { stages: [{ models: ["gpt-4"] }] } } });
    const r = await registry.generate(q("yi=B mixtral=B"));
    expect(r.model).toBe("yi");
    const arc = await registry.generate(q("yi=B mixtral=B gpt-4=D", { task: "arc" }));
    expect(arc.text).toBe("The answer is D.");
    expect(arc.cascade?.answers.map((a) => a.model)).toEqual(["gpt-4"]);
    expect(gpt4.calls).toBe(1);
  });

  it("a budget paces escalation so the mean spend per request holds it", async () => {
    // Stage 1 costs 0.003, escalation 0.01 more; always disagreeing, unpaced spend would be 0.013.
    const { registry } = setup({ budgetPerRequest: 0.006, pacingRate: 0.2 });
    const results: RegistryResult[] = [];
    for (let i = 0; i < 400; i++) results.push(await registry.generate(q("yi=A mixtral=B gpt-4=C")));
    const mean = results.reduce((s, r) => s + (r.costUsd ?? 0), 0) / results.length;
    const escalated = results.filter((r) => r.cascade?.escalated).length / results.length;
    expect(mean).toBeLessThanOrEqual(0.006 * 1.05);
    expect(mean).toBeGreaterThan(0.006 * 0.8);
    expect(escalated).toBeGreaterThan(0.2);
    expect(escalated).toBeLessThan(0.45);
    const paced = results.find((r) => r.cascade?.paced);
    expect(paced?.cascade).toMatchObject({ escalated: false, accepted: false, answer: "A" });
  });

  it("a budget holds from the start: cumulative spend never runs ahead of it by more than the first escalation", async () => {
    // Stage 1 costs 0.003, escalation 0.01 more; always disagreeing, unpaced spend would be 0.013.
    const { registry } = setup({ budgetPerRequest: 0.006, pacingRate: 0.2 });
    let spent = 0;
    let worst = Number.NEGATIVE_INFINITY;
    for (let n = 1; n <= 400; n++) {
      spent += (await registry.generate(q("yi=A mixtral=B gpt-4=C"))).costUsd ?? 0;
      worst = Math.max(worst, spent - 0.006 * n);
    }
    // The first escalation is how the cascade learns what escalating costs; after it, never over.
    expect(worst).toBeLessThanOrEqual(0.01 + 1e-12);
    // And the budget is spent, not left over.
    expect(spent / 400).toBeGreaterThan(0.006 * 0.97);
  });

  it("a route's budget is one mean over all its requests: a cheap task's unspent share goes to the others", async () => {
    const { registry } = setup({ budgetPerRequest: 0.006, tasks: { cheap: { stages: [{ models: ["yi"] }] } } });
    const route = registry.resolveRoute("mcq");
    const cascade = route.type === "route" && route.route.type === "cascade" ? route.route : undefined;
    // Half the requests cost 0.001 (one cheap model); the others 0.003, or 0.013 when they escalate.
    let spent = 0;
    let escalated = 0;
    for (let i = 0; i < 600; i++) {
      const r = await registry.generate(
        i % 2 === 0 ? q("yi=A", { task: "cheap" }) : q("yi=A mixtral=B gpt-4=C", { task: "arc" }),
      );
      spent += r.costUsd ?? 0;
      if (r.cascade?.escalated) escalated++;
    }
    expect(spent / 600).toBeLessThanOrEqual(0.006 + 0.01 / 600);
    expect(spent / 600).toBeGreaterThan(0.006 * 0.97);
    // Paced per task, the disagreeing half would hold 0.006 on its own: 30% of its requests escalated, not ~80%.
    expect(escalated / 300).toBeGreaterThan(0.7);
    expect(cascade?.planFor("cheap").pacer).toBe(cascade?.plan.pacer);
    // A task with a budget of its own is paced on its own; a pacing rate needs one.
    const own = new CascadeRoute({
      name: "x",
      stages: [{ models: ["a"] }],
      extract: extractors.number,
      budgetPerRequest: 0.01,
      tasks: { t: { budgetPerRequest: 0.02 }, u: {} },
    });
    expect(own.planFor("t").pacer).not.toBe(own.plan.pacer);
    expect(own.planFor("t").pacer?.budgetPerRequest).toBe(0.02);
    expect(own.planFor("u").pacer).toBe(own.plan.pacer);
    expect(
      () =>
        new CascadeRoute({
          name: "x",
          stages: [{ models: ["a"] }],
          extract: extractors.number,
          budgetPerRequest: 0.01,
          tasks: { t: { pacingRate: 0.1 } },
        }),
    ).toThrow(/tasks\.t\.pacingRate: paces a budget of the task's own/);
  });

  it("feedback on a cascade's result credits the stage models that agreed (and the ones that did not, when it was right)", async () => {
    const { registry } = setup();
    const events: { model: string; quality: number }[] = [];
    registry.on("feedback", (e) => events.push({ model: e.model, quality: e.quality }));
    const r = await registry.generate(q("yi=C mixtral=B gpt-4=C"));
    expect(registry.recordFeedback(r.selectionId, { quality: 1 })).toBe(true);
    expect(events).toHaveLength(3);
    expect(events).toEqual(
      expect.arrayContaining([
        { model: "yi", quality: 1 },
        { model: "mixtral", quality: 0 },
        { model: "gpt-4", quality: 1 },
      ]),
    );
    expect(registry.recordFeedback(r.selectionId, { quality: 1 })).toBe(false);
  });

  it("streams: an accepted answer is replayed as a stream; an escalation streams the final stage live", async () => {
    const { registry, gpt4 } = setup();
    const collect = async (request: ReturnType<typeof q>) => {
      const stream = registry.stream(request);
      const chunks: string[] = [];
      let finish: unknown;
      for await (const c of stream) {
        if (c.type === "text") chunks.push(c.text);
        if (c.type === "finish") finish = c;
      }
      return {
        chunks,
        finish: finish as { costUsd: number; cascade: { escalated: boolean; answer: unknown }; selectionId: string },
        stream,
      };
    };
    const accepted = await collect(q("yi=B mixtral=B"));
    expect(accepted.chunks).toEqual(["The answer is B."]);
    expect(accepted.finish.cascade).toMatchObject({ escalated: false, answer: "B" });
    expect(accepted.stream.cascade?.answer).toBe("B");
    const escalated = await collect(q("yi=A mixtral=B gpt-4=D"));
    // Word-sized chunks: the final model's own stream.
    expect(escalated.chunks.length).toBeGreaterThan(1);
    expect(escalated.chunks.join("")).toBe("The answer is D.");
    expect(escalated.finish.cascade).toMatchObject({ escalated: true, answer: "D" });
    expect(escalated.finish.costUsd).toBeCloseTo(0.013, 12);
    expect(gpt4.calls).toBe(1);
    expect(registry.recordFeedback(escalated.finish.selectionId, { quality: 1 })).toBe(true);
  });

  it("bad settings are a ConfigError naming each problem", () => {
    expect(
      () => new CascadeRoute({ name: "", stages: [], extract: "choice" as never, accept: { atLeast: 0 } }),
    ).toThrow(
      /name: must be a non-empty string[\s\S]*stages: must be a non-empty list[\s\S]*extract: must be a function[\s\S]*accept: must be "unanimous"/,
    );
    expect(
      () =>
        new CascadeRoute({
          name: "x",
          stages: [{ models: ["a"] }, { models: ["b"] }],
          extract: extractors.number,
          accept: { atLeast: 2 },
        }),
    ).toThrow(/stages\[0\]\.models: has 1 model\(s\), fewer than accept.atLeast = 2/);
    expect(
      () =>
        new CascadeRoute({
          name: "x",
          stages: [{ models: ["a"] }],
          extract: extractors.number,
          tasks: { t: { budgetPerRequest: -1 } },
        }),
    ).toThrow(/tasks\.t\.budgetPerRequest/);
  });
});

describe("extractors", () => {
  it("read option letters, numbers and JSON fields; unreadable is undefined", () => {
    expect(extractors.choiceLetter("The answer is (C).")).toBe("C");
    expect(extractors.choiceLetter("B) Paris")).toBe("B");
    expect(extractors.choiceLetter("a dog")).toBeUndefined();
    expect(extractors.choiceLetter("BAD answer")).toBeUndefined();
    expect(extractors.choice("AB")("Option C or B")).toBe("B");
    expect(extractors.number("12 × 3 = 36")).toBe(36);
    expect(extractors.number("It costs $1,234.50 in total")).toBe(1234.5);
    expect(extractors.firstNumber("-3 then 4")).toBe(-3);
    expect(extractors.number("none")).toBeUndefined();
    expect(extractors.jsonField("answer.label")('Sure: {"answer": {"label": "yes"}} done')).toBe("yes");
    expect(extractors.jsonField("answer")('```json\n{"answer": 4}\n```')).toBe(4);
    expect(extractors.jsonField("answer")("{not json")).toBeUndefined();
    expect(extractorByName("choice:AB")?.("B")).toBe("B");
    expect(extractorByName("json:a.b")?.('{"a":{"b":1}}')).toBe(1);
    expect(extractorByName("nope")).toBeUndefined();
  });

  it("hostile text costs bounded time", () => {
    const huge = `${"[".repeat(2_000_000)}`;
    const started = performance.now();
    expect(extractors.jsonField("a")(huge)).toBeUndefined();
    expect(extractors.number("1".repeat(5_000_000))).toBeUndefined();
    expect(extractors.choiceLetter("x".repeat(5_000_000))).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
