// `@orchestrator-ts/server` as the benchmark runs it until `orchestrator serve` exists: one OpenAI
// model pointing at the loopback upstream, the metrics observer on, no cache (every benchmark
// request is the same prompt, so a cache would answer them all).
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { createMetrics, createServer } from "@orchestrator-ts/server";

const registry = new ModelRegistry();
registry.registerModel(new OpenAIModel({ name: "gpt-4o-mini", apiKey: process.env.UPSTREAM_KEY, baseURL: `${process.env.UPSTREAM_URL}/v1` }));
// ORCH_METRICS=off runs it without the metrics, to measure what they cost.
const metrics = process.env.ORCH_METRICS === "off" ? undefined : createMetrics({ registry });
const server = createServer({ orchestrator: { registry }, port: 0, observers: metrics ? [metrics] : [], extraRoutes: metrics ? [metrics.route] : [] });
await server.listen();
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
