import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ModelCache } from "@orchestrator-ts/cache";
import { ModelHealthMonitor } from "@orchestrator-ts/health";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry, type RegistryResult } from "@orchestrator-ts/registry";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../contract";
import { type GatewayMetrics, createMetrics } from "./metrics";

// A real registry over two OpenAI models served by the loopback OpenAI server, with a real cache
// and circuit breaker; the metrics are scraped over HTTP and the exposition text parsed.

const UPSTREAM_KEY = "sk-upstream-secret-4242424242";
const VIRTUAL_KEY = "sk-orch-virtual-9f8e7d6c5b4a";
const PROMPT_MARKER = "confidential-prompt-text-xyz";

/** `name{a="1",b="2"}` → value, labels sorted by name; HELP/TYPE lines skipped. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map((l) => `${l[1]}="${l[2]}"`)
      .sort();
    out.set(`${m[1]}{${labels.join(",")}}`, Number(m[3]));
  }
  return out;
}

const series = (name: string, labels: Record<string, string> = {}) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",")}}`;

describe("createMetrics", () => {
  let upstream: OpenAIServer;
  let registry: ModelRegistry;
  let metrics: GatewayMetrics;
  let server: Server;
  let url: string;

  const scrape = async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    return { text, values: parseExposition(text) };
  };
  const value = (values: Map<string, number>, name: string, labels: Record<string, string> = {}) =>
    values.get(series(name, labels)) ?? 0;

  // What the HTTP front reports for a finished chat completion.
  const recordOf = (result: RegistryResult, startedAt: number, extra: Partial<RequestRecord> = {}): RequestRecord => ({
    endpoint: "openai.chat",
    status: 200,
    requested: result.model,
    model: result.model,
    stream: false,
    latencyMs: performance.now() - startedAt,
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
    costUsd: result.costUsd,
    cached: result.cached,
    keyId: "key_01HZX",
    keyName: "team-search",
    user: "alice@example.com",
    ...extra,
  });

  beforeAll(async () => {
    upstream = await startOpenAIServer({ apiKey: UPSTREAM_KEY });
    const baseURL = `${upstream.url}/v1`;
    const capabilities = { textGeneration: true, inputCostPerToken: 0.000_01, outputCostPerToken: 0.000_03 };
    registry = new ModelRegistry({
      maxRetries: 0,
      maxFallbacks: 0,
      cache: new ModelCache({ ttlMs: 60_000 }),
      healthMonitor: new ModelHealthMonitor({ failureThreshold: 2, cooldownMs: 600_000, checkIntervalMs: 600_000 }),
    });
    registry.registerModel(
      new OpenAIModel({ name: "alpha", model: "gpt-4o-mini", apiKey: UPSTREAM_KEY, baseURL, capabilities }),
    );
    registry.registerModel(
      new OpenAIModel({ name: "beta", model: "gpt-4o", apiKey: UPSTREAM_KEY, baseURL, capabilities }),
    );
    metrics = createMetrics({ registry });
    server = createServer((req, res) => {
      if (req.method === metrics.route.method && req.url === metrics.route.path) void metrics.route.handle(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });

  afterAll(async () => {
    metrics?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await registry?.cleanup();
    await upstream?.close();
  });

  it("counts requests, tokens, cost, cache, selections and per-key spend as calls happen", async () => {
    const before = await scrape();
    expect(
      value(before.values, "orchestrator_requests_total", { endpoint: "openai.chat", status: "200", model: "alpha" }),
    ).toBe(0);
    // Every model's circuit and health is there before any request.
    expect(value(before.values, "orchestrator_model_circuit_state", { model: "beta" })).toBe(0);
    expect(value(before.values, "orchestrator_model_available", { model: "beta" })).toBe(1);

    const messages = [{ role: "user" as const, content: `${PROMPT_MARKER}: say hello` }];
    let t0 = performance.now();
    const first = await registry.generate({ messages, route: "alpha" });
    metrics.onRequest(recordOf(first, t0));
    t0 = performance.now();
    const again = await registry.generate({ messages, route: "alpha" });
    expect(again.cached).toBe(true);
    metrics.onRequest(recordOf(again, t0));

    const after = await scrape();
    const v = (name: string, labels?: Record<string, string>) => value(after.values, name, labels);
    expect(v("orchestrator_requests_total", { endpoint: "openai.chat", status: "200", model: "alpha" })).toBe(2);
    expect(v("orchestrator_selections_total", { model: "alpha", fallback: "false" })).toBe(2);
    // The cache answered the second call: one call reached the model.
    expect(v("orchestrator_model_attempts_total", { model: "alpha", result: "success" })).toBe(1);
    expect(v("orchestrator_cache_misses_total", { model: "alpha" })).toBe(1);
    expect(v("orchestrator_cache_hits_total", { model: "alpha" })).toBe(1);
    const inputTokens = (first.usage.inputTokens ?? 0) + (again.usage.inputTokens ?? 0);
    expect(first.usage.inputTokens).toBeGreaterThan(0);
    expect(v("orchestrator_tokens_total", { model: "alpha", direction: "input" })).toBe(inputTokens);
    expect(v("orchestrator_tokens_total", { model: "alpha", direction: "output" })).toBe(
      (first.usage.outputTokens ?? 0) + (again.usage.outputTokens ?? 0),
    );
    const spent = (first.costUsd ?? 0) + (again.costUsd ?? 0);
    expect(first.costUsd).toBeGreaterThan(0);
    expect(v("orchestrator_cost_usd_total", { model: "alpha" })).toBeCloseTo(spent, 12);
    expect(v("orchestrator_key_spend_usd_total", { key_name: "team-search" })).toBeCloseTo(spent, 12);
    expect(v("orchestrator_key_requests_total", { key_name: "team-search" })).toBe(2);
    expect(v("orchestrator_request_duration_seconds_count", { endpoint: "openai.chat", stream: "false" })).toBe(2);
    expect(
      v("orchestrator_request_duration_seconds_bucket", { endpoint: "openai.chat", stream: "false", le: "+Inf" }),
    ).toBe(2);
    expect(v("orchestrator_model_call_duration_seconds_count", { model: "alpha" })).toBeGreaterThanOrEqual(1);
    // Process metrics come with it.
    expect(after.values.has(series("process_cpu_user_seconds_total"))).toBe(true);

    // Feedback closes the loop and shows up per model.
    expect(registry.recordFeedback(first.selectionId, { quality: 0.75 })).toBe(true);
    const fed = await scrape();
    expect(value(fed.values, "orchestrator_feedback_quality_count", { model: "alpha" })).toBe(1);
    expect(value(fed.values, "orchestrator_feedback_quality_sum", { model: "alpha" })).toBeCloseTo(0.75, 9);
  });

  it("observes a stream's time to first chunk", async () => {
    const t0 = performance.now();
    let firstChunkMs: number | undefined;
    let finish: { model?: string; usage?: { inputTokens?: number; outputTokens?: number }; costUsd?: number } = {};
    for await (const chunk of registry.stream({
      messages: [{ role: "user", content: "one two three four five" }],
      route: "beta",
    })) {
      if (chunk.type === "text" && firstChunkMs === undefined) firstChunkMs = performance.now() - t0;
      if (chunk.type === "finish") finish = chunk as typeof finish;
    }
    expect(firstChunkMs).toBeGreaterThan(0);
    metrics.onRequest({
      endpoint: "openai.chat",
      status: 200,
      model: "beta",
      stream: true,
      latencyMs: performance.now() - t0,
      timeToFirstChunkMs: firstChunkMs,
      inputTokens: finish.usage?.inputTokens,
      outputTokens: finish.usage?.outputTokens,
      costUsd: finish.costUsd,
      cached: false,
    });
    const { values } = await scrape();
    expect(
      value(values, "orchestrator_time_to_first_chunk_seconds_count", { endpoint: "openai.chat", model: "beta" }),
    ).toBe(1);
    expect(
      value(values, "orchestrator_time_to_first_chunk_seconds_sum", { endpoint: "openai.chat", model: "beta" }),
    ).toBeCloseTo((firstChunkMs ?? 0) / 1000, 6);
    expect(
      value(values, "orchestrator_request_duration_seconds_count", { endpoint: "openai.chat", stream: "true" }),
    ).toBe(1);
    expect(value(values, "orchestrator_selections_total", { model: "beta", fallback: "false" })).toBe(1);
  });

  it("counts errors by code and shows a model's circuit opening", async () => {
    upstream.enqueueFaults([
      { type: "status", status: 500 },
      { type: "status", status: 500 },
    ]);
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const error = await registry
        .generate({ messages: [{ role: "user", content: `fail ${i}` }], route: "alpha" })
        .then(
          () => undefined,
          (e: unknown) => e as { code: string },
        );
      expect(error?.code).toBe("provider_error");
      metrics.onRequest({
        endpoint: "openai.chat",
        status: 502,
        errorCode: error?.code,
        requested: "alpha",
        stream: false,
        latencyMs: performance.now() - t0,
      });
    }
    // A request that never reached a model (unknown model) still counts, under no model label.
    metrics.onRequest({
      endpoint: "openai.chat",
      status: 404,
      errorCode: "model_not_found",
      requested: "gpt-unknown",
      stream: false,
      latencyMs: 0.4,
    });

    const { values } = await scrape();
    expect(
      value(values, "orchestrator_requests_total", { endpoint: "openai.chat", status: "502", model: "none" }),
    ).toBe(2);
    expect(
      value(values, "orchestrator_request_errors_total", { endpoint: "openai.chat", code: "provider_error" }),
    ).toBe(2);
    expect(
      value(values, "orchestrator_request_errors_total", { endpoint: "openai.chat", code: "model_not_found" }),
    ).toBe(1);
    expect(value(values, "orchestrator_model_attempts_total", { model: "alpha", result: "error" })).toBe(2);
    expect(value(values, "orchestrator_model_errors_total", { model: "alpha", code: "provider_error" })).toBe(2);
    // Two failures in a row open alpha's circuit (failureThreshold 2); beta's stays closed.
    expect(value(values, "orchestrator_model_circuit_state", { model: "alpha" })).toBe(2);
    expect(value(values, "orchestrator_model_available", { model: "alpha" })).toBe(0);
    expect(value(values, "orchestrator_model_health_status", { model: "alpha", status: "unhealthy" })).toBe(1);
    expect(value(values, "orchestrator_model_health_status", { model: "alpha", status: "healthy" })).toBe(0);
    expect(value(values, "orchestrator_model_circuit_state", { model: "beta" })).toBe(0);
    expect(
      value(values, "orchestrator_model_health_changes_total", { model: "alpha", status: "unhealthy" }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("keeps labels to closed sets: no key, key id, user, prompt or unknown model name ever appears", async () => {
    metrics.onRequest({
      endpoint: "openai.chat",
      status: 200,
      requested: "made-up-model-name-123",
      model: "made-up-model-name-123",
      stream: false,
      latencyMs: 3,
      keyId: "key_01HZX",
      keyName: "team-search",
      user: "bob@example.com",
      costUsd: 0.5,
    });
    const { text, values } = await scrape();
    expect(
      value(values, "orchestrator_requests_total", { endpoint: "openai.chat", status: "200", model: "other" }),
    ).toBe(1);
    for (const secret of [
      UPSTREAM_KEY,
      VIRTUAL_KEY,
      "key_01HZX",
      "alice@example.com",
      "bob@example.com",
      PROMPT_MARKER,
      "made-up-model-name-123",
      "gpt-unknown",
    ])
      expect(text).not.toContain(secret);
  });

  it("caps key names so a flood of keys cannot grow the series without bound", async () => {
    const reg = new ModelRegistry();
    const capped = createMetrics({ registry: reg, maxKeys: 3, processMetrics: false });
    for (let i = 0; i < 10; i++)
      capped.onRequest({
        endpoint: "openai.chat",
        status: 200,
        stream: false,
        latencyMs: 1,
        keyId: `id${i}`,
        keyName: `key-${i}`,
        costUsd: 1,
      });
    const values = parseExposition(await capped.scrape());
    expect([0, 1, 2].map((i) => value(values, "orchestrator_key_spend_usd_total", { key_name: `key-${i}` }))).toEqual([
      1, 1, 1,
    ]);
    expect(value(values, "orchestrator_key_spend_usd_total", { key_name: "other" })).toBe(7);
    capped.close();
  });

  it("costs a few microseconds of CPU per request", () => {
    const reg = new ModelRegistry();
    reg.registerModel(new OpenAIModel({ name: "alpha", apiKey: UPSTREAM_KEY, baseURL: "http://127.0.0.1:9/v1" }));
    const m = createMetrics({ registry: reg, processMetrics: false });
    const plain: RequestRecord = {
      endpoint: "openai.chat",
      status: 200,
      requested: "auto",
      model: "alpha",
      stream: false,
      latencyMs: 1.3,
      inputTokens: 12,
      outputTokens: 40,
      costUsd: 0.000_13,
      cached: false,
      keyId: "k1",
      keyName: "team-a",
    };
    const streamed: RequestRecord = { ...plain, stream: true, latencyMs: 9.5, timeToFirstChunkMs: 1.1 };
    for (let i = 0; i < 5_000; i++) m.onRequest(i % 2 ? plain : streamed);
    const n = 50_000;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) m.onRequest(i % 2 ? plain : streamed);
    const used = process.cpuUsage(cpu0);
    const usPerCall = (used.user + used.system) / n;
    process.stdout.write(`metrics onRequest: ${usPerCall.toFixed(2)} µs CPU per request\n`);
    // The gateway's whole budget is ~1,550 µs per request (1.3× a bare proxy); metrics get a sliver.
    expect(usPerCall).toBeLessThan(40);
    m.close();
  });
});
