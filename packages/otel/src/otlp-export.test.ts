import { type IncomingMessage, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { startOpenAIServer } from "@orchestrator-ts/testing";
import { expect, it } from "vitest";
import { instrument } from "./index";

const KEY = "sk-otlp-test-0123456789abcdef";

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface OtlpRequest {
  resourceSpans: { scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[] }[];
}

function value(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map(value);
  return undefined;
}

async function body(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

it("exports the spans over OTLP/HTTP to a collector: the receiver decodes GenAI call and attempt spans", async () => {
  // A minimal OTLP/HTTP receiver: what a collector (Jaeger, Tempo, Honeycomb…) is sent.
  const received: { path: string; contentType: string | undefined; request: OtlpRequest }[] = [];
  const receiver = createServer(async (req, res) => {
    const text = await body(req);
    received.push({
      path: req.url ?? "",
      contentType: req.headers["content-type"],
      request: JSON.parse(text) as OtlpRequest,
    });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const server = await startOpenAIServer({ apiKey: KEY });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  try {
    const registry = new ModelRegistry({ backoff: { initialMs: 1, maxMs: 5 } });
    registry.registerModel(new OpenAIModel({ name: "gpt-4o-mini", apiKey: KEY, baseURL: server.baseURL }));
    const stop = instrument(registry, { tracerProvider });
    server.enqueueFault({ type: "status", status: 500 });
    const result = await registry.generate({
      messages: [{ role: "user", content: "ship these spans" }],
      maxTokens: 20,
    });
    stop();
    await tracerProvider.forceFlush();

    expect(received.length).toBeGreaterThan(0);
    expect(received.every((r) => r.path === "/v1/traces" && r.contentType === "application/json")).toBe(true);
    const spans = received.flatMap((r) =>
      r.request.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.filter((s) => s.scope.name === "@orchestrator-ts/otel").flatMap((s) => s.spans),
      ),
    );
    expect(spans).toHaveLength(3);
    const attrs = (s: OtlpSpan) => Object.fromEntries(s.attributes.map((a) => [a.key, value(a.value)]));
    const call = spans.find((s) => attrs(s)["orchestrator.attempts"] !== undefined) as OtlpSpan;
    expect(call.name).toBe("chat gpt-4o-mini");
    expect(attrs(call)).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.request.max_tokens": 20,
      "gen_ai.usage.output_tokens": result.usage.outputTokens,
      "gen_ai.response.finish_reasons": ["stop"],
      "orchestrator.selection.id": result.selectionId,
      "orchestrator.attempts": 2,
    });
    const attempts = spans.filter((s) => s.parentSpanId === call.spanId);
    expect(attempts.map((s) => [attrs(s)["orchestrator.attempt.kind"], attrs(s)["error.type"] ?? null]).sort()).toEqual(
      [
        ["first", "provider_error"],
        ["retry", null],
      ],
    );
    // SpanKind CLIENT is 3 in OTLP (SPAN_KIND_CLIENT).
    expect(attempts.every((s) => s.kind === 3 && s.traceId === call.traceId)).toBe(true);
    expect(JSON.stringify(received)).not.toContain(KEY);
  } finally {
    await tracerProvider.shutdown();
    context.disable();
    await server.close();
    await new Promise((resolve) => receiver.close(resolve));
  }
});
