// What tracing costs on the hot path: registry.generate/stream with and without instrument(),
// first with no OpenTelemetry SDK registered (the API's no-op: the budget is ≤ 2% of
// OpenAIModel.generate), then with the real SDK (sdk-trace-base + an in-memory exporter, and
// sdk-metrics with a pull reader), all against one loopback server in a child process.
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { instrument } from "@orchestrator-ts/otel";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { FakeModel } from "@orchestrator-ts/testing";
import { type CaseResult, compare } from "../harness";
import { startServerProcess } from "../server-process";

const KEY = "sk-bench-0000000000000000";
const MODEL = "gpt-4o-mini";

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export async function otelCase(options: { iterations: number; streamIterations: number }): Promise<CaseResult[]> {
  const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
  const server = await startServerProcess("startOpenAIServer", { apiKey: KEY });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  try {
    const baseURL = `${server.url}/v1`;
    const make = () => {
      const registry = new ModelRegistry();
      registry.registerModel(new OpenAIModel({ name: MODEL, apiKey: KEY, baseURL }));
      return registry;
    };
    const model = new OpenAIModel({ name: MODEL, apiKey: KEY, baseURL });
    const plain = make();
    // No SDK registered anywhere: the global providers are the API's no-ops.
    const noSdk = make();
    instrument(noSdk);
    const traced = make();
    instrument(traced, { tracerProvider });
    const tracedAndMeasured = make();
    instrument(tracedAndMeasured, { tracerProvider, meterProvider });
    const messages = [{ role: "user" as const, content: "Summarise the benefits of caching in two sentences." }];
    const streamMessages = [{ role: "user" as const, content: answer }];
    // The in-memory exporter keeps every span: empty it now and then so memory stays flat.
    let calls = 0;
    const drain = () => {
      if (++calls % 500 === 0) exporter.reset();
    };

    const generate = await compare(
      "otel-generate",
      [
        { name: "OpenAIModel.generate", run: () => model.generate({ messages }) },
        { name: "ModelRegistry.generate", run: () => plain.generate({ messages }) },
        { name: "ModelRegistry.generate + instrument(), no SDK", run: () => noSdk.generate({ messages }) },
        {
          name: "… + instrument(), sdk-trace-base + in-memory exporter",
          run: () => traced.generate({ messages }).finally(drain),
        },
        {
          name: "… + instrument(), traces + sdk-metrics",
          run: () => tracedAndMeasured.generate({ messages }).finally(drain),
        },
      ],
      {
        iterations: options.iterations,
        rounds: 40,
        notes:
          "One non-streaming call per iteration against a loopback OpenAI-compatible server (child process); 40 interleaved rounds. Ratios are to OpenAIModel.generate.",
      },
    );

    const whole = async (stream: AsyncIterable<unknown>) => {
      for await (const _ of stream);
    };
    const streamed = await compare(
      "otel-stream",
      [
        { name: "ModelRegistry.stream", run: () => whole(plain.stream({ messages: streamMessages })) },
        {
          name: "ModelRegistry.stream + instrument(), no SDK",
          run: () => whole(noSdk.stream({ messages: streamMessages })),
        },
        {
          name: "… + instrument(), sdk-trace-base + in-memory exporter",
          run: () => whole(traced.stream({ messages: streamMessages })).finally(drain),
        },
        {
          name: "… + instrument(), traces + sdk-metrics",
          run: () => whole(tracedAndMeasured.stream({ messages: streamMessages })).finally(drain),
        },
      ],
      {
        iterations: options.streamIterations,
        rounds: 30,
        notes: "A whole 40-chunk SSE stream per iteration; ratios are to the uninstrumented registry stream.",
      },
    );
    // The instrumentation alone: an in-process model that answers at once, so the difference
    // between contenders is what instrument() adds per call, in µs, free of the network's noise.
    const inProcess = (traced?: Parameters<typeof instrument>[1]) => {
      const registry = new ModelRegistry();
      registry.registerModel(new FakeModel({ name: "fake", latencyMs: 0 }));
      if (traced) instrument(registry, traced);
      return registry;
    };
    const bare = inProcess();
    const bareNoSdk = inProcess({});
    const bareTraced = inProcess({ tracerProvider });
    const bareAll = inProcess({ tracerProvider, meterProvider });
    const overhead = await compare(
      "otel-overhead",
      [
        { name: "ModelRegistry.generate (in-process model)", run: () => bare.generate({ messages }) },
        { name: "+ instrument(), no SDK", run: () => bareNoSdk.generate({ messages }) },
        {
          name: "+ instrument(), sdk-trace-base + in-memory exporter",
          run: () => bareTraced.generate({ messages }).finally(drain),
        },
        { name: "+ instrument(), traces + sdk-metrics", run: () => bareAll.generate({ messages }).finally(drain) },
      ],
      {
        iterations: options.iterations * 5,
        rounds: 40,
        notes:
          "registry.generate on an in-process model that answers at once: the differences are the instrumentation's own cost per call.",
      },
    );
    const us = (r: CaseResult, i: number) => r.results[i]?.medianUs ?? Number.NaN;
    const cpu = (r: CaseResult, i: number) => r.results[i]?.cpuUsPerCall ?? Number.NaN;
    const openaiUs = us(generate, 0);
    const openaiCpu = cpu(generate, 0);
    overhead.extra = {
      openaiModelGenerateMedianUs: openaiUs,
      openaiModelGenerateCpuUs: openaiCpu,
      noSdkAddedMedianUs: us(overhead, 1) - us(overhead, 0),
      noSdkAddedCpuUs: cpu(overhead, 1) - cpu(overhead, 0),
      noSdkShareOfOpenAIModelGenerate: (us(overhead, 1) - us(overhead, 0)) / openaiUs,
      noSdkCpuShareOfOpenAIModelGenerate: (cpu(overhead, 1) - cpu(overhead, 0)) / openaiCpu,
      sdkAddedMedianUs: us(overhead, 2) - us(overhead, 0),
      sdkAddedCpuUs: cpu(overhead, 2) - cpu(overhead, 0),
      sdkWithMetricsAddedCpuUs: cpu(overhead, 3) - cpu(overhead, 0),
      sdkCpuShareOfOpenAIModelGenerate: (cpu(overhead, 2) - cpu(overhead, 0)) / openaiCpu,
    };
    overhead.notes = `${overhead.notes} Against OpenAIModel.generate in this run (median ${openaiUs.toFixed(1)} µs, CPU ${openaiCpu.toFixed(1)} µs/call): no SDK adds ${(us(overhead, 1) - us(overhead, 0)).toFixed(2)} µs median / ${(cpu(overhead, 1) - cpu(overhead, 0)).toFixed(2)} µs CPU per call (${((100 * (cpu(overhead, 1) - cpu(overhead, 0))) / openaiCpu).toFixed(2)}% of its CPU); the SDK with an in-memory exporter adds ${(cpu(overhead, 2) - cpu(overhead, 0)).toFixed(1)} µs CPU (${((100 * (cpu(overhead, 2) - cpu(overhead, 0))) / openaiCpu).toFixed(1)}%), with sdk-metrics too ${(cpu(overhead, 3) - cpu(overhead, 0)).toFixed(1)} µs.`;
    return [generate, streamed, overhead];
  } finally {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    await server.stop();
  }
}
