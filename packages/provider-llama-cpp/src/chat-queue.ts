import type { StreamChunk } from "@orchestrator-ts/core";

/**
 * A single-producer, single-consumer queue between node-llama-cpp's `onTextChunk` callback and an
 * async generator. The only allocation per token is the chunk object itself; the buffer is reused.
 */
export class ChunkQueue {
  #items: StreamChunk[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  #error: unknown;
  #failed = false;

  /** Bound once so it can be handed to node-llama-cpp as `onTextChunk`. */
  readonly pushText = (text: string): void => {
    this.#items.push({ type: "text", text });
    this.#signal();
  };

  end(last: StreamChunk): void {
    this.#items.push(last);
    this.#ended = true;
    this.#signal();
  }

  fail(error: unknown): void {
    this.#error = error;
    this.#failed = true;
    this.#ended = true;
    this.#signal();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The next buffered chunk, or undefined when the consumer must `wait()` (or the queue is done). */
  shift(): StreamChunk | undefined {
    if (this.#head < this.#items.length) {
      const chunk = this.#items[this.#head++];
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#head = 0;
      }
      return chunk;
    }
    if (this.#failed) throw this.#error;
    return undefined;
  }

  wait(): Promise<void> {
    if (this.#ended || this.#head < this.#items.length) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #signal(): void {
    const wake = this.#wake;
    if (wake) {
      this.#wake = undefined;
      wake();
    }
  }
}

/** Runs tasks one at a time, in arrival order: one context sequence serves one generation at a time. */
export class SerialLock {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  /** Tasks running or waiting. */
  get pending(): number {
    return this.#pending;
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal, onAbort?: () => Error): Promise<T> {
    const previous = this.#tail;
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tail = previous.then(() => mine);
    this.#pending++;
    try {
      await previous;
      // Aborted while queued: do not start a generation nobody waits for.
      if (signal?.aborted && onAbort) throw onAbort();
      return await task();
    } finally {
      this.#pending--;
      release();
    }
  }
}
