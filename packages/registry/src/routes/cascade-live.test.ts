import { ModelHealthMonitor } from "@orchestrator-ts/health";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "../registry";
import type { OutcomeEvent } from "../events";
import type { CascadeInfo } from "../types";
import { CascadeFailedError, CascadeRoute, extractors } from "./index";

// The cascade over real HTTP: three loopback OpenAI-compatible servers, one per model, scripted to
// answer option letters, called through the official `openai` SDK (OpenAIModel).

/** Question → each model's answer text. The cascade must escalate exactly when yi and mixtral differ. */
const SCRIPT: Record<string, { yi: string; mixtral: string; "gpt-4": string }> = {
  q1: { yi: "A", mixtral: "A", "gpt-4": "A" },
  q2: { yi: "B", mixtral: "C", "gpt-4": "C" },
  q3: { yi: "The answer is D.", mixtral: "D) because…", "gpt-4": "D" },
  q4: { yi: "I cannot tell.", mixtral: "B", "gpt-4": "B" },
  q5: { yi: "C", mixtral: "C", "gpt-4": "A" },
  q6: { yi: "(A)", mixtral: "Answer: B", "gpt-4": "A" },
  q7: { yi: "B", mixtral: "B", "gpt-4": "B" },
  q8: { yi: "D", mixtral: "A", "gpt-4": "D" },
};
const PRICES = { yi: 8e-7, mixtral: 6e-7, "gpt-4": 3e-5 } as const;
type Name = keyof typeof PRICES;
const NAMES: Name[] = ["yi", "mixtral", "gpt-4"];

describe("a cascade over loopback provider servers", () => {
  const servers = {} as Record<Name, OpenAIServer>;
  let registry: ModelRegistry;
  let monitor: ModelHealthMonitor;
  const outcomes: OutcomeEvent[] = [];

  beforeAll(async () => {
    for (const name of NAMES) {
      servers[name] = await startOpenAIServer({
        apiKey: `sk-${name}`,
        reply: (request) => ({ text: SCRIPT[request.lastUserText]?.[name] ?? "?" }),
      });
    }
    monitor = new ModelHealthMonitor({ checkIntervalMs: 60_000 });
    registry = new ModelRegistry({ healthMonitor: monitor, maxRetries: 0, backoff: { initialMs: 1, maxMs: 2 } });
    for (const name of NAMES) {
      registry.registerModel(
        new OpenAIModel({
          name,
          model: "loopback",
          apiKey: `sk-${name}`,
          baseURL: servers[name].baseURL,
          maxRetries: 0,
          capabilities: { inputCostPerToken: PRICES[name], outputCostPerToken: PRICES[name] },
        }),
      );
    }
    registry.addRoute(
      new CascadeRoute({
        name: "mcq",
        stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
        extract: extractors.choiceLetter,
        accept: "unanimous",
      }),
    );
    registry.on("outcome", (e) => outcomes.push(e));
  });
  afterAll(async () => {
    monitor?.stop();
    await registry?.cleanup();
    await Promise.all(NAMES.map((n) => servers[n]?.close()));
  });

  it("escalates exactly when the cheap models' answers differ, and its records match the calls made", async () => {
    for (const name of NAMES) servers[name].resetStats();
    const before = outcomes.length;
    let expectedEscalations = 0;
    let totalCost = 0;
    for (const [question, answers] of Object.entries(SCRIPT)) {
      const yi = extractors.choiceLetter(answers.yi);
      const mixtral = extractors.choiceLetter(answers.mixtral);
      const disagree = yi === undefined || yi !== mixtral;
      if (disagree) expectedEscalations++;
      const r = await registry.generate({ messages: [{ role: "user", content: question }], route: "mcq", task: "mcq" });
      expect(r.cascade?.escalated, question).toBe(disagree);
      expect(r.cascade?.answer, question).toBe(disagree ? extractors.choiceLetter(answers["gpt-4"]) : yi);
      expect(r.text).toBe(disagree ? answers["gpt-4"] : answers.yi);
      expect(r.cascade?.answers.map((a) => a.model)).toEqual(disagree ? NAMES : ["yi", "mixtral"]);
      // costUsd is the sum over every model asked, each priced from the usage its server reported.
      const sum = (r.cascade?.answers ?? []).reduce((s, a) => s + (a.costUsd ?? 0), 0);
      expect(r.costUsd).toBeCloseTo(sum, 15);
      totalCost += r.costUsd ?? 0;
    }
    // Every model asked was one HTTP request to its server, and one recorded outcome.
    const n = Object.keys(SCRIPT).length;
    expect(servers.yi.stats.requests).toBe(n);
    expect(servers.mixtral.stats.requests).toBe(n);
    expect(servers["gpt-4"].stats.requests).toBe(expectedEscalations);
    const mine = outcomes.slice(before);
    expect(mine.filter((o) => o.model === "gpt-4")).toHaveLength(expectedEscalations);
    expect(mine).toHaveLength(2 * n + expectedEscalations);
    expect(mine.every((o) => o.success)).toBe(true);
    expect(mine.reduce((s, o) => s + (o.costUsd ?? 0), 0)).toBeCloseTo(totalCost, 15);
    // The stats store holds the same calls and spend, per model and per task.
    const stats = registry.getStatistics().models;
    const byName = Object.fromEntries(stats.map((m) => [m.model, m]));
    expect(byName["gpt-4"]?.tasks.mcq?.trials).toBe(expectedEscalations);
    expect(byName.yi?.tasks.mcq?.trials).toBe(n);
    expect(stats.reduce((s, m) => s + (m.tasks.mcq?.totalCostUsd ?? 0), 0)).toBeCloseTo(totalCost, 15);
    expect(expectedEscalations).toBe(4);
  });

  it("a server error on a stage model escalates, reaches health and is never the answer; the final stage streams", async () => {
    servers.mixtral.enqueueFault({ type: "status", status: 500 });
    const chunks: string[] = [];
    let finish:
      | {
          costUsd?: number;
          cascade?: { escalated: boolean; answers: { model: string; ok: boolean; errorCode?: string }[] };
        }
      | undefined;
    for await (const c of registry.stream({ messages: [{ role: "user", content: "q7" }], route: "mcq" })) {
      if (c.type === "text") chunks.push(c.text);
      if (c.type === "finish") finish = c;
    }
    expect(chunks.join("")).toBe("B");
    expect(finish?.cascade?.escalated).toBe(true);
    expect(finish?.cascade?.answers.map((a) => [a.model, a.ok, a.errorCode])).toEqual([
      ["yi", true, undefined],
      ["mixtral", false, "provider_error"],
      ["gpt-4", true, undefined],
    ]);
    const health = await registry.getModelHealth("mixtral");
    expect(health.consecutiveFailures).toBe(1);
  });

  /** Streams the route; the text chunks, the finish chunk, and the rejection if any. */
  async function streamed(question: string) {
    const chunks: string[] = [];
    let finish: { model?: string; costUsd?: number; selectionId: string; cascade?: CascadeInfo } | undefined;
    let error: unknown;
    try {
      for await (const c of registry.stream({ messages: [{ role: "user", content: question }], route: "mcq" })) {
        if (c.type === "text") chunks.push(c.text);
        if (c.type === "finish") finish = c as typeof finish;
      }
    } catch (thrown) {
      error = thrown;
    }
    return { chunks, finish, error };
  }

  it("a streamed escalation whose final model fails before its first chunk falls back to the earlier stage's best answer", async () => {
    for (const fault of [
      { type: "status", status: 503 },
      { type: "cut-stream", afterChunks: 0 },
    ] as const) {
      for (const name of NAMES) servers[name].resetStats();
      servers["gpt-4"].enqueueFault(fault);
      // q8: yi says D, mixtral A, so gpt-4 is asked, and fails.
      const { chunks, finish, error } = await streamed("q8");
      expect(error, fault.type).toBeUndefined();
      expect(servers["gpt-4"].stats.requests).toBe(1);
      // Yi's answer (first of the stage, the groups tie), replayed as a stream.
      expect(chunks).toEqual(["D"]);
      expect(finish?.model).toBe("yi");
      expect(finish?.cascade).toMatchObject({ escalated: true, accepted: false, fallback: true, answer: "D" });
      const answers = finish?.cascade?.answers ?? [];
      expect(answers.map((a) => [a.model, a.ok])).toEqual([
        ["yi", true],
        ["mixtral", true],
        ["gpt-4", false],
      ]);
      expect(answers[2]?.errorCode).toBeDefined();
      // Paid for what was asked: the two stage models (the failed call reported no usage).
      expect(finish?.costUsd).toBeCloseTo((answers[0]?.costUsd ?? 0) + (answers[1]?.costUsd ?? 0), 15);
      expect(registry.recordFeedback(finish?.selectionId ?? "", { quality: 1 })).toBe(true);
    }
    // generate() falls back the same way and says so too.
    servers["gpt-4"].enqueueFault({ type: "status", status: 503 });
    const r = await registry.generate({ messages: [{ role: "user", content: "q8" }], route: "mcq" });
    expect(r.text).toBe("D");
    expect(r.cascade).toMatchObject({ escalated: true, accepted: false, fallback: true });
  });

  it("a streamed cascade with no earlier answer to fall back on rejects with CascadeFailedError", async () => {
    for (const name of NAMES) servers[name].enqueueFault({ type: "status", status: 503 });
    const { chunks, finish, error } = await streamed("q1");
    expect(chunks).toEqual([]);
    expect(finish).toBeUndefined();
    expect(CascadeFailedError.isInstance(error)).toBe(true);
    expect((error as CascadeFailedError).code).toBe("cascade_failed");
    expect((error as Error).message).toMatch(
      /Cascade route "mcq": no model answered \(yi: .+, mixtral: .+, gpt-4: .+\)/,
    );
  });
});
