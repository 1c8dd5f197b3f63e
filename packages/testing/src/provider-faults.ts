import { inspect } from "node:util";
import {
  AbortError,
  AuthenticationError,
  ContextLengthError,
  type GenerateRequest,
  type Model,
  ProviderError,
  RateLimitError,
  type StreamChunk,
  TimeoutError,
} from "@orchestrator-ts/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LoopbackServer } from "./servers/handler";
import type { LoopbackServerOptions } from "./servers/loopback-server";

/** How `describeProviderFaults` reaches a provider: its loopback server and a model pointed at it. */
export interface ProviderFaultsSetup<S extends LoopbackServer = LoopbackServer> {
  /** Starts the provider's loopback server with these options; the suite closes every server it starts. */
  startServer(options: LoopbackServerOptions): Promise<S>;
  /** A model of the provider pointed at `server`, with `timeoutMs` as its deadline when given. */
  model(server: S, options: { timeoutMs?: number }): Model;
  /** 5xx statuses the provider answers with and a client retries (default 500, 502, 503). */
  serverErrorStatuses?: readonly number[];
  /**
   * What a garbage frame inserted into a stream does: `"fails"` (default) the stream with a
   * ProviderError; `"skipped"` for a client that drops a line it cannot parse (the ollama client
   * does), in which case the answer must still arrive whole.
   */
  malformedFrame?: "fails" | "skipped";
  /** Per-test timeout in ms (default 30 s). */
  testTimeoutMs?: number;
}

const TEXT = "one two three four five six seven eight nine ten";
const ask = (text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra,
});

/** Streams until the end or a failure; what came before the failure is kept. */
async function streamOutcome(
  stream: AsyncIterable<StreamChunk>,
): Promise<{ texts: string[]; finished: boolean; error: unknown }> {
  const texts: string[] = [];
  let finished = false;
  try {
    for await (const chunk of stream) {
      if (chunk.type === "text") texts.push(chunk.text);
      else if (chunk.type === "finish") finished = true;
    }
    return { texts, finished, error: undefined };
  } catch (error) {
    return { texts, finished, error };
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/**
 * The provider fault matrix, one suite for every provider package that talks HTTP: each fault the
 * loopback servers inject (429, 4xx, 5xx, context length, dropped connection, stream cut or reset
 * before its terminator, malformed frame, hang, a stream that stalls mid-way, the caller's abort)
 * must surface as the documented error of the core family, typed, retryable or not as a router
 * needs, within the deadline, and the model must serve the next call.
 */
export function describeProviderFaults<S extends LoopbackServer>(name: string, setup: ProviderFaultsSetup<S>): void {
  const timeout = setup.testTimeoutMs ?? 30_000;
  const statuses = setup.serverErrorStatuses ?? [500, 502, 503];

  describe(`${name}: provider fault matrix`, () => {
    let server: S;
    const extra: S[] = [];
    beforeAll(async () => {
      server = await setup.startServer({ reply: () => ({ text: TEXT }) });
    });
    afterEach(() => {
      server.clearFaults();
    });
    afterAll(async () => {
      await Promise.all([server, ...extra].map((s) => s?.close()));
    });
    const model = (timeoutMs?: number) => setup.model(server, timeoutMs !== undefined ? { timeoutMs } : {});

    it("429 → retryable RateLimitError with retryAfterMs from retry-after", { timeout }, async () => {
      server.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 3 });
      const error = await rejection(model().generate(ask("x")));
      expect(RateLimitError.isInstance(error), inspect(error)).toBe(true);
      expect((error as RateLimitError).retryAfterMs).toBe(3_000);
      expect((error as RateLimitError).retryable).toBe(true);
    });

    it("401 and 403 → AuthenticationError with the status, not retryable", { timeout }, async () => {
      for (const status of [401, 403]) {
        server.enqueueFault({ type: "status", status });
        const error = await rejection(model().generate(ask("x")));
        expect(AuthenticationError.isInstance(error), `${status}: ${inspect(error)}`).toBe(true);
        expect(error).toMatchObject({ status, retryable: false });
      }
    });

    it("400 → ProviderError that is not retryable (and not a context-length error)", { timeout }, async () => {
      server.enqueueFault({ type: "status", status: 400, message: "Invalid value for 'temperature'." });
      const error = await rejection(model().generate(ask("x")));
      expect(ProviderError.isInstance(error) && !ContextLengthError.isInstance(error), inspect(error)).toBe(true);
      expect((error as ProviderError).retryable).toBe(false);
    });

    it("the provider's context-length error → ContextLengthError, not retryable", { timeout }, async () => {
      server.enqueueFault({ type: "context-length" });
      const error = await rejection(model().generate(ask("x")));
      expect(ContextLengthError.isInstance(error), inspect(error)).toBe(true);
      expect((error as ContextLengthError).retryable).toBe(false);
    });

    it(`${statuses.join(", ")} → retryable ProviderError with the status`, { timeout }, async () => {
      for (const status of statuses) {
        server.enqueueFault({ type: "status", status });
        const error = await rejection(model().generate(ask("x")));
        expect(ProviderError.isInstance(error), `${status}: ${inspect(error)}`).toBe(true);
        expect(error).toMatchObject({ status, retryable: true });
      }
    });

    it("a dropped connection → retryable ProviderError (not a timeout), generate and stream", { timeout }, async () => {
      server.enqueueFault({ type: "drop" });
      const error = await rejection(model().generate(ask("x")));
      server.enqueueFault({ type: "drop" });
      const streamed = (await streamOutcome(model().stream(ask("x")))).error;
      for (const e of [error, streamed]) {
        expect(ProviderError.isInstance(e) && !TimeoutError.isInstance(e), inspect(e)).toBe(true);
        expect((e as ProviderError).retryable).toBe(true);
      }
    });

    it("a stream cut or reset before its terminator → retryable ProviderError, never a silently truncated answer", {
      timeout,
    }, async () => {
      for (const mode of ["end", "destroy"] as const) {
        server.enqueueFault({ type: "cut-stream", afterChunks: 3, mode });
        const m = model();
        const { texts, finished, error } = await streamOutcome(m.stream(ask("x")));
        expect(ProviderError.isInstance(error), `${mode}: ${inspect(error)}`).toBe(true);
        expect((error as ProviderError).retryable).toBe(true);
        expect(finished).toBe(false);
        expect(texts.join("")).not.toBe(TEXT);
        expect(m.metrics.failures).toBe(1);
      }
    });

    it("a truncated reply body → retryable ProviderError", { timeout }, async () => {
      server.enqueueFault({ type: "cut-stream", afterChunks: 0 });
      const error = await rejection(model().generate(ask("x")));
      expect(ProviderError.isInstance(error), inspect(error)).toBe(true);
      expect((error as ProviderError).retryable).toBe(true);
    });

    if ((setup.malformedFrame ?? "fails") === "fails") {
      it("a malformed stream frame → retryable ProviderError, no finish", { timeout }, async () => {
        server.enqueueFault({ type: "malformed-chunk", afterChunks: 2 });
        const { finished, error } = await streamOutcome(model().stream(ask("x")));
        expect(ProviderError.isInstance(error), inspect(error)).toBe(true);
        expect((error as ProviderError).retryable).toBe(true);
        expect(finished).toBe(false);
      });
    } else {
      it("a malformed stream frame is skipped: the answer still arrives whole", { timeout }, async () => {
        server.enqueueFault({ type: "malformed-chunk", afterChunks: 2 });
        const { texts, finished, error } = await streamOutcome(model().stream(ask("x")));
        expect(error).toBeUndefined();
        expect(finished).toBe(true);
        expect(texts.join("")).toBe(TEXT);
      });
    }

    it("a server that never answers → TimeoutError at the deadline, generate and stream", { timeout }, async () => {
      for (const call of [
        (m: Model) => m.generate(ask("x")),
        (m: Model) =>
          streamOutcome(m.stream(ask("x"))).then((o) => Promise.reject(o.error ?? new Error("the stream ended"))),
      ]) {
        server.enqueueFault({ type: "hang" });
        const started = performance.now();
        const error = await rejection(call(model(200)));
        expect(TimeoutError.isInstance(error), inspect(error)).toBe(true);
        expect((error as TimeoutError).timeoutMs).toBe(200);
        expect(performance.now() - started).toBeGreaterThanOrEqual(190);
        expect(performance.now() - started).toBeLessThan(2_000);
      }
    });

    it("a stream that stalls mid-way → TimeoutError at the deadline, after the chunks that came; the model serves the next call", {
      timeout,
    }, async () => {
      // A frame every 100 ms: the first words arrive (after the protocol's opening frames), the rest would take over a second.
      const slow = await setup.startServer({ chunkDelayMs: 100, reply: () => ({ text: TEXT }) });
      extra.push(slow);
      const m = setup.model(slow, { timeoutMs: 500 });
      const started = performance.now();
      const { texts, finished, error } = await streamOutcome(m.stream(ask("x")));
      const elapsed = performance.now() - started;
      expect(TimeoutError.isInstance(error), inspect(error)).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(490);
      expect(elapsed).toBeLessThan(1_100);
      expect(texts.length).toBeGreaterThanOrEqual(1);
      expect(finished).toBe(false);
      expect(m.metrics.failures).toBe(1);
      expect((await setup.model(slow, {}).generate(ask("again"))).text).toBe(TEXT);
    });

    it("the caller's abort → AbortError at once: before the answer starts and mid-stream", { timeout }, async () => {
      server.enqueueFault({ type: "hang" });
      const before = new AbortController();
      setTimeout(() => before.abort(), 50);
      const started = performance.now();
      const error = await rejection(model().generate(ask("x", { signal: before.signal })));
      expect(AbortError.isInstance(error), inspect(error)).toBe(true);
      expect(performance.now() - started).toBeLessThan(2_000);

      const slow = await setup.startServer({ chunkDelayMs: 50, reply: () => ({ text: TEXT }) });
      extra.push(slow);
      const during = new AbortController();
      const texts: string[] = [];
      const streamed = await rejection(
        (async () => {
          for await (const chunk of setup.model(slow, {}).stream(ask("x", { signal: during.signal }))) {
            if (chunk.type === "text") texts.push(chunk.text);
            if (texts.length === 2) during.abort();
          }
        })(),
      );
      expect(AbortError.isInstance(streamed), inspect(streamed)).toBe(true);
      expect(texts.length).toBe(2);
    });
  });
}
