import { describe, expect, it } from "vitest";
import {
  type GenerateRequest,
  Model,
  type ModelOutput,
  ProviderError,
  type StreamChunk,
  providerStream,
} from "./index";

/** A provider stream of raw events, recording whether it was stopped early. */
function events(list: string[], options: { failAt?: number } = {}) {
  const state = { returned: false, pulled: 0 };
  const iterable: AsyncIterable<string> = {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        async next() {
          state.pulled++;
          await new Promise((r) => setTimeout(r, 1));
          if (options.failAt === i) throw new Error("socket reset");
          return i < list.length ? { done: false, value: list[i++] as string } : { done: true, value: undefined };
        },
        async return() {
          state.returned = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { iterable, state };
}

class EventModel extends Model {
  protected override readonly honoursAbortSignal: boolean;
  constructor(
    readonly source: () => AsyncIterable<StreamChunk>,
    honours = true,
  ) {
    super({ name: "events", provider: "custom", capabilities: { supportsStreaming: true } });
    this.honoursAbortSignal = honours;
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "" };
  }
  protected override doStream(_request: GenerateRequest): AsyncIterable<StreamChunk> {
    return this.source();
  }
}

const request = { messages: [{ role: "user" as const, content: "q" }] };

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

describe("providerStream", () => {
  it("maps each event to zero or more chunks, opens lazily and ends with what `end` pushes", async () => {
    const { iterable, state } = events(["a", "", "bc"]);
    let opened = 0;
    const stream = providerStream(
      () => {
        opened++;
        return Promise.resolve(iterable);
      },
      (e, out) => {
        for (const ch of e) out.push({ type: "text", text: ch });
      },
      (out) => out.push({ type: "finish", finishReason: { unified: "stop" } }),
    );
    expect(opened).toBe(0);
    const chunks = await collect(stream);
    expect(opened).toBe(1);
    expect(chunks).toEqual([
      { type: "text", text: "a" },
      { type: "text", text: "b" },
      { type: "text", text: "c" },
      { type: "finish", finishReason: { unified: "stop" } },
    ]);
    expect(state.returned).toBe(false);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("stops the provider's stream when the consumer leaves early, and when mapping throws", async () => {
    const early = events(["a", "b", "c"]);
    for await (const _ of providerStream(
      () => early.iterable,
      (e, out) => out.push({ type: "text", text: e }),
    ))
      break;
    expect(early.state.returned).toBe(true);

    const bad = events(["a", "b"]);
    const failing = providerStream(
      () => bad.iterable,
      (e, out) => {
        if (e === "b") throw new Error("unparseable");
        out.push({ type: "text", text: e });
      },
    );
    await expect(collect(failing)).rejects.toThrow("unparseable");
    expect(bad.state.returned).toBe(true);
  });

  it("rejects with the provider's error and with what `end` throws", async () => {
    const broken = events(["a", "b"], { failAt: 1 });
    await expect(
      collect(
        providerStream(
          () => broken.iterable,
          (e, out) => out.push({ type: "text", text: e }),
        ),
      ),
    ).rejects.toThrow("socket reset");
    const cut = events(["a"]);
    const stream = providerStream(
      () => cut.iterable,
      (e, out) => out.push({ type: "text", text: e }),
      () => {
        throw new ProviderError("cut before the finish reason", { retryable: true });
      },
    );
    await expect(collect(stream)).rejects.toBeInstanceOf(ProviderError);
  });
});

describe("Model.stream as a hand-written iterator", () => {
  const chunksOf = (list: string[]) => {
    const { iterable, state } = events(list);
    return {
      state,
      source: () =>
        providerStream(
          () => iterable,
          (e, out) => out.push({ type: "text", text: e }),
          (out) => out.push({ type: "finish", usage: { inputTokens: 1, outputTokens: list.length } }),
        ),
    };
  };

  for (const honours of [true, false]) {
    it(`serves concurrent next() calls in order, one at a time (honoursAbortSignal: ${honours})`, async () => {
      const { source } = chunksOf(["a", "b", "c"]);
      const model = new EventModel(source, honours);
      const it = model.stream(request)[Symbol.asyncIterator]();
      const results = await Promise.all([it.next(), it.next(), it.next(), it.next(), it.next(), it.next()]);
      expect(results.map((r) => (r.done ? "done" : r.value.type === "text" ? r.value.text : r.value.type))).toEqual([
        "a",
        "b",
        "c",
        "finish",
        "done",
        "done",
      ]);
      expect(model.metrics.successes).toBe(1);
      expect(model.rateLimiter.inFlight).toBe(0);
    });
  }

  it("does nothing until the first next(), and return() before it opens nothing", async () => {
    let opened = 0;
    const model = new EventModel(() => {
      opened++;
      return chunksOf(["a"]).source();
    });
    const it = model.stream(request)[Symbol.asyncIterator]();
    expect(await it.return?.()).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect([opened, model.metrics.requests, model.rateLimiter.inFlight]).toEqual([0, 0, 0]);
  });

  it("records a failure once, frees the slot and then says done", async () => {
    const { iterable } = events(["a", "b"], { failAt: 1 });
    const model = new EventModel(() =>
      providerStream(
        () => iterable,
        (e, out) => out.push({ type: "text", text: e }),
      ),
    );
    const it = model.stream(request)[Symbol.asyncIterator]();
    expect(await it.next()).toMatchObject({ done: false, value: { type: "text", text: "a" } });
    await expect(it.next()).rejects.toBeInstanceOf(ProviderError);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect([model.metrics.failures, model.metrics.successes, model.rateLimiter.inFlight]).toEqual([1, 0, 0]);
  });

  it("stops the provider's stream when the consumer leaves early, without recording an outcome", async () => {
    const { source, state } = chunksOf(["a", "b", "c"]);
    const model = new EventModel(source);
    for await (const c of model.stream(request)) {
      expect(c).toEqual({ type: "text", text: "a" });
      break;
    }
    expect(state.returned).toBe(true);
    expect([model.metrics.requests, model.rateLimiter.inFlight]).toEqual([0, 0]);
  });
});

describe("Model.generate for a provider that honours its signal (no race)", () => {
  class SignalModel extends Model {
    protected override readonly honoursAbortSignal = true;
    constructor() {
      super({ name: "signal", provider: "custom", timeoutMs: 40 });
    }
    // Never answers; rejects only when its signal aborts, as an SDK does.
    protected doGenerate(request: GenerateRequest): Promise<ModelOutput> {
      return new Promise((_, reject) =>
        request.signal?.addEventListener("abort", () => reject(new Error("aborted by signal")), { once: true }),
      );
    }
  }

  it("still times out at the deadline and reports a TimeoutError, and a caller's abort as an AbortError", async () => {
    const model = new SignalModel();
    const started = performance.now();
    await expect(model.generate(request)).rejects.toMatchObject({ code: "timeout_error" });
    expect(performance.now() - started).toBeLessThan(1_000);
    const controller = new AbortController();
    const pending = model.generate({ ...request, signal: controller.signal, timeoutMs: 10_000 });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toMatchObject({ code: "abort_error" });
    expect(model.rateLimiter.inFlight).toBe(0);
  });
});
