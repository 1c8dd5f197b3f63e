// A stream's warnings: what a provider reports while it builds its request (StreamReport.warn) is on
// the stream object by the first chunk and on the base's finish chunk, as generate() has them.
import { describe, expect, it } from "vitest";
import {
  type Cache,
  type CallControl,
  type GenerateRequest,
  type GenerateResult,
  Model,
  type ModelIdentity,
  type ModelOutput,
  type StreamChunk,
  type StreamReport,
  providerStream,
} from "./index";
import { rewrapStream } from "./internal";

const TEMPERATURE = "temperature is not supported by this model and was left out.";
const LATE = "the answer was cut to fit.";
const REQUEST: GenerateRequest = { messages: [{ role: "user", content: "hi" }], temperature: 0.5 };

/** Warns about `temperature` as it builds its request (an async generator), and about nothing else. */
class WarningModel extends Model {
  constructor(name = "warns") {
    super({ name, provider: "custom", capabilities: { supportsStreaming: true } });
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "ok" };
  }
  protected override async *doStream(
    request: GenerateRequest,
    _control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    if (request.temperature !== undefined) report.warn(TEMPERATURE);
    yield { type: "text", text: "a" };
    yield { type: "text", text: "b" };
    yield { type: "finish", finishReason: { unified: "stop" } };
  }
}

/** A providerStream (the hand-written iterator the built-in providers use): warns in `open`, and once more on its finish chunk. */
class ProviderStreamModel extends Model {
  protected override readonly honoursAbortSignal = true;
  constructor() {
    super({ name: "driven", provider: "custom", capabilities: { supportsStreaming: true } });
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "ok" };
  }
  protected override doStream(
    request: GenerateRequest,
    _control: CallControl | undefined,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    return providerStream<string>(
      () => {
        if (request.temperature !== undefined) report.warn(TEMPERATURE);
        return (async function* () {
          yield "x";
          yield "y";
        })();
      },
      (event, out) => {
        out.push({ type: "text", text: event });
      },
      (out) => {
        out.push({ type: "finish", finishReason: { unified: "length" }, warnings: [LATE] });
      },
    );
  }
}

/** No doStream: stream() is generate's answer as one chunk, and generate's warnings come with it. */
class GenerateOnlyModel extends Model {
  constructor() {
    super({ name: "whole", provider: "custom" });
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "whole answer", warnings: [TEMPERATURE] };
  }
}

/** The smallest cache: stores a completed stream's chunks by prompt, replays them on a hit. */
class ReplayCache implements Cache {
  readonly entries = new Map<string, StreamChunk[]>();
  generate(_m: ModelIdentity, _r: GenerateRequest, call: () => Promise<GenerateResult>): Promise<GenerateResult> {
    return call();
  }
  async *stream(_m: ModelIdentity, request: GenerateRequest, call: () => AsyncIterable<StreamChunk>) {
    const key = JSON.stringify(request.messages);
    const hit = this.entries.get(key);
    if (hit) {
      for (const chunk of hit) yield chunk.type === "finish" ? { type: "finish" as const, cached: true } : chunk;
      return;
    }
    const seen: StreamChunk[] = [];
    for await (const chunk of call()) {
      seen.push(chunk);
      yield chunk;
    }
    this.entries.set(key, seen);
  }
}

async function drain(stream: AsyncIterable<StreamChunk>) {
  const chunks: StreamChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks, finish: chunks.at(-1) as Extract<StreamChunk, { type: "finish" }> };
}

describe("a stream's warnings", () => {
  it("a warning reported as the request is built is on the stream by its first chunk, and on the finish chunk", async () => {
    const stream = new WarningModel().stream(REQUEST);
    expect(stream.warnings).toEqual([]);
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toEqual({ type: "text", text: "a" });
    expect(stream.warnings).toEqual([TEMPERATURE]);
    const rest: StreamChunk[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(rest.at(-1)).toMatchObject({ type: "finish", warnings: [TEMPERATURE], cached: false });
    expect(stream.warnings).toEqual([TEMPERATURE]);
  });

  it("a call without warnings has none: an empty list, and no `warnings` on its finish chunk", async () => {
    const stream = new WarningModel().stream({ messages: REQUEST.messages });
    const { finish } = await drain(stream);
    expect(finish.type).toBe("finish");
    expect("warnings" in finish).toBe(false);
    expect(stream.warnings).toEqual([]);
  });

  it("a providerStream warns in open (known by the first chunk); a provider's finish chunk adds the late ones", async () => {
    const stream = new ProviderStreamModel().stream(REQUEST);
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    expect(stream.warnings).toEqual([TEMPERATURE]);
    const rest: StreamChunk[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(rest.at(-1)).toMatchObject({
      type: "finish",
      finishReason: { unified: "length" },
      warnings: [TEMPERATURE, LATE],
    });
    expect(stream.warnings).toEqual([TEMPERATURE, LATE]);
  });

  it("each call has its own warnings: a call without them does not see another's", async () => {
    const model = new WarningModel();
    const warned = model.stream(REQUEST);
    const plain = model.stream({ messages: REQUEST.messages });
    const [a, b] = await Promise.all([drain(warned), drain(plain)]);
    expect(a.finish.warnings).toEqual([TEMPERATURE]);
    expect(b.finish.warnings).toBeUndefined();
    expect(plain.warnings).toEqual([]);
  });

  it("a model without doStream streams generate's warnings with its one chunk", async () => {
    const stream = new GenerateOnlyModel().stream(REQUEST);
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ type: "text", text: "whole answer" });
    expect(stream.warnings).toEqual([TEMPERATURE]);
    expect((await iterator.next()).value).toMatchObject({ type: "finish", warnings: [TEMPERATURE] });
  });

  it("through a cache: a miss has the model's warnings by its first chunk; a hit invents none", async () => {
    const model = new WarningModel();
    model.enableCaching(new ReplayCache());
    const miss = model.stream(REQUEST);
    const iterator = miss[Symbol.asyncIterator]();
    await iterator.next();
    expect(miss.warnings).toEqual([TEMPERATURE]);
    while (!(await iterator.next()).done);
    const hit = model.stream(REQUEST);
    const { finish } = await drain(hit);
    expect(finish.cached).toBe(true);
    expect(hit.warnings).toEqual([]);
  });

  it("a rewrapped registry stream (telemetry, the decision feed) passes its inner stream's warnings on", () => {
    const model = new WarningModel().stream(REQUEST);
    const inner = {
      selectionId: "sel_1",
      explanation: undefined,
      attempts: [],
      warnings: ["from the inner stream"],
      [Symbol.asyncIterator]: () => model[Symbol.asyncIterator](),
    };
    const wrapped = rewrapStream(inner, () => inner[Symbol.asyncIterator]());
    expect(wrapped.warnings).toEqual(["from the inner stream"]);
  });
});
