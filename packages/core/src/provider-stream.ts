import type { StreamChunk } from "./types";

/**
 * A provider's stream as a hand-written async iterator: `open` starts the request (once, on the
 * first `next()`), `map` turns each event of the provider's stream into zero or more chunks
 * (pushed to `out`), `end` runs after the last event (push the finish chunk, or throw when the
 * stream was cut). Unlike an `async function*`, which costs a promise and several microtasks per
 * chunk and layer, a chunk here costs one `then` on the provider's own `next()`.
 *
 * Iterate it one `next()` at a time (the `Model` base class does).
 */
export function providerStream<T>(
  open: () => Promise<AsyncIterable<T>> | AsyncIterable<T>,
  map: (event: T, out: StreamChunk[]) => void,
  end?: (out: StreamChunk[]) => void,
): AsyncIterableIterator<StreamChunk> {
  return new ProviderStream(open, map, end);
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

class ProviderStream<T> implements AsyncIterableIterator<StreamChunk> {
  readonly #open: () => Promise<AsyncIterable<T>> | AsyncIterable<T>;
  readonly #map: (event: T, out: StreamChunk[]) => void;
  readonly #end: ((out: StreamChunk[]) => void) | undefined;
  #source: AsyncIterator<T> | undefined;
  #started = false;
  #ended = false;
  readonly #out: StreamChunk[] = [];
  #read = 0;

  constructor(open: () => Promise<AsyncIterable<T>> | AsyncIterable<T>, map: (event: T, out: StreamChunk[]) => void, end: ((out: StreamChunk[]) => void) | undefined) {
    this.#open = open;
    this.#map = map;
    this.#end = end;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamChunk> {
    return this;
  }

  next(): Promise<IteratorResult<StreamChunk>> {
    if (this.#read < this.#out.length) return Promise.resolve(this.#take());
    if (this.#ended) return Promise.resolve(DONE);
    if (!this.#started) {
      this.#started = true;
      let opened: Promise<AsyncIterable<T>> | AsyncIterable<T>;
      try {
        opened = this.#open();
      } catch (error) {
        this.#ended = true;
        return Promise.reject(error);
      }
      return Promise.resolve(opened).then(this.#onOpen, this.#onError);
    }
    return this.#pull();
  }

  return(): Promise<IteratorResult<StreamChunk>> {
    const source = this.#source;
    const stop = !this.#ended && source?.return !== undefined;
    this.#ended = true;
    this.#out.length = 0;
    this.#read = 0;
    if (!stop) return Promise.resolve(DONE);
    try {
      return Promise.resolve((source as AsyncIterator<T> & { return: () => unknown }).return()).then(
        () => DONE,
        () => DONE,
      );
    } catch {
      return Promise.resolve(DONE);
    }
  }

  #pull(): Promise<IteratorResult<StreamChunk>> {
    try {
      return (this.#source as AsyncIterator<T>).next().then(this.#onEvent, this.#onError);
    } catch (error) {
      this.#ended = true;
      return Promise.reject(error);
    }
  }

  #take(): IteratorResult<StreamChunk> {
    const chunk = this.#out[this.#read++] as StreamChunk;
    if (this.#read === this.#out.length) {
      this.#out.length = 0;
      this.#read = 0;
    }
    return { done: false, value: chunk };
  }

  readonly #onOpen = (iterable: AsyncIterable<T>): Promise<IteratorResult<StreamChunk>> | IteratorResult<StreamChunk> => {
    if (this.#ended) {
      // return() came first: stop the stream that has just opened.
      const it = iterable[Symbol.asyncIterator]();
      void Promise.resolve(it.return?.()).catch(() => undefined);
      return DONE;
    }
    this.#source = iterable[Symbol.asyncIterator]();
    return this.#pull();
  };

  readonly #onEvent = (result: IteratorResult<T>): Promise<IteratorResult<StreamChunk>> | IteratorResult<StreamChunk> => {
    if (this.#ended) return DONE;
    if (result.done) {
      this.#ended = true;
      this.#end?.(this.#out);
      return this.#read < this.#out.length ? this.#take() : DONE;
    }
    try {
      this.#map(result.value, this.#out);
    } catch (error) {
      // As a `for await` loop would: stop the provider's stream (it frees the connection), then fail.
      this.#ended = true;
      let stopped: unknown;
      try {
        stopped = (this.#source as AsyncIterator<T>).return?.();
      } catch {
        // Failing to stop is not the error to report.
      }
      return Promise.resolve(stopped).then(
        () => Promise.reject(error),
        () => Promise.reject(error),
      );
    }
    return this.#read < this.#out.length ? this.#take() : this.#pull();
  };

  readonly #onError = (error: unknown): never => {
    this.#ended = true;
    throw error;
  };
}
