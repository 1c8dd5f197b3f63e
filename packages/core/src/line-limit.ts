import { ProviderError } from "./errors";

/** The default bound on one streamed event (an SSE event, an NDJSON line): far above any real chunk, far below trouble. */
export const DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024;

const LF = 10;
const CR = 13;

// Node's Buffer search runs at memchr speed on any Uint8Array; TypedArray#indexOf walks element by element (~50x slower here).
const nodeIndexOf = (
  globalThis as { Buffer?: { prototype: { indexOf: (this: Uint8Array, value: number, from: number) => number } } }
).Buffer?.prototype.indexOf;
const indexOf: (bytes: Uint8Array, value: number, from: number) => number = nodeIndexOf
  ? (bytes, value, from) => nodeIndexOf.call(bytes, value, from)
  : (bytes, value, from) => bytes.indexOf(value, from);

/** How `limitLines` / `fetchWithLineLimit` frame and bound a stream: the largest event and what an event is. */
export interface LineLimitOptions {
  /** The largest event accepted, in bytes. Default `DEFAULT_MAX_EVENT_BYTES` (4 MiB). */
  maxEventBytes?: number;
  /**
   * `"sse"`: an event is the lines up to a blank line (server-sent events); `"lines"`: every line
   * is an event (NDJSON). Default `"sse"`.
   */
  framing?: "sse" | "lines";
  /** Named in the error. */
  provider?: string;
  model?: string;
}

/** The error a stream fails with when one event is larger than the bound. */
export function eventTooLargeError(
  maxEventBytes: number,
  context: { provider?: string; model?: string } = {},
): ProviderError {
  return new ProviderError(
    `The provider's stream sent an event larger than ${maxEventBytes} bytes (maxEventBytes); the stream was cancelled.`,
    {
      retryable: false,
      ...(context.provider !== undefined ? { provider: context.provider } : {}),
      ...(context.model !== undefined ? { model: context.model } : {}),
    },
  );
}

/**
 * The same bytes, re-cut so that every read ends at a line end, with a bound on one event's size.
 *
 * SDK stream parsers (Anthropic's line decoder, the Hugging Face client's event-source parser,
 * ollama's NDJSON reader) append each read to the unfinished line and scan it again from its
 * start: a line arriving in many reads costs its length squared (a 16 MB line: ~60-90 s of one
 * core here). Holding the start of a line until its end arrives, and handing it over whole, makes
 * their work linear. Past `maxEventBytes` the stream fails with a non-retryable `ProviderError`
 * and the source is cancelled, instead of buffering without bound. Lines end at LF, CR or CRLF.
 * Reads that already end at a line end (the usual case) pass through as they are.
 */
export function limitLines(
  body: ReadableStream<Uint8Array>,
  options: LineLimitOptions = {},
): ReadableStream<Uint8Array> {
  const max = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const sse = (options.framing ?? "sse") === "sse";
  const reader = body.getReader();
  // The start of a line whose end has not arrived yet, in the reads it came in.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  // Bytes of the current event's finished lines (SSE: since the last blank line).
  let eventBytes = 0;
  // The last read ended in CR: a LF first in the next one completes that line end.
  let skipLF = false;
  const tooLarge = () => eventTooLargeError(max, options);

  /** Counts one read's lines against the bound; returns the index after its last line end (0: none). */
  const scan = (bytes: Uint8Array): number => {
    let i = 0;
    if (skipLF) {
      skipLF = false;
      if (bytes[0] === LF) i = 1;
    }
    let complete = i;
    let lineStart = i;
    // Bytes of the first line that came in earlier reads.
    let carried = pendingBytes;
    // Native searches, each restarted only once passed: every byte is looked at a bounded number of times.
    let lf = indexOf(bytes, LF, i);
    let cr = indexOf(bytes, CR, i);
    for (;;) {
      if (lf !== -1 && lf < i) lf = indexOf(bytes, LF, i);
      if (cr !== -1 && cr < i) cr = indexOf(bytes, CR, i);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) break;
      const lineBytes = end - lineStart + carried;
      carried = 0;
      let after = end + 1;
      if (bytes[end] === CR) {
        if (after === bytes.length) skipLF = true;
        else if (bytes[after] === LF) after++;
      }
      if (!sse || lineBytes === 0) eventBytes = 0;
      else {
        eventBytes += lineBytes + 1;
        if (eventBytes > max) throw tooLarge();
      }
      complete = lineStart = i = after;
    }
    if (bytes.length - lineStart + carried + (sse ? eventBytes : 0) > max) throw tooLarge();
    return complete;
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let result: Awaited<ReturnType<typeof reader.read>>;
          try {
            result = await reader.read();
          } catch (error) {
            controller.error(error);
            return;
          }
          if (result.done) {
            // What is left has no line end: the parser decides what an unfinished line means.
            if (pendingBytes > 0) controller.enqueue(join(pending, pendingBytes));
            pending = [];
            pendingBytes = 0;
            controller.close();
            return;
          }
          const bytes = result.value;
          if (bytes.length === 0) continue;
          let complete: number;
          try {
            complete = scan(bytes);
          } catch (error) {
            pending = [];
            reader.cancel(error).catch(() => undefined);
            controller.error(error);
            return;
          }
          if (complete === 0) {
            pending.push(bytes);
            pendingBytes += bytes.length;
            continue;
          }
          const head = complete === bytes.length ? bytes : bytes.subarray(0, complete);
          let out = head;
          if (pendingBytes > 0) {
            pending.push(head);
            out = join(pending, pendingBytes + head.length);
          }
          pending = complete === bytes.length ? [] : [bytes.slice(complete)];
          pendingBytes = bytes.length - complete;
          controller.enqueue(out);
          return;
        }
      },
      cancel(reason) {
        pending = [];
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function join(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A `fetch` whose successful streamed answers (anything but `application/json`) go through
 * `limitLines`: give it to an SDK whose own stream parser would otherwise be quadratic in the
 * length of a line and unbounded in memory.
 */
export function fetchWithLineLimit(base: typeof fetch, options: LineLimitOptions = {}): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (!response.ok || response.body === null) return response;
    const type = response.headers.get("content-type") ?? "";
    if (/^application\/json\b/i.test(type)) return response;
    const limited = new Response(limitLines(response.body, options), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    // A new Response has no url; SDKs put it in their errors.
    if (response.url) Object.defineProperty(limited, "url", { value: response.url });
    return limited;
  };
}
