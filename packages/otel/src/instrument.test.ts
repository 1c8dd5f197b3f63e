import { inspect } from "node:util";
import { SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import { DataPointType, type Histogram } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ModelCache } from "@orchestrator-ts/cache";
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry } from "@orchestrator-ts/registry";
import {
  type AnthropicServer,
  FakeModel,
  type OpenAIServer,
  startAnthropicServer,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DURATION_BUCKETS_S, TOKEN_BUCKETS, instrument } from "./index";
import { metric, telemetry } from "./test-setup";

const OPENAI_KEY = "sk-otel-openai-0123456789abcdef";
const ANTHROPIC_KEY = "sk-ant-otel-0123456789abcdef";
const fast = { backoff: { initialMs: 1, maxMs: 5, jitter: "none" as const } };
const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  messages: [{ role: "user" as const, content }],
  ...extra,
});

let openai: OpenAIServer;
let anthropic: AnthropicServer;
let t: ReturnType<typeof telemetry>;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([
    startOpenAIServer({ apiKey: OPENAI_KEY }),
    startAnthropicServer({ apiKey: ANTHROPIC_KEY }),
  ]);
});
afterAll(async () => {
  await Promise.all([openai.close(), anthropic.close()]);
});
beforeEach(() => {
  t = telemetry();
});
afterEach(async () => {
  await t.close();
});

/** A registry of one Anthropic model on the loopback server, instrumented into this test's telemetry. */
function instrumentedHaiku(): { registry: ModelRegistry; stop: () => void } {
  const registry = new ModelRegistry(fast);
  registry.registerModel(
    new AnthropicModel({
      name: "claude-3-5-haiku-latest",
      apiKey: ANTHROPIC_KEY,
      baseURL: anthropic.baseURL,
      maxRetries: 0,
    } as ConstructorParameters<typeof AnthropicModel>[0]),
  );
  return { registry, stop: instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider }) };
}

function byName(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}
/** A histogram data point's value, failing the test when the point is missing. */
function h(point: { value: unknown } | undefined): Histogram {
  expect(point).toBeDefined();
  return (point as { value: Histogram }).value;
}
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const attemptsOf = (spans: ReadableSpan[], call: ReadableSpan) =>
  spans
    .filter((s) => parentOf(s) === call.spanContext().spanId)
    .sort((a, b) => Number(a.attributes["orchestrator.attempt"]) - Number(b.attributes["orchestrator.attempt"]));
const callSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.attributes["orchestrator.attempts"] !== undefined);

describe("spans of registry calls (real SDK, OpenAIModel and AnthropicModel over the wire)", () => {
  it("a generate call: one call span, one CLIENT attempt span under it, GenAI request/response/usage and orchestrator attributes", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(
      new OpenAIModel({
        name: "gpt-4o-mini",
        apiKey: OPENAI_KEY,
        baseURL: openai.baseURL,
        capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 2e-6 },
      }),
    );
    const stop = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    const result = await registry.generate(ask("hello there", { maxTokens: 50, temperature: 0.2, topP: 0.9, seed: 7 }));
    stop();

    const spans = t.spans();
    expect(spans).toHaveLength(2);
    const [call] = callSpans(spans) as [ReadableSpan];
    expect(call.name).toBe("chat gpt-4o-mini");
    expect(call.kind).toBe(SpanKind.INTERNAL);
    expect(call.status.code).toBe(0);
    expect(call.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.request.max_tokens": 50,
      "gen_ai.request.temperature": 0.2,
      "gen_ai.request.top_p": 0.9,
      "gen_ai.request.seed": 7,
      "gen_ai.response.model": result.model,
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.usage.input_tokens": result.usage.inputTokens,
      "gen_ai.usage.output_tokens": result.usage.outputTokens,
      "orchestrator.selection.id": result.selectionId,
      "orchestrator.selector": result.explanation.selector,
      "orchestrator.selection.candidates": 1,
      "orchestrator.selection.excluded": 0,
      "orchestrator.selection.explored": true,
      "orchestrator.cache.hit": false,
      "orchestrator.cost_usd": result.costUsd,
      "orchestrator.attempts": 1,
    });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(call.attributes["gen_ai.request.stream"]).toBeUndefined();
    const [attempt] = attemptsOf(spans, call) as [ReadableSpan];
    expect(attempt.name).toBe("chat gpt-4o-mini");
    expect(attempt.kind).toBe(SpanKind.CLIENT);
    expect(attempt.attributes).toMatchObject({
      "orchestrator.attempt": 1,
      "orchestrator.attempt.kind": "first",
      "gen_ai.provider.name": "openai",
      "gen_ai.usage.output_tokens": result.usage.outputTokens,
    });
    // The attempt lies within its call.
    const ms = (h: [number, number]) => h[0] * 1e3 + h[1] / 1e6;
    expect(ms(attempt.startTime)).toBeGreaterThanOrEqual(ms(call.startTime) - 1);
    expect(ms(attempt.endTime)).toBeLessThanOrEqual(ms(call.endTime) + 1);
  });

  it("prompt-cache reads and the provider's response id are on the call span", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new OpenAIModel({ name: "gpt-4o-mini", apiKey: OPENAI_KEY, baseURL: openai.baseURL }));
    openai.setReply(() => ({ text: "ok", usage: { inputTokens: 1200, outputTokens: 1, cacheReadInputTokens: 1024 } }));
    const stop = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    try {
      await registry.generate(ask("a long shared prefix"));
    } finally {
      stop();
      openai.setReply(undefined);
    }
    const [call] = callSpans(t.spans()) as [ReadableSpan];
    expect(call.attributes).toMatchObject({
      "gen_ai.usage.input_tokens": 1200,
      "gen_ai.usage.cache_read.input_tokens": 1024,
    });
    // The provider's id of the answer, on the call and on its attempt.
    expect(call.attributes["gen_ai.response.id"]).toMatch(/^chatcmpl-/);
    expect(attemptsOf(t.spans(), call)[0]?.attributes["gen_ai.response.id"]).toBe(
      call.attributes["gen_ai.response.id"],
    );
  });

  it("retries and a fallback are attempt spans: error.type on the failed ones, retry/fallback kinds, one call span", async () => {
    const registry = new ModelRegistry({ ...fast, maxRetries: 1 });
    const other = await startOpenAIServer({ apiKey: OPENAI_KEY });
    try {
      registry.registerModel(
        new OpenAIModel({
          name: "primary",
          model: "gpt-4o-mini",
          apiKey: OPENAI_KEY,
          baseURL: openai.baseURL,
          capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 },
        }),
      );
      registry.registerModel(
        new AnthropicModel({
          name: "claude",
          model: "claude-3-5-haiku-latest",
          apiKey: ANTHROPIC_KEY,
          baseURL: anthropic.baseURL,
          maxRetries: 0,
          capabilities: { inputCostPerToken: 1e-5, outputCostPerToken: 1e-5 },
        } as ConstructorParameters<typeof AnthropicModel>[0]),
      );
      const stop = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
      // Train the selector so "primary" is chosen first, then make it fail twice (a retry, then a fallback).
      await registry.generate(ask("warm up"), { providers: ["openai"] });
      await registry.generate(ask("warm up"), { providers: ["anthropic"] });
      t.exporter.reset();
      const chosen = registry.explainSelection().model?.name as string;
      const failing = chosen === "primary" ? openai : anthropic;
      failing.enqueueFaults([
        { type: "status", status: 500 },
        { type: "status", status: 503 },
      ]);
      const result = await registry.generate(ask("answer after a fallback"));
      stop();
      expect(result.attempts.map((a) => a.next ?? "ok")).toEqual(["retry", "fallback", "ok"]);

      const spans = t.spans();
      const [call] = callSpans(spans) as [ReadableSpan];
      expect(call.attributes["orchestrator.attempts"]).toBe(3);
      expect(call.attributes["orchestrator.fallbacks"]).toBe(1);
      const attempts = attemptsOf(spans, call);
      expect(
        attempts.map((a) => [
          a.attributes["gen_ai.request.model"],
          a.attributes["orchestrator.attempt"],
          a.attributes["orchestrator.attempt.kind"],
          a.attributes["error.type"],
          a.status.code,
        ]),
      ).toEqual([
        [chosen, 1, "first", "provider_error", 2],
        [chosen, 2, "retry", "provider_error", 2],
        [result.model, 3, "fallback", undefined, 0],
      ]);
      expect(call.name).toBe(`chat ${result.model}`);
      expect(call.attributes["gen_ai.provider.name"]).toBe(result.provider);
      // Attempts do not overlap: each starts after the one before it ended.
      for (let i = 1; i < attempts.length; i++) {
        const prev = attempts[i - 1] as ReadableSpan;
        const cur = attempts[i] as ReadableSpan;
        expect(cur.startTime[0] * 1e9 + cur.startTime[1]).toBeGreaterThanOrEqual(
          prev.endTime[0] * 1e9 + prev.endTime[1] - 1e6,
        );
      }
    } finally {
      await other.close();
    }
  });

  it("a failed call: error.type and ERROR status on the call span and on every attempt", async () => {
    const registry = new ModelRegistry({ ...fast, maxRetries: 1, maxFallbacks: 0 });
    registry.registerModel(new OpenAIModel({ name: "gpt-4o-mini", apiKey: OPENAI_KEY, baseURL: openai.baseURL }));
    const stop = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    openai.enqueueFaults([
      { type: "status", status: 429, retryAfterSeconds: 0 },
      { type: "status", status: 429, retryAfterSeconds: 0 },
    ]);
    await expect(registry.generate(ask("x"))).rejects.toMatchObject({ code: "rate_limit_error" });
    stop();
    const spans = t.spans();
    const [call] = callSpans(spans) as [ReadableSpan];
    expect(call.status.code).toBe(2);
    expect(call.attributes).toMatchObject({
      "error.type": "rate_limit_error",
      "orchestrator.attempts": 2,
      "gen_ai.request.model": "gpt-4o-mini",
    });
    expect(
      attemptsOf(spans, call).map((a) => [a.attributes["orchestrator.attempt.kind"], a.attributes["error.type"]]),
    ).toEqual([
      ["first", "rate_limit_error"],
      ["retry", "rate_limit_error"],
    ]);
  });

  it("a stream through AnthropicModel: gen_ai.request.stream, time to first chunk on the span and in the metric", async () => {
    const { registry, stop } = instrumentedHaiku();
    let text = "";
    const began = performance.now();
    let firstAt = 0;
    for await (const chunk of registry.stream(ask("one two three four five"))) {
      if (chunk.type === "text") {
        if (firstAt === 0) firstAt = performance.now() - began;
        text += chunk.text;
      }
    }
    const total = performance.now() - began;
    stop();
    expect(text.length).toBeGreaterThan(0);
    const spans = t.spans();
    const [call] = callSpans(spans) as [ReadableSpan];
    expect(call.attributes).toMatchObject({
      "gen_ai.request.stream": true,
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": "claude-3-5-haiku-latest",
      "orchestrator.attempts": 1,
    });
    const ttfc = call.attributes["gen_ai.response.time_to_first_chunk"] as number;
    expect(ttfc).toBeGreaterThan(0);
    expect(ttfc * 1000).toBeLessThanOrEqual(total);
    expect(attemptsOf(spans, call)).toHaveLength(1);
    const rm = await t.metrics();
    const first = metric(rm, "gen_ai.client.operation.time_to_first_chunk");
    expect(first?.dataPoints).toHaveLength(1);
    expect(h(first?.dataPoints[0]).count).toBe(1);
    expect(first?.dataPoints[0]?.attributes).toMatchObject({
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": "claude-3-5-haiku-latest",
    });
  });

  it("what the model left out (its warnings) is on the call and attempt spans, whole and streamed; nothing when none", async () => {
    const { registry, stop } = instrumentedHaiku();
    await registry.generate(ask("hi", { seed: 7 }));
    for await (const _ of registry.stream(ask("hi there", { seed: 7 }))) {
      // drained
    }
    await registry.generate(ask("no seed"));
    stop();
    const spans = t.spans();
    const calls = callSpans(spans);
    expect(calls).toHaveLength(3);
    const ignored = ["Anthropic does not support `seed`; it was ignored."];
    for (const call of calls.slice(0, 2)) {
      expect(call.attributes["orchestrator.warnings"]).toEqual(ignored);
      expect(attemptsOf(spans, call)[0]?.attributes["orchestrator.warnings"]).toEqual(ignored);
    }
    expect(calls[2]?.attributes["orchestrator.warnings"]).toBeUndefined();
  });

  it("parents correctly under concurrency: each call under the caller's span, each attempt under its call", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new OpenAIModel({ name: "gpt-4o-mini", apiKey: OPENAI_KEY, baseURL: openai.baseURL }));
    registry.registerModel(
      new AnthropicModel({
        name: "claude",
        model: "claude-3-5-haiku-latest",
        apiKey: ANTHROPIC_KEY,
        baseURL: anthropic.baseURL,
        maxRetries: 0,
      } as ConstructorParameters<typeof AnthropicModel>[0]),
    );
    const stop = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    const tracer = t.tracerProvider.getTracer("app");
    openai.enqueueFault({ type: "status", status: 500 });
    const n = 12;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        tracer.startActiveSpan(`request ${i}`, async (parent) => {
          try {
            if (i % 2 === 0) await registry.generate(ask(`q${i}`));
            else for await (const _ of registry.stream(ask(`q${i}`)));
          } finally {
            parent.end();
          }
        }),
      ),
    );
    stop();
    const spans = t.spans();
    for (let i = 0; i < n; i++) {
      const [parent] = byName(spans, `request ${i}`) as [ReadableSpan];
      const calls = spans.filter((s) => parentOf(s) === parent.spanContext().spanId);
      expect(calls).toHaveLength(1);
      const call = calls[0] as ReadableSpan;
      expect(call.attributes["gen_ai.request.stream"]).toBe(i % 2 === 1 ? true : undefined);
      const attempts = attemptsOf(spans, call);
      expect(attempts).toHaveLength(call.attributes["orchestrator.attempts"] as number);
      expect(attempts.every((a) => a.spanContext().traceId === parent.spanContext().traceId)).toBe(true);
    }
    expect(spans.filter((s) => s.attributes["error.type"] === "provider_error")).toHaveLength(1);
  });

  it("message content only when asked (the conventions' opt-in attributes); API keys never", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new OpenAIModel({ name: "gpt-4o-mini", apiKey: OPENAI_KEY, baseURL: openai.baseURL }));
    const request = {
      messages: [
        { role: "system" as const, content: "Be brief." },
        { role: "user" as const, content: "secret question" },
      ],
    };

    const off = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    await registry.generate(request);
    off();
    const plain = t.spans();
    expect(plain.length).toBe(2);
    for (const s of plain) {
      expect(Object.keys(s.attributes).filter((k) => /messages|instructions/.test(k))).toEqual([]);
      expect(JSON.stringify(s.attributes)).not.toContain("secret question");
    }

    t.exporter.reset();
    const on = instrument(registry, {
      tracerProvider: t.tracerProvider,
      meterProvider: t.meterProvider,
      captureContent: true,
    });
    const result = await registry.generate(request);
    for await (const _ of registry.stream(request));
    on();
    const [call, streamed] = callSpans(t.spans()) as [ReadableSpan, ReadableSpan];
    expect(JSON.parse(call.attributes["gen_ai.system_instructions"] as string)).toEqual([
      { type: "text", content: "Be brief." },
    ]);
    expect(JSON.parse(call.attributes["gen_ai.input.messages"] as string)).toEqual([
      { role: "user", parts: [{ type: "text", content: "secret question" }] },
    ]);
    expect(JSON.parse(call.attributes["gen_ai.output.messages"] as string)).toEqual([
      { role: "assistant", parts: [{ type: "text", content: result.text }], finish_reason: "stop" },
    ]);
    expect(JSON.parse(streamed.attributes["gen_ai.output.messages"] as string)[0].parts[0].content).toBe(result.text);

    const everything = [...plain, ...t.spans()]
      .map((s) => `${s.name} ${JSON.stringify(s.attributes)} ${JSON.stringify(s.events)} ${inspect(s, { depth: 6 })}`)
      .join("\n");
    expect(everything).not.toContain(OPENAI_KEY);
    expect(everything).not.toContain(OPENAI_KEY.slice(3, 15));
    const rm = JSON.stringify(await t.metrics());
    expect(rm).not.toContain(OPENAI_KEY);
  });

  it("captured content keeps a model's reasoning as the conventions' reasoning parts, apart from the text (whole and streamed)", async () => {
    anthropic.setReply(() => ({ reasoning: "Think it over.", text: "Done." }));
    const registry = new ModelRegistry(fast);
    registry.registerModel(
      new AnthropicModel({ name: "claude-sonnet-4-6", apiKey: ANTHROPIC_KEY, baseURL: anthropic.baseURL }),
    );
    const on = instrument(registry, {
      tracerProvider: t.tracerProvider,
      meterProvider: t.meterProvider,
      captureContent: true,
    });
    const request = ask("q", {
      maxTokens: 2000,
      providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 1024 } } },
    });
    try {
      await registry.generate(request);
      for await (const _ of registry.stream(request));
    } finally {
      on();
      anthropic.setReply(undefined);
    }
    const expected = [
      {
        role: "assistant",
        parts: [
          { type: "reasoning", content: "Think it over." },
          { type: "text", content: "Done." },
        ],
        finish_reason: "end_turn",
      },
    ];
    for (const span of callSpans(t.spans()))
      expect(JSON.parse(span.attributes["gen_ai.output.messages"] as string)).toEqual(expected);
    expect(callSpans(t.spans())).toHaveLength(2);
  });

  it("a request that is not one rejects as it does without instrument() (never a throw), and its span ends as a failure", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new OpenAIModel({ name: "gpt-4o-mini", apiKey: OPENAI_KEY, baseURL: openai.baseURL }));
    const off = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    try {
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = registry.generate(undefined as never);
      }).not.toThrow();
      await expect(pending).rejects.toThrow();
      const stream = registry.stream({ messages: 5 } as never);
      await expect(stream[Symbol.asyncIterator]().next()).rejects.toThrow();
    } finally {
      off();
    }
    const spans = t.spans();
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.ended).toBe(true);
    }
    expect(spans.map((s) => s.attributes["error.type"])).toContain("invalid_request");
  });

  it("an authentication failure's span names no key", async () => {
    const registry = new ModelRegistry({ ...fast, maxFallbacks: 0 });
    registry.registerModel(
      new OpenAIModel({ name: "gpt-4o-mini", apiKey: "sk-wrong-key-abcdef0123456789", baseURL: openai.baseURL }),
    );
    const stop = instrument(registry, {
      tracerProvider: t.tracerProvider,
      meterProvider: t.meterProvider,
      captureContent: true,
    });
    await expect(registry.generate(ask("x"))).rejects.toMatchObject({ code: "authentication_error" });
    stop();
    const text = t
      .spans()
      .map((s) => `${JSON.stringify(s.attributes)} ${JSON.stringify(s.status)} ${JSON.stringify(s.events)}`)
      .join("\n");
    expect(text).toContain("authentication_error");
    expect(text).not.toContain("sk-wrong-key");
    expect(text).not.toContain("abcdef0123456789");
  });

  it("a cache hit is marked, costs nothing in the metrics, and its tokens are not counted", async () => {
    const registry = new ModelRegistry({ ...fast, cache: new ModelCache({ backend: "memory" }) });
    registry.registerModel(
      new OpenAIModel({
        name: "gpt-4o-mini",
        apiKey: OPENAI_KEY,
        baseURL: openai.baseURL,
        capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 2e-6 },
      }),
    );
    const stop = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    const first = await registry.generate(ask("cache me"));
    const second = await registry.generate(ask("cache me"));
    stop();
    expect(second.cached).toBe(true);
    const [a, b] = callSpans(t.spans()) as [ReadableSpan, ReadableSpan];
    expect(a.attributes["orchestrator.cache.hit"]).toBe(false);
    expect(b.attributes["orchestrator.cache.hit"]).toBe(true);
    const rm = await t.metrics();
    const cost = metric(rm, "orchestrator.client.cost");
    expect(cost?.dataPoints.reduce((s, p) => s + (p.value as number), 0)).toBeCloseTo(first.costUsd as number, 12);
    const tokens = metric(rm, "gen_ai.client.token.usage");
    expect(tokens?.dataPoints.map((p) => (p.value as Histogram).count)).toEqual([1, 1]);
  });
});

describe("metrics", () => {
  it("token usage, duration (the conventions' buckets), cost and selections per model", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(
      new OpenAIModel({
        name: "gpt-4o-mini",
        apiKey: OPENAI_KEY,
        baseURL: openai.baseURL,
        capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 2e-6 },
      }),
    );
    const stop = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await registry.generate(ask(`count ${i} words please`)));
    openai.enqueueFault({ type: "status", status: 500 });
    results.push(await registry.generate(ask("after a retry")));
    stop();
    const rm = await t.metrics();

    const tokens = metric(rm, "gen_ai.client.token.usage");
    expect(tokens?.descriptor.unit).toBe("{token}");
    expect(tokens?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const input = tokens?.dataPoints.find((p) => p.attributes["gen_ai.token.type"] === "input");
    const output = tokens?.dataPoints.find((p) => p.attributes["gen_ai.token.type"] === "output");
    expect(input?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o-mini",
    });
    expect(h(input).buckets.boundaries).toEqual(TOKEN_BUCKETS);
    expect(h(input).sum).toBe(results.reduce((s, r) => s + (r.usage.inputTokens as number), 0));
    expect(h(output).sum).toBe(results.reduce((s, r) => s + (r.usage.outputTokens as number), 0));

    const duration = metric(rm, "gen_ai.client.operation.duration");
    expect(duration?.descriptor.unit).toBe("s");
    const ok = duration?.dataPoints.find((p) => p.attributes["error.type"] === undefined);
    const failed = duration?.dataPoints.find((p) => p.attributes["error.type"] === "provider_error");
    expect(h(ok).count).toBe(4);
    expect(h(ok).buckets.boundaries).toEqual(DURATION_BUCKETS_S);
    expect(h(failed).count).toBe(1);

    const cost = metric(rm, "orchestrator.client.cost");
    expect(cost?.dataPoints[0]?.attributes).toMatchObject({ "gen_ai.request.model": "gpt-4o-mini" });
    expect(cost?.dataPoints[0]?.value).toBeCloseTo(
      results.reduce((s, r) => s + (r.costUsd as number), 0),
      12,
    );

    const selections = metric(rm, "orchestrator.selections");
    expect(selections?.dataPoints.reduce((s, p) => s + (p.value as number), 0)).toBe(4);
    expect(selections?.dataPoints[0]?.attributes).toMatchObject({
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.provider.name": "openai",
      "orchestrator.selection.kind": "first",
    });
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
  });
});

describe("instrument()", () => {
  it("stops: the registry's own methods are back and nothing more is recorded", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new FakeModel({ name: "m" }));
    const stop = instrument(registry, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider });
    expect(registry.generate).not.toBe(ModelRegistry.prototype.generate);
    await registry.generate(ask("x"));
    stop();
    stop();
    expect(Object.hasOwn(registry, "generate")).toBe(false);
    expect(registry.generate).toBe(ModelRegistry.prototype.generate);
    expect(registry.stream).toBe(ModelRegistry.prototype.stream);
    const before = t.spans().length;
    await registry.generate(ask("y"));
    expect(t.spans().length).toBe(before);
    {
      using _scope = instrument(registry, { tracerProvider: t.tracerProvider });
      await registry.generate(ask("z"));
    }
    expect(t.spans().length).toBe(before + 2);
    expect(Object.hasOwn(registry, "generate")).toBe(false);
  });

  it("with no SDK registered, calls pass through untouched and still answer", async () => {
    trace.disable();
    const registry = new ModelRegistry(fast);
    registry.registerModel(new FakeModel({ name: "m" }));
    // Which events instrument() subscribes to: none while nothing records, so the registry builds no payloads.
    const subscribed: string[] = [];
    const on = registry.on.bind(registry);
    (registry as { on: unknown }).on = (event: "call", listener: () => void) => {
      subscribed.push(event);
      return on(event, listener);
    };
    const stop = instrument(registry);
    const result = await registry.generate(ask("x"));
    let chunks = 0;
    for await (const _ of registry.stream(ask("y"))) chunks++;
    stop();
    expect(result.text.length).toBeGreaterThan(0);
    expect(chunks).toBeGreaterThan(1);
    expect(subscribed).toEqual([]);
    // The same registry, traced: it listens from its first recorded call.
    const traced = instrument(registry, { tracerProvider: t.tracerProvider });
    await registry.generate(ask("z"));
    traced();
    expect(subscribed.sort()).toEqual(["call", "cascade", "outcome", "selection"]);
    expect(context.active()).toBe(context.active());
  });

  it("streams dropped unfinished are let go past maxCallsInFlight: memory stays bounded", async () => {
    const registry = new ModelRegistry(fast);
    registry.registerModel(new FakeModel({ name: "m" }));
    const stop = instrument(registry, { tracerProvider: t.tracerProvider, maxCallsInFlight: 20 });
    for (let i = 0; i < 21; i++) {
      const it = registry.stream(ask(`q${i}`))[Symbol.asyncIterator]();
      await it.next(); // started, then dropped: never finished, never returned
    }
    stop();
    const abandoned = t.spans().filter((s) => s.attributes["orchestrator.abandoned"] === true);
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]?.attributes["gen_ai.request.stream"]).toBe(true);
  });

  it("a listener's failure or a model error inside a stream still ends the call span with the typed error", async () => {
    const registry = new ModelRegistry({ ...fast, maxRetries: 0, maxFallbacks: 0 });
    const model = registry.registerModel(new FakeModel({ name: "m" }));
    model.enqueue({ fail: "server-error" });
    const stop = instrument(registry, { tracerProvider: t.tracerProvider });
    await expect(
      (async () => {
        for await (const _ of registry.stream(ask("x")));
      })(),
    ).rejects.toMatchObject({ code: "provider_error" });
    stop();
    const [call] = callSpans(t.spans()) as [ReadableSpan];
    expect(call.status.code).toBe(2);
    expect(call.attributes["error.type"]).toBe("provider_error");
  });
});
