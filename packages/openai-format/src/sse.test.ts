import { DEFAULT_MAX_EVENT_BYTES, ProviderError } from "@orchestrator-ts/core";
import { APIError } from "openai";
import { describe, expect, it } from "vitest";
import { DONE_GRACE_MS, SSEJsonStream, readJsonBody } from "./sse";
import { collectAll, rejectionOf } from "./test-helpers";

/** A real Response whose body arrives in exactly these pieces (strings are UTF-8 encoded; byte arrays pass as they are). */
function response(pieces: (string | Uint8Array)[], onCancel?: () => void): Response {
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[i++];
      if (piece === undefined) controller.close();
      else controller.enqueue(typeof piece === "string" ? encoder.encode(piece) : piece);
    },
    cancel() {
      onCancel?.();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", "x-request-id": "req_1" } });
}

/**
 * A body of `total` bytes made by `fill(offset, size)`, handed out in reads of `readBytes` as they
 * are pulled (never all in memory at once); `pulled()` says how many bytes were read.
 */
function generatedBody(
  total: number,
  readBytes: number,
  fill: (offset: number, size: number) => Uint8Array,
  onCancel?: () => void,
) {
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= total) return controller.close();
      const size = Math.min(readBytes, total - offset);
      controller.enqueue(fill(offset, size));
      offset += size;
    },
    cancel() {
      onCancel?.();
    },
  });
  return { response: new Response(body, { headers: { "content-type": "text/event-stream" } }), pulled: () => offset };
}

/** One `data: {"text":"xxx…"}` event of about `bytes` bytes, then [DONE], as its bytes. */
function oneBigEvent(bytes: number): Uint8Array {
  return new TextEncoder().encode(`data: {"text":"${"x".repeat(bytes)}"}\n\ndata: [DONE]\n\n`);
}

/** One event and [DONE], then a body that never ends (a server that keeps the response open). */
function keptOpenAfterDone(onCancel: () => void): Response {
  let step = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (step++ === 0) return controller.enqueue(new TextEncoder().encode('data: {"n":1}\n\ndata: [DONE]\n\n'));
      return new Promise<void>(() => undefined);
    },
    cancel: onCancel,
  });
  return new Response(body);
}

describe("SSEJsonStream", () => {
  it("yields each data event's JSON in order and stops at [DONE]", async () => {
    const events = await collectAll(
      new SSEJsonStream(response(['data: {"n":1}\n\n', 'data: {"n":2}\n\ndata: {"n":3}\n\n', "data: [DONE]\n\n"])),
    );
    expect(events).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("joins events split at any byte, including inside a multi-byte character", async () => {
    const whole = new TextEncoder().encode(
      'data: {"text":"héllo → wörld"}\n\ndata: {"text":"second"}\n\ndata: [DONE]\n\n',
    );
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < whole.length; i += 3) pieces.push(whole.slice(i, i + 3));
    expect(await collectAll(new SSEJsonStream(response(pieces)))).toEqual([
      { text: "héllo → wörld" },
      { text: "second" },
    ]);
  });

  it("accepts CRLF and CR line ends, also when a CRLF is split between reads", async () => {
    const events = await collectAll(
      new SSEJsonStream(
        response(['data: {"a":1}\r', '\n\r\ndata: {"b":2}\r\r', 'data: {"c":3}\r\n\r\n', "data: [DONE]\r\n\r\n"]),
      ),
    );
    expect(events).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it("skips comments and unknown fields, joins several data lines with a newline, takes `data:` without a space", async () => {
    const events = await collectAll(
      new SSEJsonStream(
        response([
          ": keep-alive\n\n",
          'id: 7\nretry: 100\ndata:{"list":[1,\ndata: 2]}\n\n',
          'event: message\ndata: {"ok":true}\n\n',
          "data: [DONE]\n\n",
        ]),
      ),
    );
    expect(events).toEqual([{ list: [1, 2] }, { ok: true }]);
  });

  it("ignores anything after [DONE] and reads the body to its end", async () => {
    let cancelled = false;
    const { response: body, pulled } = generatedBody(
      4096,
      1024,
      (offset, size) =>
        new TextEncoder().encode(
          offset === 0
            ? 'data: {"n":1}\n\ndata: [DONE]\n\n'.padEnd(size, "\n")
            : `data: {"n":2}\n\n`.padEnd(size, "\n"),
        ),
      () => {
        cancelled = true;
      },
    );
    const events = await collectAll(new SSEJsonStream(body));
    expect(events).toEqual([{ n: 1 }]);
    // Read to its end in the background, not cancelled: the connection stays reusable.
    await expect.poll(pulled).toBe(4096);
    expect(cancelled).toBe(false);
  });

  it("after [DONE] waits for the body's end, and at most DONE_GRACE_MS: then it is done and the body cancelled", async () => {
    let cancelled = false;
    const stream = new SSEJsonStream<{ n: number }>(
      keptOpenAfterDone(() => {
        cancelled = true;
      }),
    );
    expect(await stream.next()).toEqual({ done: false, value: { n: 1 } });
    const started = performance.now();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(DONE_GRACE_MS - 50);
    expect(waited).toBeLessThan(DONE_GRACE_MS + 1_000);
    expect(cancelled).toBe(true);
  });

  it("after [DONE] is done as soon as the body ends; cancel() then stops a body still going", async () => {
    const encoder = new TextEncoder();
    let release: (() => void) | undefined;
    let step = 0;
    const ending = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (step++ === 0) return controller.enqueue(encoder.encode('data: {"n":1}\n\ndata: [DONE]\n\n'));
        return new Promise<void>((resolve) => {
          release = () => {
            controller.close();
            resolve();
          };
        });
      },
    });
    const stream = new SSEJsonStream<{ n: number }>(new Response(ending));
    await stream.next();
    const done = stream.next();
    await expect.poll(() => release !== undefined).toBe(true);
    const started = performance.now();
    release?.();
    expect(await done).toEqual({ done: true, value: undefined });
    expect(performance.now() - started).toBeLessThan(DONE_GRACE_MS / 2);

    let cancelled = false;
    const abandoned = new SSEJsonStream<{ n: number }>(
      keptOpenAfterDone(() => {
        cancelled = true;
      }),
    );
    await abandoned.next();
    const pending = abandoned.next();
    // The call's deadline or abort: the body is cancelled now, not after the grace.
    abandoned.cancel();
    await expect.poll(() => cancelled, { timeout: DONE_GRACE_MS / 2 }).toBe(true);
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it("cancels a body that goes on past maxEventBytes after [DONE]", async () => {
    let cancelled = false;
    const { response: body, pulled } = generatedBody(
      10_000_000,
      1000,
      (offset, size) => new TextEncoder().encode((offset === 0 ? "data: [DONE]\n\n" : "").padEnd(size, ":")),
      () => {
        cancelled = true;
      },
    );
    expect(await collectAll(new SSEJsonStream(body, { maxEventBytes: 5000 }))).toEqual([]);
    await expect.poll(() => cancelled).toBe(true);
    expect(pulled()).toBeLessThan(20_000);
  });

  it("drops an event cut off by the end of the body (the caller sees no [DONE])", async () => {
    expect(await collectAll(new SSEJsonStream(response(['data: {"n":1}\n\n', 'data: {"n":2}'])))).toEqual([{ n: 1 }]);
  });

  it("an event carrying `error` → the caller's error (the SDK's APIError), after the events before it", async () => {
    const onErrorEvent = (error: object, headers: Headers) => new APIError(undefined, error, undefined, headers);
    const stream = new SSEJsonStream(
      response(['data: {"n":1}\n\ndata: {"error":{"message":"The server had an error","type":"server_error"}}\n\n']),
      { onErrorEvent },
    );
    expect(await stream.next()).toEqual({ done: false, value: { n: 1 } });
    const error = await rejectionOf(stream.next());
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toMatch(/The server had an error/);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("an event carrying `error` without onErrorEvent → a ProviderError, retryable unless the request was invalid", async () => {
    const failing = (type: string) =>
      response([`data: {"n":1}\n\ndata: {"error":{"message":"went wrong","type":"${type}"}}\n\n`]);
    const error = await rejectionOf(
      collectAll(new SSEJsonStream(failing("server_error"), { provider: "p", model: "m" })),
    );
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      message: "The provider reported an error mid-stream: went wrong",
      provider: "p",
      model: "m",
      retryable: true,
    });
    expect(await rejectionOf(collectAll(new SSEJsonStream(failing("invalid_request_error"))))).toMatchObject({
      retryable: false,
    });
  });

  it("malformed JSON → SyntaxError, and the body is cancelled", async () => {
    let cancelled = false;
    const stream = new SSEJsonStream(
      response(['data: {"n":1}\n\ndata: {"n":\n\n', 'data: {"n":3}\n\n'], () => (cancelled = true)),
    );
    expect((await stream.next()).value).toEqual({ n: 1 });
    expect(await rejectionOf(stream.next())).toBeInstanceOf(SyntaxError);
    expect(cancelled).toBe(true);
  });

  it("return() cancels the body and ends the iteration", async () => {
    let cancelled = false;
    const stream = new SSEJsonStream(
      response(['data: {"n":1}\n\n', 'data: {"n":2}\n\n', "data: [DONE]\n\n"], () => (cancelled = true)),
    );
    expect((await stream.next()).value).toEqual({ n: 1 });
    expect(await stream.return()).toEqual({ done: true, value: undefined });
    expect(cancelled).toBe(true);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("a large event arriving in many small reads takes linear time (was quadratic: 10 MB took 3.6 s)", async () => {
    const whole = oneBigEvent(16 * 1024 * 1024);
    const { response: res } = generatedBody(whole.length, 16 * 1024, (offset, size) =>
      whole.subarray(offset, offset + size),
    );
    const started = performance.now();
    const events = await collectAll(new SSEJsonStream<{ text: string }>(res, { maxEventBytes: 32 * 1024 * 1024 }));
    const elapsed = performance.now() - started;
    expect(events).toHaveLength(1);
    expect(events[0]?.text.length).toBe(16 * 1024 * 1024);
    // Linear: ~0.1 s here. The quadratic parser copied and rescanned the pending line on every read (> 10 s for this).
    expect(elapsed).toBeLessThan(2_500);
  });

  it("a line past maxEventBytes → a non-retryable ProviderError naming the bound; the rest of the body is not read", async () => {
    let cancelled = false;
    // 100 MB without a line end, as the measured event-loop hog: no more than the bound (+ one read) is taken.
    const { response: res, pulled } = generatedBody(
      100 * 1024 * 1024,
      64 * 1024,
      (offset, size) =>
        offset === 0 ? new TextEncoder().encode(`data: ${"x".repeat(size - 6)}`) : new Uint8Array(size).fill(120),
      () => (cancelled = true),
    );
    const error = await rejectionOf(collectAll(new SSEJsonStream(res, { provider: "openai", model: "gpt-test" })));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toMatch(`larger than ${DEFAULT_MAX_EVENT_BYTES} bytes`);
    expect((error as ProviderError).retryable).toBe(false);
    expect((error as ProviderError).model).toBe("gpt-test");
    expect(pulled()).toBeLessThanOrEqual(DEFAULT_MAX_EVENT_BYTES + 64 * 1024);
    expect(cancelled).toBe(true);
  });

  it("an event of many short data lines past maxEventBytes → the same ProviderError", async () => {
    const line = `data: ${"y".repeat(1_000)}\n`;
    const { response: res } = generatedBody(line.length * 3_000, line.length * 10, (_offset, size) =>
      new TextEncoder().encode(line.repeat(size / line.length)),
    );
    const error = await rejectionOf(collectAll(new SSEJsonStream(res, { maxEventBytes: 1_000_000 })));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toMatch("larger than 1000000 bytes");
  });

  it("an event just under maxEventBytes passes, split at every read", async () => {
    const whole = oneBigEvent(900);
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < whole.length; i += 7) pieces.push(whole.slice(i, i + 7));
    const events = await collectAll(new SSEJsonStream<{ text: string }>(response(pieces), { maxEventBytes: 1_000 }));
    expect(events.map((e) => e.text.length)).toEqual([900]);
  });

  it("a response without a body → a retryable ProviderError", () => {
    expect(() => new SSEJsonStream(new Response(null))).toThrow(/no body/);
  });
});

describe("readJsonBody", () => {
  const control = (onStop: (stop: () => void) => void = () => undefined) => ({ timeoutMs: 1_000, onStop });

  it("parses a body that arrives in several pieces, split inside a multi-byte character", async () => {
    const whole = new TextEncoder().encode('{"choices":[{"message":{"content":"naïve ✓"}}]}');
    const pieces = [whole.slice(0, 31), whole.slice(31, 33), whole.slice(33)];
    expect(await readJsonBody(response(pieces), control())).toEqual({ choices: [{ message: { content: "naïve ✓" } }] });
  });

  it("a stop cancels the body: the read ends with a SyntaxError (the base reports the deadline)", async () => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    // Half a body, then nothing more: without the stop this read would never end.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"partial":'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const pending = readJsonBody(
      new Response(body),
      control((s) => (stop = s)),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cancelled).toBe(false);
    stop?.();
    expect(await rejectionOf(pending)).toBeInstanceOf(SyntaxError);
    expect(cancelled).toBe(true);
  });
});
