import { getEventListeners } from "node:events";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  AbortError,
  type GenerateRequest,
  Model,
  type ModelOutput,
  ProviderError,
  RateLimitError,
  Secret,
  type StreamChunk,
  type CallControl,
  TimeoutError,
  contentText,
  providerStream,
} from "./index";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class EchoModel extends Model {
  inits = 0;
  cleanups = 0;
  calls = 0;
  delayMs = 0;
  failWith: unknown;
  readonly #key = new Secret("sk-test-1234567890abcdef");
  client: { apiKey: Secret } | undefined;
  constructor(options: Partial<ConstructorParameters<typeof Model>[0]> = {}) {
    super({
      name: "echo",
      provider: "custom",
      capabilities: { inputCostPerToken: 0.001, outputCostPerToken: 0.002 },
      ...options,
    });
  }
  protected override async doInitialize(): Promise<void> {
    this.inits++;
    await sleep(10);
    this.client = { apiKey: this.#key };
  }
  protected override async doCleanup(): Promise<void> {
    this.cleanups++;
  }
  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    this.calls++;
    if (this.delayMs) await sleep(this.delayMs);
    if (this.failWith) throw this.failWith;
    const prompt = contentText(request.messages.at(-1)?.content ?? "");
    return { text: `echo: ${prompt}`, usage: { inputTokens: 10, outputTokens: 20 } };
  }
}

class HangingModel extends Model {
  constructor() {
    super({ name: "hang", provider: "custom" });
  }
  // Ignores its signal on purpose: the base must still settle the call.
  protected doGenerate(): Promise<ModelOutput> {
    return new Promise(() => {});
  }
}

class StreamingModel extends Model {
  constructor() {
    super({ name: "streamer", provider: "custom", capabilities: { supportsStreaming: true } });
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "a b c", usage: { inputTokens: 1, outputTokens: 3 } };
  }
  protected override async *doStream(): AsyncIterable<StreamChunk> {
    for (const t of ["a", " b", " c"]) {
      await sleep(1);
      yield { type: "text", text: t };
    }
    yield { type: "finish", usage: { inputTokens: 1, outputTokens: 3 }, finishReason: { unified: "stop", raw: "end" } };
  }
}

describe("Model base class", () => {
  it("initialises once under concurrent first calls", async () => {
    const m = new EchoModel();
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => m.generateResponse(`hi ${i}`)));
    expect(answers[2]).toBe("echo: hi 3");
    expect(m.inits).toBe(1);
  });

  it("records metrics, usage and cost from declared prices", async () => {
    const m = new EchoModel();
    const r = await m.generate({ messages: [{ role: "user", content: "x" }] });
    expect(r.usage).toEqual({ inputTokens: 10, outputTokens: 20 });
    expect(r.costUsd).toBeCloseTo(10 * 0.001 + 20 * 0.002, 10);
    expect(r.finishReason.unified).toBe("stop");
    expect(r.cached).toBe(false);
    const s = m.metrics.snapshot();
    expect(s).toMatchObject({ requests: 1, successes: 1, failures: 0, inputTokens: 10, outputTokens: 20 });
    expect(s.totalCost).toBeCloseTo(0.05, 10);
    expect(s.latencyP50Ms).toBeGreaterThan(0);
  });

  it("leaves usage undefined when the provider reports none", async () => {
    class NoUsage extends EchoModel {
      protected override async doGenerate(): Promise<ModelOutput> {
        return { text: "ok" };
      }
    }
    const r = await new NoUsage().generate({ messages: [{ role: "user", content: "x" }] });
    expect(r.usage.inputTokens).toBeUndefined();
    expect(r.costUsd).toBeUndefined();
  });

  it('a count or cost that is not a number ≥ 0 is not reported (NaN, "n/a", -1): the cost comes from what is known, whole and streamed', async () => {
    class Garbled extends EchoModel {
      protected override async doGenerate(): Promise<ModelOutput> {
        return { text: "ok", usage: { inputTokens: 10, outputTokens: Number.NaN }, costUsd: Number.NaN };
      }
      protected override async *doStream(): AsyncIterable<StreamChunk> {
        yield { type: "text", text: "ok" };
        yield { type: "finish", usage: { inputTokens: 10, outputTokens: "n/a" as unknown as number }, costUsd: -1 };
      }
    }
    const m = new Garbled();
    const whole = await m.generate({ messages: [{ role: "user", content: "x" }] });
    expect(whole.usage).toEqual({ inputTokens: 10 });
    expect(whole.costUsd).toBeUndefined(); // the output price is set and the output count unknown
    let finish: StreamChunk | undefined;
    for await (const chunk of m.stream({ messages: [{ role: "user", content: "x" }] }))
      if (chunk.type === "finish") finish = chunk;
    expect(finish).toMatchObject({ usage: { inputTokens: 10 }, costUsd: undefined });
    expect(Object.keys((finish as { usage: object }).usage)).toEqual(["inputTokens"]);
    expect(Number.isNaN(m.metrics.snapshot().totalCost)).toBe(false);
  });

  it("rejects with AbortError when the signal aborts, even if the provider ignores it", async () => {
    const m = new HangingModel();
    const controller = new AbortController();
    const pending = m.generate({ messages: [{ role: "user", content: "x" }], signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toSatisfy((e: unknown) => AbortError.isInstance(e));
    expect(m.metrics.failures).toBe(1);
  });

  it("rejects with TimeoutError past the deadline", async () => {
    const m = new HangingModel();
    await expect(m.generate({ messages: [{ role: "user", content: "x" }], timeoutMs: 30 })).rejects.toSatisfy(
      (e: unknown) => TimeoutError.isInstance(e) && (e as TimeoutError).timeoutMs === 30,
    );
  });

  it("maps provider failures into the error family", async () => {
    const m = new EchoModel();
    m.failWith = Object.assign(new Error("Too many requests"), { status: 429, headers: { "retry-after": "3" } });
    const error = await m.generate({ messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.retryAfterMs).toBe(3000);
    m.failWith = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    const dropped = await m.generate({ messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(ProviderError.isInstance(dropped) && dropped.retryable).toBe(true);
    expect(m.metrics.lastError?.code).toBe("provider_error");
  });

  it("streams one chunk for a model without doStream and says so in its capabilities", async () => {
    const m = new EchoModel({ capabilities: { supportsStreaming: true } });
    expect(m.capabilities.supportsStreaming).toBe(false);
    const chunks: string[] = [];
    for await (const t of m.streamResponse("hello")) chunks.push(t);
    expect(chunks).toEqual(["echo: hello"]);
  });

  it("streams natively and closes with a finish chunk carrying usage, cost and timing", async () => {
    const m = new StreamingModel();
    expect(m.capabilities.supportsStreaming).toBe(true);
    const chunks: StreamChunk[] = [];
    for await (const c of m.stream({ messages: [{ role: "user", content: "x" }] })) chunks.push(c);
    expect(
      chunks
        .filter((c) => c.type === "text")
        .map((c) => (c as { text: string }).text)
        .join(""),
    ).toBe("a b c");
    const finish = chunks.at(-1);
    expect(finish).toMatchObject({
      type: "finish",
      usage: { inputTokens: 1, outputTokens: 3 },
      finishReason: { unified: "stop", raw: "end" },
      model: "streamer",
    });
    expect(m.metrics.successes).toBe(1);
    expect(m.metrics.tokensPerSecond).toBeGreaterThan(0);
  });

  it("stops the provider stream when the consumer breaks early and frees the slot", async () => {
    const m = new StreamingModel();
    for await (const c of m.stream({ messages: [{ role: "user", content: "x" }] })) {
      expect(c.type).toBe("text");
      break;
    }
    expect(m.rateLimiter.inFlight).toBe(0);
    expect(m.metrics.failures).toBe(0);
  });

  it("holds maxConcurrentRequests and rejects when no slot frees in time", async () => {
    const m = new EchoModel({ constraints: { maxConcurrentRequests: 2, queueTimeoutMs: 50 } });
    m.delayMs = 30;
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, m.rateLimiter.inFlight)), 2);
    await Promise.all([1, 2, 3, 4].map(() => m.generate({ messages: [{ role: "user", content: "x" }] })));
    clearInterval(watch);
    expect(peak).toBe(2);
    m.delayMs = 200;
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => m.generate({ messages: [{ role: "user", content: "x" }] })),
    );
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(RateLimitError.isInstance((rejected[0] as PromiseRejectedResult).reason)).toBe(true);
  });

  it("a call waiting for a slot waits no longer than its own timeoutMs (the queue's 30 s is the default, not a floor)", async () => {
    const m = new EchoModel({ constraints: { maxRequestsPerMinute: 1 } }); // queueTimeoutMs: 30 s
    await m.generate({ messages: [{ role: "user", content: "x" }] });
    const started = performance.now();
    const waited = await m
      .generate({ messages: [{ role: "user", content: "x" }], timeoutMs: 150 })
      .catch((e: unknown) => e);
    expect(RateLimitError.isInstance(waited), String(waited)).toBe(true);
    expect((waited as Error).message).toMatch(/No free slot within 150 ms/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("holds maxRequestsPerMinute", async () => {
    const m = new EchoModel({ constraints: { maxRequestsPerMinute: 3, queueTimeoutMs: 20 } });
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map(() => m.generate({ messages: [{ role: "user", content: "x" }] })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    expect(m.rateLimiter.isSaturated()).toBe(true);
  });

  it("cleans up idempotently and re-initialises on next use", async () => {
    const m = new EchoModel();
    await m.initialize();
    await Promise.all([m.cleanup(), m.cleanup()]);
    await m.cleanup();
    expect(m.cleanups).toBe(1);
    await m.generateResponse("again");
    expect(m.inits).toBe(2);
  });

  it("never shows its API key in inspection or JSON", async () => {
    const m = new EchoModel();
    await m.initialize();
    const shown = inspect(m, { depth: 10 }) + JSON.stringify(m) + String(m.client?.apiKey) + JSON.stringify(m.client);
    expect(shown).not.toContain("sk-test-1234567890abcdef");
    expect(m.client?.apiKey.reveal()).toBe("sk-test-1234567890abcdef");
    m.failWith = new Error("401 Incorrect API key provided: sk-test-1234567890abcdef");
    const error = await m.generate({ messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(error.message).not.toContain("sk-test-1234567890abcdef");
    expect(inspect(error)).not.toContain("1234567890abcdef");
  });

  it("estimates cost from the prompt and maxTokens", () => {
    const m = new EchoModel();
    const cost = m.estimateCost({ messages: [{ role: "user", content: "a".repeat(400) }], maxTokens: 100 });
    expect(cost).toBeCloseTo((100 + 4) * 0.001 + 100 * 0.002, 10);
  });
});

/**
 * A provider that stops its own streams: a chunk every `everyMs` until stopped, and, like an SDK
 * with a per-request timeout, it gives up waiting for its "headers" at `control.timeoutMs`.
 */
class SelfStoppingModel extends Model {
  protected override readonly honoursAbortSignal = true;
  protected override readonly stopsCallsItself = true;
  seen: { request: GenerateRequest; control: CallControl | undefined }[] = [];
  stops = 0;
  headersAfterMs = 0;
  everyMs = 5;
  constructor() {
    super({ name: "self-stopping", provider: "custom", capabilities: { supportsStreaming: true } });
  }
  // Answers after `answerAfterMs`; a stop makes it resolve at once with what it had (as a cut body might parse).
  answerAfterMs = 0;
  initMs = 0;
  protected override async doInitialize(): Promise<void> {
    await sleep(this.initMs);
  }
  protected doGenerate(request: GenerateRequest, control?: CallControl): Promise<ModelOutput> {
    this.seen.push({ request, control });
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ text: "the whole answer" }), this.answerAfterMs);
      control?.onStop(() => {
        this.stops++;
        clearTimeout(timer);
        resolve({ text: "the wh" });
      });
    });
  }
  protected override doStream(request: GenerateRequest, control?: CallControl): AsyncIterable<StreamChunk> {
    this.seen.push({ request, control });
    const model = this;
    return {
      async *[Symbol.asyncIterator]() {
        if (model.headersAfterMs > (control?.timeoutMs ?? Number.POSITIVE_INFINITY)) {
          await sleep((control?.timeoutMs ?? 0) + 5);
          throw new Error("no headers in time (the client's own timeout)");
        }
        await sleep(model.headersAfterMs);
        let stopped = false;
        control?.onStop(() => {
          model.stops++;
          stopped = true;
        });
        for (let i = 0; !stopped; i++) {
          yield { type: "text", text: `t${i} ` };
          await sleep(model.everyMs);
        }
        // Stopped: the body ends early, without a finish chunk.
      },
    };
  }
}

/** The same provider, declaring that it registers its stop before sending: it gets no signal at all. */
class StopFirstModel extends SelfStoppingModel {
  protected override readonly registersStopFirst = true;
}

describe("Model base class: providers that stop their own streams", () => {
  it("get the caller's request as it is when it has no signal, and the call's deadline", async () => {
    const m = new SelfStoppingModel();
    const request = { messages: [{ role: "user" as const, content: "hi" }], timeoutMs: 5_000 };
    const stream = m.stream(request)[Symbol.asyncIterator]();
    expect((await stream.next()).value).toEqual({ type: "text", text: "t0 " });
    await stream.return?.();
    expect(m.seen[0]?.request).toBe(request);
    expect(m.seen[0]?.request.signal).toBeUndefined();
    expect(m.seen[0]?.control?.timeoutMs).toBe(5_000);
  });

  it("a caller's signal is replaced by the call's own: listeners a client leaves on it die with the call", async () => {
    const m = new SelfStoppingModel();
    const outer = new AbortController();
    for (let i = 0; i < 3; i++) {
      for await (const chunk of m.stream({ messages: [{ role: "user", content: "hi" }], signal: outer.signal })) {
        if (chunk.type !== "text") continue;
        const given = m.seen.at(-1)?.request.signal;
        expect(given).toBeInstanceOf(AbortSignal);
        expect(given).not.toBe(outer.signal);
        // What an SDK does with the signal it is given, and never undoes.
        given?.addEventListener("abort", () => undefined);
        break;
      }
    }
    expect(getEventListeners(outer.signal, "abort")).toHaveLength(0);
  });

  it("with registersStopFirst: no signal, also when the caller passed one, and nothing left on the caller's", async () => {
    const m = new StopFirstModel();
    const outer = new AbortController();
    const request = { messages: [{ role: "user" as const, content: "hi" }], signal: outer.signal };
    for (let i = 0; i < 3; i++) {
      for await (const chunk of m.stream(request)) {
        if (chunk.type !== "text") continue;
        expect(m.seen.at(-1)?.request.signal).toBeUndefined();
        expect(m.seen.at(-1)?.request.messages).toBe(request.messages);
        break;
      }
    }
    expect(await m.generate(request)).toMatchObject({ text: "the whole answer" });
    expect(m.seen.at(-1)?.request.signal).toBeUndefined();
    // The caller's request is not changed, and the call's listener on its signal is gone with the call.
    expect(request.signal).toBe(outer.signal);
    expect(getEventListeners(outer.signal, "abort")).toHaveLength(0);
  });

  it("are stopped at the deadline: TimeoutError with the chunks before it delivered", async () => {
    const m = new SelfStoppingModel();
    const texts: string[] = [];
    const started = performance.now();
    let error: unknown;
    try {
      for await (const chunk of m.stream({ messages: [{ role: "user", content: "hi" }], timeoutMs: 120 }))
        if (chunk.type === "text") texts.push(chunk.text);
    } catch (e) {
      error = e;
    }
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(120);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(texts.length).toBeGreaterThan(2);
    expect(m.stops).toBe(1);
    expect(m.metrics.failures).toBe(1);
  });

  it("are stopped when the caller aborts: AbortError", async () => {
    const m = new SelfStoppingModel();
    const controller = new AbortController();
    let error: unknown;
    try {
      for await (const chunk of m.stream({ messages: [{ role: "user", content: "hi" }], signal: controller.signal }))
        if (chunk.type === "text" && chunk.text === "t2 ") controller.abort();
    } catch (e) {
      error = e;
    }
    expect(AbortError.isInstance(error)).toBe(true);
    expect(m.stops).toBe(1);
  });

  it("generate: the caller's abort reaches the provider's stop at once → AbortError, never the partial answer", async () => {
    const m = new StopFirstModel();
    m.answerAfterMs = 10_000;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = performance.now();
    const error = await m
      .generate({ messages: [{ role: "user", content: "hi" }], signal: controller.signal, timeoutMs: 5_000 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(AbortError.isInstance(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(m.stops).toBe(1);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("a deadline that passes before the response starts is reported as the TimeoutError, not the client's error", async () => {
    const m = new SelfStoppingModel();
    m.headersAfterMs = 10_000;
    const error = await m
      .stream({ messages: [{ role: "user", content: "hi" }], timeoutMs: 60 })
      [Symbol.asyncIterator]()
      .next()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(60);
    expect(m.stops).toBe(0);
  });

  it("generate: the caller's request as it is; stopped at the deadline → TimeoutError, never the partial answer", async () => {
    const m = new SelfStoppingModel();
    const request = { messages: [{ role: "user" as const, content: "hi" }], timeoutMs: 1_000 };
    expect((await m.generate(request)).text).toBe("the whole answer");
    expect(m.seen[0]?.request).toBe(request);
    expect(m.seen[0]?.control?.timeoutMs).toBe(1_000);
    m.answerAfterMs = 10_000;
    const started = performance.now();
    const error = await m.generate({ ...request, timeoutMs: 80 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(80);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(m.stops).toBe(1);
    expect(m.metrics.failures).toBe(1);
  });

  it("a provider that never registers a stop (stalled before its body) is still ended at the deadline, once", async () => {
    class Stalling extends Model {
      protected override readonly honoursAbortSignal = true;
      protected override readonly stopsCallsItself = true;
      late: ((error: unknown) => void)[] = [];
      constructor() {
        super({ name: "stalling", provider: "custom", capabilities: { supportsStreaming: true } });
      }
      // Like an SDK reading an error body that never ends: no stop, no signal, no settling in time.
      protected doGenerate(): Promise<ModelOutput> {
        return new Promise((_, reject) => this.late.push(reject));
      }
      protected override doStream(): AsyncIterable<StreamChunk> {
        return providerStream(
          () => new Promise<AsyncIterable<StreamChunk>>((_, reject) => this.late.push(reject)),
          (chunk: StreamChunk, out) => out.push(chunk),
        );
      }
    }
    const m = new Stalling();
    const started = performance.now();
    const generated = await m.generate({ messages: [{ role: "user", content: "hi" }], timeoutMs: 80 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const streamed = await m
      .stream({ messages: [{ role: "user", content: "hi" }], timeoutMs: 80 })
      [Symbol.asyncIterator]()
      .next()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(TimeoutError.isInstance(generated)).toBe(true);
    expect(TimeoutError.isInstance(streamed)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
    // The client gives up much later: nothing is reported twice.
    for (const reject of m.late) reject(new Error("the client's own timeout, minutes later"));
    await sleep(5);
    expect(m.metrics.failures).toBe(2);
  });

  it("a caller who aborts while the call waits for initialisation gets AbortError, not an answer", async () => {
    const m = new SelfStoppingModel();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    m.initMs = 40;
    const error = await m.generate({ messages: [{ role: "user", content: "hi" }], signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(AbortError.isInstance(error)).toBe(true);
  });

  it("providers that do not opt in still get a signal of their own and no control", async () => {
    let seen: { signal: AbortSignal | undefined; control: unknown } | undefined;
    class Plain extends Model {
      protected override readonly honoursAbortSignal = true;
      constructor() {
        super({ name: "plain", provider: "custom", capabilities: { supportsStreaming: true } });
      }
      protected async doGenerate(): Promise<ModelOutput> {
        return { text: "x" };
      }
      protected override async *doStream(request: GenerateRequest, control?: CallControl): AsyncIterable<StreamChunk> {
        seen = { signal: request.signal, control };
        yield { type: "text", text: "x" };
        yield { type: "finish" };
      }
    }
    const outer = new AbortController();
    for await (const _ of new Plain().stream({ messages: [{ role: "user", content: "hi" }], signal: outer.signal }));
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(seen?.signal).not.toBe(outer.signal);
    expect(seen?.control).toBeUndefined();
  });
});
