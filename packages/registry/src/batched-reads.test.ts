import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { OrchestratorError, TimeoutError } from "@orchestrator-ts/core";
import { TAKE, type Takeable } from "@orchestrator-ts/core/internal";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CostBasedSelector } from "./cost-performance-selectors";
import { ModelRegistry } from "./registry";
import { ask } from "./test-helpers";
import type { RegistryStreamChunk } from "./types";

// A network read often holds many events of a stream. The layers hand those on at once (core's
// TAKE: the SSE reader, providerStream, the model's stream, the registry's stream), and the
// gateway takes them so. These tests answer every stream in one write, so that the client reads
// it whole, and check that what is handed on at once is what next() would have given.

const chunk = (delta: object, extra: object = {}) => ({
  id: "chatcmpl-batched",
  object: "chat.completion.chunk",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
  ...extra,
});
const finishChunk = (reason: string) => ({
  ...chunk({}),
  choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reason }],
});
const usageChunk = { ...chunk({}), choices: [], usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 } };
const sse = (events: (object | string)[]) =>
  events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join("");

// Each delta ends a line: an escape in every event, so none is cut from the template and joined with
// the next (that is the last test's subject); each stays a chunk of its own.
const WORDS = ["one\n", "two\n", "three\n", "four"];
const WHOLE = sse([
  chunk({ role: "assistant", content: "" }),
  ...WORDS.map((w) => chunk({ content: w })),
  finishChunk("stop"),
  usageChunk,
  "[DONE]",
]);

/** An OpenAI-format upstream that answers each chat request with the next scripted body, in one write. */
async function scriptedUpstream(): Promise<{ url: string; server: Server; bodies: string[]; requests: () => number }> {
  const bodies: string[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests++;
      const body = bodies.shift() ?? WHOLE;
      res.writeHead(200, { "content-type": "text/event-stream", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, server, bodies, requests: () => requests };
}

describe("a stream's events read together are handed on at once, as next() would give them", () => {
  let a: Awaited<ReturnType<typeof scriptedUpstream>>;
  let b: Awaited<ReturnType<typeof scriptedUpstream>>;
  beforeAll(async () => {
    [a, b] = await Promise.all([scriptedUpstream(), scriptedUpstream()]);
  });
  afterAll(async () => {
    await Promise.all([a, b].map((u) => new Promise((resolve) => u.server.close(resolve))));
  });
  beforeEach(() => {
    a.bodies.length = 0;
    b.bodies.length = 0;
  });

  function registry(timeoutMs?: number) {
    const r = new ModelRegistry({ modelSelector: new CostBasedSelector(), maxRetries: 0, maxFallbacks: 1 });
    const model = (name: string, baseURL: string, price: number) =>
      new OpenAIModel({
        name,
        model: "gpt-4o-mini",
        apiKey: "sk-test",
        baseURL,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        capabilities: { inputCostPerToken: price, outputCostPerToken: price },
      });
    r.registerModel(model("a", a.url, 1e-7));
    r.registerModel(model("b", b.url, 1e-6));
    return r;
  }

  /** What a caller sees, without the timings (they differ between two runs). */
  const seen = (c: RegistryStreamChunk) =>
    c.type === "finish"
      ? { type: c.type, model: c.model, usage: c.usage, finishReason: c.finishReason, responseId: c.responseId }
      : c;

  it("hands on every chunk of the read at once, in order, then says to wait; the chunks equal next()'s", async () => {
    const viaNext: unknown[] = [];
    for await (const c of registry().stream(ask("count"))) viaNext.push(seen(c));

    const stream = registry().stream(ask("count"));
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<RegistryStreamChunk> &
      Takeable<RegistryStreamChunk>;
    const first = await iterator.next();
    const taken: IteratorResult<RegistryStreamChunk>[] = [];
    for (let r = iterator[TAKE](); r !== undefined; r = iterator[TAKE]()) taken.push(r);
    // Everything came in one read: the rest of the text needed no waiting. The finish chunk waits for
    // the end of the body (read to its end after [DONE], so that the connection is reused).
    expect(taken.map((r) => r.done)).toEqual([false, false, false]);
    const finish = await iterator.next();
    const viaTake = [first, ...taken, finish].map((r) => seen(r.value as RegistryStreamChunk));
    expect(viaTake).toEqual(viaNext);
    expect(viaTake.map((c) => (c as { text?: string }).text ?? c.type)).toEqual([...WORDS, "finish"]);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(stream.selectionId).toMatch(/.+/);
    expect(stream.attempts.map((x) => [x.model, x.success])).toEqual([["a", true]]);
  });

  it("a malformed event after chunks were handed on: the chunks before it, then next() fails, with no fallback after the first chunk", async () => {
    a.bodies.push(sse([chunk({ content: "one " }), chunk({ content: "two " }), "{not json", finishChunk("stop")]));
    const stream = registry().stream(ask("count"));
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<RegistryStreamChunk> &
      Takeable<RegistryStreamChunk>;
    const before = b.requests();
    expect((await iterator.next()).value).toEqual({ type: "text", text: "one " });
    expect(iterator[TAKE]()?.value).toEqual({ type: "text", text: "two " });
    // The failure is not handed on at once: next() reports it, as it would have without TAKE.
    expect(iterator[TAKE]()).toBeUndefined();
    const error = await iterator.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(OrchestratorError.isInstance(error)).toBe(true);
    expect(b.requests()).toBe(before);
    expect(stream.attempts.map((x) => [x.model, x.success])).toEqual([["a", false]]);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("a malformed event in the first read, before any chunk: the registry falls back as before", async () => {
    a.bodies.push(sse([chunk({ role: "assistant", content: "" }), "{not json"]));
    const stream = registry().stream(ask("count"));
    let text = "";
    for await (const c of stream) if (c.type === "text") text += c.text;
    expect(text).toBe(WORDS.join(""));
    expect(stream.attempts.map((x) => [x.model, x.success])).toEqual([
      ["a", false],
      ["b", true],
    ]);
  });

  it("events read but not taken before the deadline are not handed on after it: next() fails with the timeout", async () => {
    const stream = registry(150).stream(ask("count"));
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<RegistryStreamChunk> &
      Takeable<RegistryStreamChunk>;
    expect((await iterator.next()).value).toEqual({ type: "text", text: WORDS[0] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(iterator[TAKE]()).toBeUndefined();
    await expect(iterator.next()).rejects.toBeInstanceOf(TimeoutError);
  });

  it("plain text deltas read together reach the caller as one chunk: the same text, one chunk per read instead of per event", async () => {
    const words = Array.from({ length: 30 }, (_, i) => `w${i} `);
    a.bodies.push(
      sse([
        chunk({ role: "assistant", content: "" }),
        ...words.map((w) => chunk({ content: w })),
        finishChunk("stop"),
        usageChunk,
        "[DONE]",
      ]),
    );
    const chunks: RegistryStreamChunk[] = [];
    for await (const c of registry().stream(ask("count"))) chunks.push(c);
    // The first delta is parsed (it teaches the template); the 29 after it were in the same read.
    expect(chunks.filter((c) => c.type === "text").map((c) => (c as { text: string }).text)).toEqual([
      words[0],
      words.slice(1).join(""),
    ]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", usage: { inputTokens: 7, outputTokens: 4 } });
  });
});
