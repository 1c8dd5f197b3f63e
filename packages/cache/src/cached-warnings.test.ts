import {
  type GenerateRequest,
  Model,
  ModelCapabilities,
  type ModelOutput,
  type StreamChunk,
  type StreamReport,
} from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { ModelCache } from "./model-cache";

// A model that cannot honour `temperature` says so (its warnings); an answer served again from the
// cache was made the same way, so a hit must say it too — whole or streamed, whichever stored it.
const LEFT_OUT = "This model does not support `temperature`; it was ignored.";

class NoTemperatureModel extends Model {
  calls = 0;
  constructor() {
    super({
      name: "no-temperature",
      provider: "custom",
      capabilities: new ModelCapabilities({ textGeneration: true }),
    });
  }
  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    this.calls++;
    return {
      text: `answer to ${String(request.messages[0]?.content)}`,
      ...(request.temperature === undefined ? {} : { warnings: [LEFT_OUT] }),
    };
  }
  protected override async *doStream(
    request: GenerateRequest,
    _control: unknown,
    report: StreamReport,
  ): AsyncIterable<StreamChunk> {
    this.calls++;
    if (request.temperature !== undefined) report.warn(LEFT_OUT);
    yield { type: "text", text: "answer to " };
    yield { type: "text", text: String(request.messages[0]?.content) };
    yield { type: "finish", finishReason: { unified: "stop" } };
  }
}

async function drain(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

const ask = (content: string) => ({ messages: [{ role: "user" as const, content }], temperature: 0.2 });

describe("a cache hit keeps the warnings of the answer it replays", () => {
  it("a streamed answer stored, then streamed again and asked whole: the same warnings, before the first chunk", async () => {
    const model = new NoTemperatureModel();
    model.enableCaching(new ModelCache({ ttlMs: 60_000 }));
    const first = model.stream(ask("streamed"));
    const original = await drain(first);
    expect(first.warnings).toEqual([LEFT_OUT]);
    expect(original.at(-1)).toMatchObject({ type: "finish", warnings: [LEFT_OUT] });

    const again = model.stream(ask("streamed"));
    const iterator = again[Symbol.asyncIterator]();
    const head = await iterator.next();
    expect(head.value).toEqual({ type: "text", text: "answer to " });
    expect(again.warnings).toEqual([LEFT_OUT]);
    const rest: StreamChunk[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(rest.at(-1)).toMatchObject({ type: "finish", cached: true, warnings: [LEFT_OUT] });

    const whole = await model.generate(ask("streamed"));
    expect(whole.cached).toBe(true);
    expect(whole.warnings).toEqual([LEFT_OUT]);
    expect(model.calls).toBe(1);
  });

  it("a whole answer stored, then streamed: the same warnings; an answer without any has none", async () => {
    const model = new NoTemperatureModel();
    model.enableCaching(new ModelCache({ ttlMs: 60_000 }));
    expect((await model.generate(ask("whole"))).warnings).toEqual([LEFT_OUT]);
    const hit = model.stream(ask("whole"));
    const chunks = await drain(hit);
    expect(hit.warnings).toEqual([LEFT_OUT]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", cached: true, warnings: [LEFT_OUT] });

    const plain = { messages: [{ role: "user" as const, content: "no temperature" }] };
    await drain(model.stream(plain));
    const quiet = model.stream(plain);
    const replayed = await drain(quiet);
    expect(quiet.warnings).toEqual([]);
    expect((replayed.at(-1) as { warnings?: string[] }).warnings).toBeUndefined();
    expect(model.calls).toBe(2);
  });
});
