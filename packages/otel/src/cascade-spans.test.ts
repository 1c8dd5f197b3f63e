// A cascade route traced with the real OpenTelemetry SDK: under the call span, one span per stage
// that ran, with the stage's model calls (OpenAIModel over the loopback server) under it.
import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { CascadeRoute, ModelRegistry, extractors } from "@orchestrator-ts/registry";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { instrument } from "./index";
import { metric, telemetry } from "./test-setup";

const KEY = "sk-otel-cascade-0123456789abcdef";
const NAMES = ["yi", "mixtral", "gpt-4"] as const;
/** Prompt → each model's letter: "yi=A mixtral=B gpt-4=C". */
const letterOf = (model: string, prompt: string) => new RegExp(`${model.replace("-", "\\-")}=(\\S+)`).exec(prompt)?.[1];

let server: OpenAIServer;
let t: ReturnType<typeof telemetry>;

beforeAll(async () => {
  server = await startOpenAIServer({
    apiKey: KEY,
    // The model id sent is the registry name: each model answers its own letter.
    reply: (r) => ({ text: `The answer is ${letterOf(r.model, r.lastUserText) ?? "unclear"}.` }),
  });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  t = telemetry();
});
afterEach(async () => {
  await t.close();
});

function setup(options: { captureContent?: boolean } = {}) {
  const registry = new ModelRegistry({ maxRetries: 0 });
  for (const name of NAMES)
    registry.registerModel(
      new OpenAIModel({
        name,
        apiKey: KEY,
        baseURL: server.baseURL,
        maxRetries: 0,
        capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 2e-6 },
      }),
    );
  registry.addRoute(
    new CascadeRoute({
      name: "mcq",
      stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
      extract: extractors.choiceLetter,
    }),
  );
  const stop = instrument(registry, {
    tracerProvider: t.tracerProvider,
    meterProvider: t.meterProvider,
    ...options,
  });
  return { registry, stop };
}

const ask = (content: string) => ({ messages: [{ role: "user" as const, content }], route: "mcq" });
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => parentOf(s) === parent.spanContext().spanId);

/** The tree under the root, as names (children in start order). */
function tree(spans: ReadableSpan[], span: ReadableSpan, depth = 0): string[] {
  const kids = childrenOf(spans, span).sort(
    (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1] || a.name.localeCompare(b.name),
  );
  return [`${"  ".repeat(depth)}${span.name}`, ...kids.flatMap((k) => tree(spans, k, depth + 1))];
}

describe("cascade spans (real SDK, OpenAIModel over the wire)", () => {
  it("an escalated cascade: a span per stage with its model calls under it, and orchestrator.cascade.* attributes", async () => {
    const { registry, stop } = setup();
    const result = await registry.generate(ask("yi=A mixtral=B gpt-4=C"));
    stop();
    expect(result.text).toBe("The answer is C.");

    const spans = t.spans();
    const roots = spans.filter((s) => parentOf(s) === undefined);
    expect(roots).toHaveLength(1);
    const root = roots[0] as ReadableSpan;
    const shape = tree(spans, root);
    expect(shape[0]).toBe("chat gpt-4");
    expect(shape.slice(1).filter((l) => l.startsWith("  ") && !l.startsWith("    "))).toEqual([
      "  cascade stage 0",
      "  cascade stage 1",
    ]);
    expect(root.attributes).toMatchObject({
      "orchestrator.cascade.route": "mcq",
      "orchestrator.cascade.stages": 2,
      "orchestrator.cascade.escalated": true,
      "orchestrator.cascade.accepted": true,
    });

    const [stage0, stage1] = childrenOf(spans, root).sort((a, b) => a.name.localeCompare(b.name)) as [
      ReadableSpan,
      ReadableSpan,
    ];
    expect(stage0.attributes).toMatchObject({
      "orchestrator.cascade.route": "mcq",
      "orchestrator.cascade.stage": 0,
      "orchestrator.cascade.models": ["yi", "mixtral"],
      "orchestrator.cascade.parallel": true,
      "orchestrator.cascade.final": false,
      "orchestrator.cascade.answers": 2,
      "orchestrator.cascade.answers.readable": 2,
      "orchestrator.cascade.agreeing": 1,
      "orchestrator.cascade.decision": "escalated",
      "orchestrator.cascade.escalated": true,
    });
    expect(stage1.attributes).toMatchObject({
      "orchestrator.cascade.stage": 1,
      "orchestrator.cascade.models": ["gpt-4"],
      "orchestrator.cascade.parallel": false,
      "orchestrator.cascade.final": true,
      "orchestrator.cascade.decision": "accepted",
      "orchestrator.cascade.escalated": false,
    });
    // Extracted answers are model output: not recorded unless content capture is on.
    expect(stage0.attributes["orchestrator.cascade.extracted"]).toBeUndefined();

    // Each stage's model calls: a call span per model, and its CLIENT attempt with the GenAI attributes.
    const modelsUnder = (stage: ReadableSpan) =>
      childrenOf(spans, stage)
        .map((c) => c.attributes["gen_ai.request.model"])
        .sort();
    expect(modelsUnder(stage0)).toEqual(["mixtral", "yi"]);
    expect(modelsUnder(stage1)).toEqual(["gpt-4"]);
    for (const call of [...childrenOf(spans, stage0), ...childrenOf(spans, stage1)]) {
      const [attempt] = childrenOf(spans, call);
      expect(attempt?.kind).toBe(SpanKind.CLIENT);
      expect(attempt?.attributes["gen_ai.response.id"]).toMatch(/^chatcmpl-/);
      expect(attempt?.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
      expect(call.attributes["orchestrator.selection.id"]).toEqual(expect.any(String));
      // The stage span holds its call in time.
      const parent = call.name === "chat gpt-4" ? stage1 : stage0;
      const ns = (x: [number, number]) => x[0] * 1e9 + x[1];
      expect(ns(call.startTime)).toBeGreaterThanOrEqual(ns(parent.startTime));
      expect(ns(call.endTime)).toBeLessThanOrEqual(ns(parent.endTime));
    }

    // The model calls are measured once each, not again as the cascade as a whole.
    const duration = metric(await t.metrics(), "gen_ai.client.operation.duration");
    const points = (duration?.dataPoints ?? []) as { attributes: Record<string, unknown>; value: { count: number } }[];
    const count = (model: string) =>
      points.filter((p) => p.attributes["gen_ai.request.model"] === model).reduce((n, p) => n + p.value.count, 0);
    expect([count("yi"), count("mixtral"), count("gpt-4")]).toEqual([1, 1, 1]);
  });

  it("an accepted first stage: one stage span; streamed, the same; content capture records the extracted answers", async () => {
    const { registry, stop } = setup({ captureContent: true });
    await registry.generate(ask("yi=B mixtral=B"));
    let text = "";
    const stream = registry.stream(ask("yi=A mixtral=D gpt-4=D"));
    for await (const chunk of stream) if (chunk.type === "text") text += chunk.text;
    stop();
    expect(text).toBe("The answer is D.");
    // The instrumented stream still tells the cascade's record, as the registry's own does.
    expect(stream.cascade?.route).toBe("mcq");
    expect(stream.cascade?.stages.length).toBe(2);
    const spans = t.spans();
    const roots = spans.filter((s) => parentOf(s) === undefined).sort((a, b) => a.startTime[1] - b.startTime[1]);
    expect(roots).toHaveLength(2);
    const [accepted, streamed] = roots.sort(
      (a, b) =>
        Number(a.attributes["orchestrator.cascade.stages"]) - Number(b.attributes["orchestrator.cascade.stages"]),
    ) as [ReadableSpan, ReadableSpan];
    expect(accepted.attributes).toMatchObject({
      "orchestrator.cascade.stages": 1,
      "orchestrator.cascade.escalated": false,
      "orchestrator.cascade.accepted": true,
    });
    const [only] = childrenOf(spans, accepted);
    expect(only?.attributes).toMatchObject({
      "orchestrator.cascade.decision": "accepted",
      "orchestrator.cascade.agreeing": 2,
      "orchestrator.cascade.extracted": ["yi: B", "mixtral: B"],
    });
    expect(streamed.attributes["gen_ai.request.stream"]).toBe(true);
    expect(streamed.attributes["orchestrator.cascade.stages"]).toBe(2);
    const final = childrenOf(spans, streamed).find((s) => s.attributes["orchestrator.cascade.stage"] === 1);
    expect(final?.attributes["orchestrator.cascade.decision"]).toBe("final");
    const [streamCall] = childrenOf(spans, final as ReadableSpan);
    expect(streamCall?.attributes["gen_ai.request.model"]).toBe("gpt-4");
    expect(childrenOf(spans, streamCall as ReadableSpan)[0]?.attributes["gen_ai.response.id"]).toMatch(/^chatcmpl-/);
  });
});
