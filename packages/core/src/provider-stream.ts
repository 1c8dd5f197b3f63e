import { TAKE, takerOf } from "./take";
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

/**
 * Internal to core: the `Model` base class drives a provider stream with its own per-chunk handler
 * run inside the provider's `then`, so a chunk costs one promise for both layers.
 */
export const DRIVE: unique symbol = Symbol("providerStream.drive");

export type StreamDriver = (result: IteratorResult<StreamChunk>) => unknown;

export function isDrivable(
  source: unknown,
): source is { [DRIVE](onResult: StreamDriver, onError: (error: unknown) => never): void; next(): Promise<unknown> } {
  return source instanceof ProviderStream;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
}) as IteratorReturnResult<undefined>;

class ProviderStream<T> implements AsyncIterableIterator<StreamChunk> {
  readonly #open: () => Promise<AsyncIterable<T>> | AsyncIterable<T>;
  readonly #map: (event: T, out: StreamChunk[]) => void;
  readonly #end: ((out: StreamChunk[]) => void) | undefined;
  #source: AsyncIterator<T> | undefined;
  #started = false;
  #ended = false;
  #out: StreamChunk[] = [];
  #read = 0;
  #driver: StreamDriver | undefined;
  #driverError: ((error: unknown) => never) | undefined;

  constructor(
    open: () => Promise<AsyncIterable<T>> | AsyncIterable<T>,
    map: (event: T, out: StreamChunk[]) => void,
    end: ((out: StreamChunk[]) => void) | undefined,
  ) {
    this.#open = open;
    this.#map = map;
    this.#end = end;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamChunk> {
    return this;
  }

  /** From now on, next() resolves to what `onResult` returns for each result, and rejects with what `onError` throws. */
  [DRIVE](onResult: StreamDriver, onError: (error: unknown) => never): void {
    this.#driver = onResult;
    this.#driverError = onError;
  }

  next(): Promise<IteratorResult<StreamChunk>> {
    if (this.#read < this.#out.length) return this.#settle(this.#take());
    if (this.#ended) return this.#settle(DONE);
    if (!this.#started) {
      this.#started = true;
      let opened: Promise<AsyncIterable<T>> | AsyncIterable<T>;
      try {
        opened = this.#open();
      } catch (error) {
        return Promise.reject(error).then(undefined, this.#onError);
      }
      return Promise.resolve(opened).then(this.#onOpen, this.#onError);
    }
    return this.#pull();
  }

  /** A result known at once, through the driver when there is one. */
  #settle(result: IteratorResult<StreamChunk>): Promise<IteratorResult<StreamChunk>> {
    if (this.#driver === undefined) return Promise.resolve(result);
    try {
      return Promise.resolve(this.#driver(result) as IteratorResult<StreamChunk>);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #emit(result: IteratorResult<StreamChunk>): Promise<IteratorResult<StreamChunk>> | IteratorResult<StreamChunk> {
    return this.#driver === undefined ? result : (this.#driver(result) as IteratorResult<StreamChunk>);
  }

  return(): Promise<IteratorResult<StreamChunk>> {
    const source = this.#source;
    const stop = !this.#ended && source?.return !== undefined;
    this.#ended = true;
    this.#out = [];
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

  /**
   * The next chunk when it is known without waiting: one already mapped, or mapped now from an
   * event the source holds (see `TAKE`). Not through the driver: the taker handles the result.
   */
  [TAKE](): IteratorResult<StreamChunk> | undefined {
    if (this.#read < this.#out.length) return this.#take();
    const source = this.#source;
    if (this.#ended || source === undefined) return undefined;
    const take = takerOf<T>(source);
    if (take === undefined) return undefined;
    for (;;) {
      let result: IteratorResult<T> | undefined;
      try {
        result = take.call(source);
      } catch (error) {
        this.#ended = true;
        throw error;
      }
      if (result === undefined) return undefined;
      if (result.done) {
        this.#ended = true;
        this.#end?.(this.#out);
        return this.#read < this.#out.length ? this.#take() : DONE;
      }
      try {
        this.#map(result.value, this.#out);
      } catch (error) {
        // As next() does: stop the source (it frees the connection), then fail.
        this.#ended = true;
        try {
          void Promise.resolve(source.return?.()).catch(() => undefined);
        } catch {
          // Failing to stop is not the error to report.
        }
        throw error;
      }
      if (this.#read < this.#out.length) return this.#take();
    }
  }

  #pull(): Promise<IteratorResult<StreamChunk>> {
    let next: Promise<IteratorResult<T>>;
    try {
      next = (this.#source as AsyncIterator<T>).next();
    } catch (error) {
      return Promise.reject(error).then(undefined, this.#onError);
    }
    return next.then(this.#onEvent, this.#onError);
  }

  #take(): IteratorResult<StreamChunk> {
    const chunk = this.#out[this.#read++] as StreamChunk;
    if (this.#read === this.#out.length) {
      // A fresh array is cheaper than truncating this one (a length store is a runtime call).
      this.#out = [];
      this.#read = 0;
    }
    return { done: false, value: chunk };
  }

  readonly #onOpen = (
    iterable: AsyncIterable<T>,
  ): Promise<IteratorResult<StreamChunk>> | IteratorResult<StreamChunk> => {
    if (this.#ended) {
      // return() came first: stop the stream that has just opened.
      const it = iterable[Symbol.asyncIterator]();
      void Promise.resolve(it.return?.()).catch(() => undefined);
      return this.#emit(DONE);
    }
    this.#source = iterable[Symbol.asyncIterator]();
    return this.#pull();
  };

  readonly #onEvent = (
    result: IteratorResult<T>,
  ): Promise<IteratorResult<StreamChunk>> | IteratorResult<StreamChunk> => {
    if (this.#ended) return this.#emit(DONE);
    if (result.done) {
      this.#ended = true;
      try {
        this.#end?.(this.#out);
      } catch (error) {
        return this.#onError(error);
      }
      return this.#emit(this.#read < this.#out.length ? this.#take() : DONE);
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
      const fail = (): never => this.#onError(error);
      return Promise.resolve(stopped).then(fail, fail);
    }
    return this.#read < this.#out.length ? this.#emit(this.#take()) : this.#pull();
  };

  readonly #onError = (error: unknown): never => {
    this.#ended = true;
    if (this.#driverError !== undefined) return this.#driverError(error);
    throw error;
  };
}
