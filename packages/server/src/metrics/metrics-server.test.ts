import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OrchestratorServer, createServer } from "../server";
import { type GatewayMetrics, createMetrics } from "./metrics";

// The metrics plugged into the real HTTP front: the official OpenAI SDK calls the gateway, which
// routes to the loopback OpenAI server; GET /metrics on the same server reflects those calls.

const UPSTREAM_KEY = "sk-upstream-metrics-1234567890";
const CLIENT_KEY = "sk-client-metrics-0987654321";

function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const inner = line.slice(name.length).match(/^\{(.*)\} /)?.[1] ?? "";
    const have = inner === "" ? [] : inner.split(/,(?=[a-z_]+=")/);
    if (have.length === want.length && want.every((w) => have.includes(w)))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

describe("GET /metrics on the gateway", () => {
  let upstream: OpenAIServer;
  let registry: ModelRegistry;
  let metrics: GatewayMetrics;
  let server: OrchestratorServer;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startOpenAIServer({ apiKey: UPSTREAM_KEY });
    registry = new ModelRegistry({ maxRetries: 0 });
    registry.registerModel(
      new OpenAIModel({
        name: "gpt-4o-mini",
        apiKey: UPSTREAM_KEY,
        baseURL: `${upstream.url}/v1`,
        capabilities: { textGeneration: true, inputCostPerToken: 0.000_001, outputCostPerToken: 0.000_002 },
      }),
    );
    metrics = createMetrics({ registry });
    server = createServer({ orchestrator: { registry }, port: 0, observers: [metrics], extraRoutes: [metrics.route] });
    await server.listen();
    client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    metrics?.close();
    await server?.close();
    await registry?.cleanup();
    await upstream?.close();
  });

  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    return res.text();
  };

  it("moves as plain calls, streams and failures go through the gateway", async () => {
    const before = await scrape();
    expect(
      sample(before, "orchestrator_requests_total", { endpoint: "openai.chat", status: "200", model: "gpt-4o-mini" }),
    ).toBe(0);

    const plain = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hello metrics" }],
    });
    const stream = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "one two three four" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) {
      // drain
    }
    const missing = await client.chat.completions
      .create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })
      .then(
        () => undefined,
        (e: { status: number }) => e,
      );
    expect(missing?.status).toBe(404);

    const after = await scrape();
    expect(
      sample(after, "orchestrator_requests_total", { endpoint: "openai.chat", status: "200", model: "gpt-4o-mini" }),
    ).toBe(2);
    expect(
      sample(after, "orchestrator_requests_total", { endpoint: "openai.chat", status: "404", model: "none" }),
    ).toBe(1);
    expect(
      sample(after, "orchestrator_request_errors_total", { endpoint: "openai.chat", code: "model_not_found" }),
    ).toBe(1);
    expect(sample(after, "orchestrator_selections_total", { model: "gpt-4o-mini", fallback: "false" })).toBe(2);
    expect(
      sample(after, "orchestrator_request_duration_seconds_count", { endpoint: "openai.chat", stream: "false" }),
    ).toBe(2);
    expect(
      sample(after, "orchestrator_request_duration_seconds_count", { endpoint: "openai.chat", stream: "true" }),
    ).toBe(1);
    expect(
      sample(after, "orchestrator_time_to_first_chunk_seconds_count", {
        endpoint: "openai.chat",
        model: "gpt-4o-mini",
      }),
    ).toBe(1);
    expect(
      sample(after, "orchestrator_tokens_total", { model: "gpt-4o-mini", direction: "input" }),
    ).toBeGreaterThanOrEqual(plain.usage?.prompt_tokens ?? 1);
    expect(sample(after, "orchestrator_cost_usd_total", { model: "gpt-4o-mini" })).toBeGreaterThan(0);
    for (const secret of [UPSTREAM_KEY, CLIENT_KEY, "hello metrics", "no-such-model"])
      expect(after).not.toContain(secret);
  });
});
