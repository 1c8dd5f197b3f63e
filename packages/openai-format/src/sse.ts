import { type CallControl, DEFAULT_MAX_EVENT_BYTES, ProviderError, eventTooLargeError } from "@orchestrator-ts/core";
import { TAKE } from "@orchestrator-ts/core/internal";

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
}) as IteratorReturnResult<undefined>;
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

/**
 * Where a `Response`-shaped answer keeps its body as a Node stream (provider-openai's undici
 * transport): the readers below take it straight, without a web stream in between.
 */
export const NODE_BODY: unique symbol = Symbol.for("orchestrator-ts.node-body") as never;

/** What the readers need of a body: the reader of a web stream, or the same over a Node stream. */
interface BodyReader {
  read(): Promise<ReadResult>;
  cancel(): Promise<unknown>;
  /** Whether the whole body has been received (its connection is free again); unknown for a web stream. */
  complete?(): boolean;
}

interface NodeBody extends AsyncIterable<Uint8Array> {
  destroy(): unknown;
}

function bodyReader(response: Response): BodyReader | undefined {
  const node = (response as unknown as { [NODE_BODY]?: NodeBody })[NODE_BODY];
  if (node === undefined) return response.body?.getReader();
  const iterator = node[Symbol.asyncIterator]();
  let cancelled = false;
  return {
    // A body cut mid-way fails as it does through fetch: TypeError("terminated") with the cause;
    // a read pending when the body is cancelled ends, as a web stream reader's does.
    read: () =>
      iterator.next().then(undefined, (error: unknown) => {
        if (cancelled) return { done: true, value: undefined };
        throw new TypeError("terminated", { cause: error });
      }) as Promise<ReadResult>,
    cancel: () => {
      cancelled = true;
      node.destroy();
      return Promise.resolve();
    },
    complete: () => (node as { _readableState?: { ended?: boolean } })._readableState?.ended === true,
  };
}

/**
 * How long a stream waits after `[DONE]` for its body to end before it is done anyway and the body
 * is cancelled: the end usually comes with `[DONE]` or just after it (waiting keeps the connection
 * reusable); a server that keeps the response open must not hold the call, its socket or the process.
 */
export const DONE_GRACE_MS = 1_000;
// One decoder for every stream, never in streaming mode: a TextDecoder per stream costs more than
// a short stream's parsing, and the bytes decoded always end at a line end (LF and CR never occur
// inside a multi-byte UTF-8 sequence), so no character is ever split.
const UTF8 = new TextDecoder();
const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

/**
 * A whole JSON response body, read through its reader so that `control.onStop` can cancel it
 * (the deadline or an abort after the headers came). A cut or garbled body is a `SyntaxError`.
 */
export function readJsonBody<T>(response: Response, control: CallControl): Promise<T> {
  const reader = bodyReader(response);
  if (!reader) return Promise.reject(new ProviderError("The provider's response has no body.", { retryable: true }));
  control.onStop(() => {
    reader.cancel().catch(() => undefined);
  });
  let first: Uint8Array | undefined;
  let parts: Uint8Array[] | undefined;
  let length = 0;
  const step = (result: ReadResult): T | Promise<T> => {
    if (!result.done) {
      const bytes = result.value;
      length += bytes.length;
      if (first === undefined) first = bytes;
      else (parts ??= [first]).push(bytes);
      return reader.read().then(step);
    }
    let all = first ?? new Uint8Array(0);
    if (parts !== undefined) {
      all = new Uint8Array(length);
      let at = 0;
      for (const part of parts) {
        all.set(part, at);
        at += part.length;
      }
    }
    return JSON.parse(UTF8.decode(all)) as T;
  };
  return reader.read().then(step);
}

/** Bounds and hooks of `SSEJsonStream`: the largest event, the error-event mapping. */
export interface SSEJsonStreamOptions {
  /**
   * The largest event accepted, in bytes (its data lines, or a line still waiting for its end).
   * Past it the stream fails with a `ProviderError` and the body is cancelled. Default 4 MiB.
   */
  maxEventBytes?: number;
  /** Named in that error. */
  provider?: string;
  model?: string;
  /**
   * The error thrown for an event whose JSON has an `error` member (a server failing mid-answer),
   * given that member and the response's headers. Default: a `ProviderError` carrying the
   * message, retryable unless the server calls the request invalid. An SDK-based caller returns
   * its SDK's error here (the `openai` SDK's `APIError`), so that its error mapping applies.
   */
  onErrorEvent?: (error: object, headers: Headers) => Error;
  /**
   * Makes, once per stream, what turns an event's data into its value (default: `JSON.parse`).
   * It must throw what `JSON.parse` throws for malformed JSON. `chatChunkParser` is one for a
   * chat-completions stream read by `ChatStreamDecoder`: most text deltas are not parsed at all,
   * and text deltas that arrived together are handed on as one.
   */
  parser?: () => EventDataParser;
}

/**
 * Turns an event's data into its value (see `SSEJsonStreamOptions.parser`). A parser that can tell
 * a text-only event from its data alone also has `textOf` (that text, or undefined for any other
 * event) and `textEvent` (the value of a text-only event with some text): the stream then joins
 * text-only events that are already read, one after another, into one event with their texts
 * joined. Nothing waits for that: only events the stream holds at once are joined, so a server
 * that sends each delta on its own still has each one handed on as it comes.
 */
export interface EventDataParser {
  (data: string): unknown;
  /** The text of `data` when it is a text-only event (told without parsing it), else undefined. */
  textOf?: (data: string) => string | undefined;
  /** The value of a text-only event carrying `text` (what the parser would give for one). */
  textEvent?: (text: string) => unknown;
}

/**
 * The JSON events of an OpenAI-format server-sent-events body (`data: {…}` blocks up to
 * `data: [DONE]`), read straight from a `Response`. A provider gets it from its SDK
 * (`create(…).asResponse()`): the SDK still builds, authenticates and sends the request, retries
 * it and maps non-2xx answers to its errors; only the body is parsed here. The `openai` SDK's own
 * `Stream` runs every event through four async generators and copies the bytes at each one; this is a hand-written
 * iterator over the body's reader: one promise per network read, and each event parsed only
 * when it is asked for (a read often holds the whole answer; the first event must not wait for
 * the last to be parsed).
 *
 * Semantics are the `openai` SDK's: lines end at LF, CRLF or CR; `:` lines are comments; several `data:`
 * lines join with "\n"; a blank line dispatches; `[DONE]` ends the events (done once the body has
 * ended, which keeps the connection reusable; see `#endAtDone`); an event whose JSON has an `error` member
 * throws (see `onErrorEvent`); malformed JSON throws a `SyntaxError` (the events before it are
 * delivered first; the body is then cancelled). An event left without its blank line when the
 * body ends is dropped. `return()` and `cancel()` cancel the body (the connection is released).
 *
 * Time is linear in the body's size, however it is cut into reads: each byte is scanned once and
 * a long line is joined once, when its end arrives. An event larger than `maxEventBytes` (one
 * line without an end, or many data lines) fails with a `ProviderError` instead of growing
 * without bound.
 */
export class SSEJsonStream<T> implements AsyncIterableIterator<T> {
  readonly #reader: BodyReader;
  readonly #headers: Headers;
  readonly #maxEventBytes: number;
  readonly #options: SSEJsonStreamOptions | undefined;
  // The reads since the last line end seen: the start of a line still arriving, joined once its end comes.
  #pending: Uint8Array[] | undefined;
  #pendingBytes = 0;
  // The last chunk ended in CR: a LF starting the next one belongs to it.
  #skipLF = false;
  // Decoded whole lines not parsed yet, from #at on.
  #text = "";
  #at = 0;
  #event: string | undefined;
  #data: string | undefined;
  #ended = false;
  // After `[DONE]`: what next() answers until the body's end (or the grace) makes it done.
  #doneWhenEnded: Promise<IteratorResult<T>> | undefined;
  // After `[DONE]`: the rest of the body is being read; cancel() and return() stop it.
  #draining = false;
  readonly #parseData: EventDataParser | undefined;

  constructor(response: Response, options?: SSEJsonStreamOptions) {
    const reader = bodyReader(response);
    if (!reader) throw new ProviderError("The provider's streaming response has no body.", { retryable: true });
    this.#reader = reader;
    this.#headers = response.headers;
    this.#options = options;
    this.#maxEventBytes = options?.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.#parseData = options?.parser?.();
  }

  /** The stream itself: it is iterated once. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** The next event's JSON, or done after `[DONE]` or the end of the body. */
  next(): Promise<IteratorResult<T>> {
    if (this.#ended) return this.#doneWhenEnded ?? Promise.resolve(DONE);
    if (this.#at < this.#text.length) {
      try {
        const result = this.#parse();
        if (result !== undefined) return result === DONE ? this.next() : Promise.resolve(result);
      } catch (error) {
        this.#fail();
        return Promise.reject(error);
      }
    }
    return this.#reader.read().then(this.#onRead);
  }

  /** The next event when the text read so far holds it (no read needed); see core's `TAKE`. */
  [TAKE](): IteratorResult<T> | undefined {
    if (this.#ended || this.#at >= this.#text.length) return undefined;
    try {
      const result = this.#parse();
      // Done at [DONE] only when the body has ended too; else next() waits for its end.
      return result === DONE && this.#doneWhenEnded !== undefined ? undefined : result;
    } catch (error) {
      this.#fail();
      throw error;
    }
  }

  /** Stops reading and releases the body. */
  return(): Promise<IteratorResult<T>> {
    if (this.#ended) {
      this.#stopDraining();
      return Promise.resolve(DONE);
    }
    this.#ended = true;
    this.#text = "";
    this.#pending = undefined;
    return this.#reader.cancel().then(
      () => DONE,
      () => DONE,
    );
  }

  /**
   * Stop reading now, also while a `next()` is pending (it then resolves as the end): for a
   * deadline or an abort. What was read but not yet taken is dropped.
   */
  cancel(): void {
    if (this.#ended) {
      this.#stopDraining();
      return;
    }
    this.#fail();
  }

  readonly #onRead = (result: ReadResult): IteratorResult<T> | Promise<IteratorResult<T>> => {
    // A line or event cut off by the end of the body is incomplete: dropped, as by the SDK.
    if (result.done || this.#ended) {
      this.#ended = true;
      return DONE;
    }
    let parsed: IteratorResult<T> | undefined;
    try {
      this.#feed(result.value);
      parsed = this.#parse();
    } catch (error) {
      this.#fail();
      throw error;
    }
    if (parsed === DONE) return this.#doneWhenEnded ?? DONE;
    return parsed ?? this.#reader.read().then(this.#onRead);
  };

  /**
   * `[DONE]` ends the events. The rest of the body (its chunked end) is read in the background so
   * that the connection stays reusable. When the body has already ended, as it usually has, the
   * stream is done at once: a consumer that writes it on (the gateway) then sends its end with its
   * last text, in one write. Otherwise it is done when the body ends, or `DONE_GRACE_MS` after
   * `[DONE]` with the body cancelled (a server that keeps the response open). More than
   * `maxEventBytes` after `[DONE]` cancels the body too. `cancel()` and `return()` stop that read.
   */
  #endAtDone(): void {
    this.#ended = true;
    this.#text = "";
    this.#pending = undefined;
    this.#draining = true;
    const reader = this.#reader;
    const limit = this.#maxEventBytes;
    let bytes = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drain = (result: ReadResult): unknown => {
      if (result.done) return undefined;
      bytes += result.value.byteLength;
      return bytes > limit ? reader.cancel() : reader.read().then(drain);
    };
    const drained = reader
      .read()
      .then(drain)
      .catch(() => undefined)
      .then(() => {
        this.#draining = false;
        if (timer !== undefined) clearTimeout(timer);
        return DONE;
      });
    if (reader.complete?.() === true) return;
    const grace = new Promise<IteratorResult<T>>((resolve) => {
      timer = setTimeout(() => {
        reader.cancel().catch(() => undefined);
        resolve(DONE);
      }, DONE_GRACE_MS);
    });
    this.#doneWhenEnded = Promise.race([drained, grace]);
  }

  /** After `[DONE]`: stop reading the rest of the body (the call's stop, or the consumer left). */
  #stopDraining(): void {
    if (this.#draining) this.#reader.cancel().catch(() => undefined);
  }

  #fail(): void {
    this.#ended = true;
    this.#text = "";
    this.#pending = undefined;
    this.#reader.cancel().catch(() => undefined);
  }

  #tooLarge(): ProviderError {
    return eventTooLargeError(this.#maxEventBytes, this.#options);
  }

  /** Appends the whole lines of `bytes` (with any pending start of a line) to the text, LF-terminated. */
  #feed(bytes: Uint8Array): void {
    // Only the new bytes are scanned: a line arriving over many reads costs its length, not its length squared.
    let last = bytes.length - 1;
    while (last >= 0 && bytes[last] !== LF && bytes[last] !== CR) last--;
    if (last < 0) {
      if (bytes.length === 0) return;
      this.#pendingBytes += bytes.length;
      if (this.#pendingBytes > this.#maxEventBytes) throw this.#tooLarge();
      (this.#pending ??= []).push(bytes);
      return;
    }
    let data = last === bytes.length - 1 ? bytes : bytes.subarray(0, last + 1);
    const pending = this.#pending;
    if (pending !== undefined) {
      // The line that was waiting for its end, joined once.
      const joined = new Uint8Array(this.#pendingBytes + data.length);
      let at = 0;
      for (const part of pending) {
        joined.set(part, at);
        at += part.length;
      }
      joined.set(data, at);
      data = joined;
      this.#pending = undefined;
      this.#pendingBytes = 0;
    }
    if (last < bytes.length - 1) {
      const rest = bytes.slice(last + 1);
      if (rest.length > this.#maxEventBytes) throw this.#tooLarge();
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
    }
    let chunk = UTF8.decode(data);
    if (this.#skipLF) {
      this.#skipLF = false;
      if (chunk.charCodeAt(0) === LF) chunk = chunk.slice(1);
    }
    if (chunk.includes("\r")) {
      // Rare (OpenAI sends LF): fold CRLF and CR into LF, remembering a CR that may have its LF next.
      this.#skipLF = chunk.charCodeAt(chunk.length - 1) === CR;
      chunk = chunk.replace(/\r\n?/g, "\n");
    }
    this.#text = this.#at < this.#text.length ? this.#text.slice(this.#at) + chunk : chunk;
    this.#at = 0;
  }

  /** The next event from the text read so far, or `undefined` when it holds no complete one. */
  #parse(): IteratorResult<T> | undefined {
    const text = this.#text;
    let start = this.#at;
    let end = text.indexOf("\n", start);
    while (end >= 0) {
      this.#at = end + 1;
      if (end === start) {
        const event = this.#dispatch();
        if (event !== undefined) return event;
      } else {
        this.#field(text.slice(start, end));
      }
      start = end + 1;
      end = text.indexOf("\n", start);
    }
    this.#at = text.length;
    return undefined;
  }

  #field(line: string): void {
    if (line.charCodeAt(0) === COLON) return;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    if (name !== "data" && name !== "event") return;
    const value = colon < 0 ? "" : line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    if (name === "data") {
      // The event's data counts against the bound as it grows (its lines may each be short).
      if ((this.#data === undefined ? 0 : this.#data.length + 1) + value.length > this.#maxEventBytes)
        throw this.#tooLarge();
      this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
    } else this.#event = value;
  }

  #dispatch(): IteratorResult<T> | undefined {
    const data = this.#data;
    const event = this.#event;
    this.#data = undefined;
    this.#event = undefined;
    if (data === undefined && event === undefined) return undefined;
    const text = data ?? "";
    if (text.startsWith("[DONE]")) {
      this.#endAtDone();
      return DONE;
    }
    const parseData = this.#parseData;
    if (parseData?.textOf !== undefined && parseData.textEvent !== undefined) {
      const content = parseData.textOf(text);
      if (content !== undefined)
        return { done: false, value: parseData.textEvent(this.#textThatFollows(content, parseData.textOf)) as T };
    }
    const parsed = (parseData === undefined ? JSON.parse(text) : parseData(text)) as { error?: unknown } | null;
    if (parsed !== null && typeof parsed === "object" && parsed.error) {
      const onErrorEvent = this.#options?.onErrorEvent;
      throw onErrorEvent
        ? onErrorEvent(parsed.error as object, this.#headers)
        : errorEventError(parsed.error, this.#options);
    }
    return { done: false, value: parsed as T };
  }

  /**
   * `text` with the texts of the text-only events read right after it: each a single `data:` line
   * and its blank line, already in the text read so far. The first other line or event (or one
   * not complete yet) is left where it is, for the next `#parse`.
   */
  #textThatFollows(text: string, textOf: (data: string) => string | undefined): string {
    const read = this.#text;
    let joined = text;
    for (;;) {
      const at = this.#at;
      if (!read.startsWith(DATA_FIELD, at)) return joined;
      const end = read.indexOf("\n", at);
      // The line must end and be followed by the blank line (the text holds whole lines only).
      if (end < 0 || read.charCodeAt(end + 1) !== LF) return joined;
      const from =
        read.charCodeAt(at + DATA_FIELD.length) === SPACE ? at + DATA_FIELD.length + 1 : at + DATA_FIELD.length;
      // Too large for an event: left to #parse, which fails the stream.
      if (end - from > this.#maxEventBytes) return joined;
      const more = textOf(read.slice(from, end));
      if (more === undefined) return joined;
      joined += more;
      this.#at = end + 2;
    }
  }
}

/** Used by `SSEJsonStream.#textThatFollows`: the field name of a data line. */
const DATA_FIELD = "data:";

function errorEventError(error: unknown, options: SSEJsonStreamOptions | undefined): ProviderError {
  const detail =
    typeof error === "object" && error !== null ? (error as { message?: unknown; type?: unknown }) : { message: error };
  const message = typeof detail.message === "string" ? detail.message : JSON.stringify(error);
  return new ProviderError(`The provider reported an error mid-stream: ${message}`, {
    ...(options?.provider !== undefined ? { provider: options.provider } : {}),
    ...(options?.model !== undefined ? { model: options.model } : {}),
    retryable: detail.type !== "invalid_request_error",
  });
}
