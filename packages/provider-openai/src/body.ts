import { ProviderError } from "@orchestrator/core";
import { APIError } from "openai";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
// One decoder for every stream, never in streaming mode: a TextDecoder per stream costs more than
// a short stream's parsing, and the bytes decoded always end at a line end (LF and CR never occur
// inside a multi-byte UTF-8 sequence), so no character is ever split.
const UTF8 = new TextDecoder();
const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

/**
 * The JSON events of an OpenAI-format server-sent-events body (`data: {…}` blocks up to
 * `data: [DONE]`), read straight from the `Response` the SDK made (`create(…).asResponse()`).
 *
 * The SDK still builds, authenticates and sends the request, retries it and maps non-2xx
 * answers to its errors; only the body is parsed here. The SDK's own `Stream` runs every event
 * through four async generators and copies the bytes at each one; this is a hand-written
 * iterator over the body's reader (one promise per network read, none per event).
 *
 * Semantics are the SDK's: lines end at LF, CRLF or CR; `:` lines are comments; several `data:`
 * lines join with "\n"; a blank line dispatches; `[DONE]` ends the events (the body is still read
 * to its end, which keeps the connection reusable); an event whose JSON has an `error` member
 * throws the SDK's `APIError`; malformed JSON throws a `SyntaxError`. Events parsed before a
 * failure are delivered first. An event left without its blank line when the body ends is
 * dropped. `return()` cancels the body (the connection is released).
 */
export class SSEJsonStream<T> implements AsyncIterableIterator<T> {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #headers: Headers;
  // The bytes after the last line end seen: the start of a line still arriving.
  #pending: Uint8Array | undefined;
  // The last chunk ended in CR: a LF starting the next one belongs to it.
  #skipLF = false;
  #event: string | undefined;
  #data: string | undefined;
  #queue: T[] = [];
  #read = 0;
  #sawDone = false;
  #ended = false;
  #error: unknown;
  #failed = false;

  constructor(response: Response) {
    if (!response.body) throw new ProviderError("The provider's streaming response has no body.", { retryable: true });
    this.#reader = response.body.getReader();
    this.#headers = response.headers;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#read < this.#queue.length) return Promise.resolve(this.#take());
    if (this.#failed) return Promise.reject(this.#takeError());
    if (this.#ended) return Promise.resolve(DONE);
    return this.#reader.read().then(this.#onRead);
  }

  return(): Promise<IteratorResult<T>> {
    this.#queue = [];
    this.#read = 0;
    this.#failed = false;
    this.#error = undefined;
    if (this.#ended) return Promise.resolve(DONE);
    this.#ended = true;
    return this.#reader.cancel().then(
      () => DONE,
      () => DONE,
    );
  }

  /**
   * Stop reading now, also while a `next()` is pending (it then resolves as the end): for a
   * deadline or an abort. What was parsed but not yet taken is dropped.
   */
  cancel(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue = [];
    this.#read = 0;
    this.#reader.cancel().catch(() => undefined);
  }

  readonly #onRead = (result: ReadResult): IteratorResult<T> | Promise<IteratorResult<T>> => {
    if (result.done || this.#ended) {
      this.#ended = true;
      // A line or event cut off by the end of the body is incomplete: dropped, as by the SDK.
    } else {
      try {
        this.#feedBytes(result.value);
      } catch (error) {
        this.#fail(error);
      }
    }
    if (this.#read < this.#queue.length) return this.#take();
    if (this.#failed) throw this.#takeError();
    if (this.#ended) return DONE;
    return this.#reader.read().then(this.#onRead);
  };

  #take(): IteratorResult<T> {
    const value = this.#queue[this.#read++] as T;
    if (this.#read === this.#queue.length) {
      this.#queue = [];
      this.#read = 0;
    }
    return { done: false, value };
  }

  #takeError(): unknown {
    const error = this.#error;
    this.#failed = false;
    this.#error = undefined;
    return error;
  }

  /** Stop reading at the first failure; what was parsed before it is still delivered. */
  #fail(error: unknown): void {
    this.#failed = true;
    this.#error = error;
    this.#ended = true;
    this.#reader.cancel().catch(() => undefined);
  }

  #feedBytes(bytes: Uint8Array): void {
    let data = bytes;
    const pending = this.#pending;
    if (pending !== undefined) {
      data = new Uint8Array(pending.length + bytes.length);
      data.set(pending);
      data.set(bytes, pending.length);
      this.#pending = undefined;
    }
    let last = data.length - 1;
    while (last >= 0 && data[last] !== LF && data[last] !== CR) last--;
    if (last < data.length - 1) this.#pending = data.slice(last + 1);
    if (last >= 0) this.#feed(UTF8.decode(last === data.length - 1 ? data : data.subarray(0, last + 1)));
  }

  /** Whole lines: `chunk` ends with a line end. */
  #feed(chunk: string): void {
    if (this.#skipLF) {
      this.#skipLF = false;
      if (chunk.charCodeAt(0) === LF) chunk = chunk.slice(1);
    }
    if (chunk.includes("\r")) {
      // Rare (OpenAI sends LF): fold CRLF and CR into LF, remembering a CR that may have its LF next.
      this.#skipLF = chunk.charCodeAt(chunk.length - 1) === CR;
      chunk = chunk.replace(/\r\n?/g, "\n");
    }
    let start = 0;
    let end = chunk.indexOf("\n");
    while (end >= 0) {
      if (end === start) this.#dispatch();
      else this.#field(chunk.slice(start, end));
      start = end + 1;
      end = chunk.indexOf("\n", start);
    }
  }

  #field(line: string): void {
    if (line.charCodeAt(0) === COLON) return;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    if (name !== "data" && name !== "event") return;
    const value = colon < 0 ? "" : line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    if (name === "data") this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
    else this.#event = value;
  }

  #dispatch(): void {
    const data = this.#data;
    const event = this.#event;
    this.#data = undefined;
    this.#event = undefined;
    if (data === undefined && event === undefined) return;
    if (this.#sawDone) return;
    const text = data ?? "";
    if (text.startsWith("[DONE]")) {
      this.#sawDone = true;
      return;
    }
    const parsed = JSON.parse(text) as { error?: unknown } | null;
    if (parsed !== null && typeof parsed === "object" && parsed.error) {
      throw new APIError(undefined, parsed.error as object, undefined, this.#headers);
    }
    this.#queue.push(parsed as T);
  }
}
