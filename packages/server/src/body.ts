import type { IncomingMessage } from "node:http";
import { GatewayError } from "./contract";

/** The default largest request body: room for a long conversation with a few inline images. */
export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

function tooLarge(limit: number): GatewayError {
  return new GatewayError(
    413,
    "request_too_large",
    `The request body is larger than the server's limit of ${limit} bytes.`,
    { code: "request_too_large" },
  );
}

/**
 * JSON nested deeper than this is refused before it is parsed. What handles a request after the
 * parser recurses (the SDKs' `JSON.stringify`, cache keys): a 30 KB body of 5,000 nested arrays
 * overflowed the stack inside the provider's SDK, which answered 502 and counted against the
 * model's health until its circuit opened for every client. Real requests (JSON schemas included)
 * stay far below it.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Whether `text` nests objects/arrays deeper than `max`. Strings are skipped with `indexOf`, so a
 * large inline image costs little; malformed text is left to `JSON.parse` to describe.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Jump to the closing quote: one not escaped by an odd run of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return false;
        let backslashes = 0;
        while (text.charCodeAt(i - 1 - backslashes) === BACKSLASH) backslashes++;
        if (backslashes % 2 === 0) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/**
 * The request body as JSON. Over `limit` bytes it rejects with a 413 at once, from the declared
 * `content-length` or as soon as the bytes read pass the limit, and reads no further: the caller
 * answers with `connection: close`, so the rest of an oversized body is never buffered.
 * Malformed JSON, and JSON nested deeper than `MAX_JSON_DEPTH`, is a 400.
 */
export function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => new BodyReader(req, limit, resolve, reject).start());
}

// One object per request holds the state the listeners need (no closures per request).
class BodyReader {
  readonly #req: IncomingMessage;
  readonly #limit: number;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;
  #chunks: Buffer[] = [];
  #size = 0;
  #done = false;

  constructor(
    req: IncomingMessage,
    limit: number,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    this.#req = req;
    this.#limit = limit;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const req = this.#req;
    req.on("data", this.#onData);
    req.on("end", this.#onEnd);
    req.on("error", this.#onError);
    req.on("aborted", this.#onAborted);
  }

  #finish(): void {
    this.#done = true;
    const req = this.#req;
    req.off("data", this.#onData);
    req.off("end", this.#onEnd);
    req.off("error", this.#onError);
    req.off("aborted", this.#onAborted);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#done) return;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.#finish();
      this.#chunks = [];
      // Stop reading: the answer goes out with `connection: close`.
      this.#req.pause();
      this.#reject(tooLarge(this.#limit));
      return;
    }
    this.#chunks.push(chunk);
  };

  readonly #onEnd = (): void => {
    if (this.#done) return;
    this.#finish();
    const chunks = this.#chunks;
    this.#chunks = [];
    const text =
      chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks, this.#size).toString("utf8");
    if (text.length === 0) {
      this.#reject(
        new GatewayError(400, "invalid_request_error", "The request has no body: send a JSON object.", {
          code: "invalid_json",
        }),
      );
      return;
    }
    if (text.length > MAX_JSON_DEPTH && nestedDeeperThan(text, MAX_JSON_DEPTH)) {
      this.#reject(
        new GatewayError(
          400,
          "invalid_request_error",
          `The request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels.`,
          { code: "invalid_json" },
        ),
      );
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.#reject(
        new GatewayError(
          400,
          "invalid_request_error",
          `The request body is not valid JSON (${(error as Error).message}).`,
          { code: "invalid_json" },
        ),
      );
      return;
    }
    this.#resolve(value);
  };

  readonly #onError = (error: Error): void => {
    if (this.#done) return;
    this.#finish();
    this.#reject(
      new GatewayError(400, "invalid_request_error", `The request body could not be read (${error.message}).`, {
        code: "invalid_body",
      }),
    );
  };

  readonly #onAborted = (): void => {
    if (this.#done) return;
    this.#finish();
    this.#reject(
      new GatewayError(400, "invalid_request_error", "The client closed the connection before the body was complete.", {
        code: "client_closed",
      }),
    );
  };
}
