import { type Counter, type Histogram, type Meter, createNoopMeter } from "@opentelemetry/api";

/** Bucket boundaries the conventions give for `gen_ai.client.operation.duration` and time to first chunk, seconds. */
export const DURATION_BUCKETS_S: readonly number[] = Object.freeze([
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
]);
/** Bucket boundaries the conventions give for `gen_ai.client.token.usage`. */
export const TOKEN_BUCKETS: readonly number[] = Object.freeze([
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
]);

export interface Instruments {
  tokens: Histogram;
  duration: Histogram;
  firstChunk: Histogram;
  cost: Counter;
  selections: Counter;
}

export const NOOP_HISTOGRAM = createNoopMeter().createHistogram("noop").constructor;

/** The GenAI client metrics of the conventions, plus cost and selections. */
export function createInstruments(meter: Meter): Instruments {
  return {
    tokens: meter.createHistogram("gen_ai.client.token.usage", {
      unit: "{token}",
      description: "Number of input and output tokens used.",
      advice: { explicitBucketBoundaries: [...TOKEN_BUCKETS] },
    }),
    duration: meter.createHistogram("gen_ai.client.operation.duration", {
      unit: "s",
      description: "GenAI operation duration.",
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_S] },
    }),
    firstChunk: meter.createHistogram("gen_ai.client.operation.time_to_first_chunk", {
      unit: "s",
      description: "Time to receive the first chunk of a streamed answer, from the call.",
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_S] },
    }),
    cost: meter.createCounter("orchestrator.client.cost", {
      unit: "{USD}",
      description: "Cost of answered calls in US dollars, by model.",
    }),
    selections: meter.createCounter("orchestrator.selections", {
      unit: "{selection}",
      description: "Models chosen by the registry's selector, by model.",
    }),
  };
}
