import { seededRandom } from "@orchestrator-ts/core";

/** Delay this response by `ms`, then reply normally. */
export interface LatencyFault {
  type: "latency";
  ms: number;
}

/** Reply with an HTTP error rendered in the protocol's own documented error body. */
export interface StatusFault {
  type: "status";
  status: number;
  /** Sent as `retry-after` (seconds). A 429 without either field gets `retry-after: 1`. */
  retryAfterSeconds?: number;
  /** Sent as `retry-after-ms` by protocols whose SDK reads it (OpenAI); also sets `retry-after`. */
  retryAfterMs?: number;
  /** Overrides the protocol's default error message. */
  message?: string;
  /** Replaces the whole rendered body (an object is sent as JSON, a string as is). */
  body?: unknown;
  /** Extra response headers, e.g. `{ "x-should-retry": "false" }`. */
  headers?: Record<string, string>;
}

/** Destroy the socket without writing any response. */
export interface DropFault {
  type: "drop";
}

/**
 * End a streamed reply after `afterChunks` frames (SSE events / NDJSON lines) without the
 * protocol's terminator. `mode: "end"` (default) ends the HTTP response cleanly and closes the
 * connection, so only the missing terminator tells; `mode: "destroy"` resets the socket, which
 * clients surface as a network error. A non-streamed reply gets a truncated JSON body instead.
 */
export interface CutStreamFault {
  type: "cut-stream";
  afterChunks: number;
  mode?: "end" | "destroy";
}

/** Insert a garbage frame after `afterChunks` frames (non-streamed replies: a garbage body). */
export interface MalformedChunkFault {
  type: "malformed-chunk";
  afterChunks: number;
  /** The garbage; defaults to the protocol's framing around `{"broken": `. */
  payload?: string;
}

/** The provider's real "context length exceeded" error. */
export interface ContextLengthFault {
  type: "context-length";
}

/** Never respond: the request stays open until the client aborts or the server closes. */
export interface HangFault {
  type: "hang";
}

export type Fault =
  | LatencyFault
  | StatusFault
  | DropFault
  | CutStreamFault
  | MalformedChunkFault
  | ContextLengthFault
  | HangFault;

export type FaultType = Fault["type"];

/** Stream-shaping faults: the only ones a route handler sees; the others are served before it. */
export type StreamFault = CutStreamFault | MalformedChunkFault;

/** Probabilities (0..1, checked in this order) for random faults, drawn from a seeded PRNG. */
export interface FaultRates {
  rateLimit?: number;
  serverError?: number;
  drop?: number;
  cutStream?: number;
  /** `retry-after` on random 429s (default 0, so retrying clients stay fast). */
  retryAfterSeconds?: number;
  /** Status of random server errors (default 500). */
  serverErrorStatus?: number;
  /** Frames delivered before a random cut (default 2). */
  cutAfterChunks?: number;
  cutMode?: "end" | "destroy";
}

export const FAULT_TYPES: readonly FaultType[] = [
  "latency",
  "status",
  "drop",
  "cut-stream",
  "malformed-chunk",
  "context-length",
  "hang",
];

export function emptyFaultCounts(): Record<FaultType, number> {
  const counts = {} as Record<FaultType, number>;
  for (const type of FAULT_TYPES) counts[type] = 0;
  return counts;
}

/** The faults a server serves: a queue first, then random faults at the given rates (same seed, same sequence). */
export class FaultPlan {
  readonly #queue: (Fault | null)[] = [];
  #rates: FaultRates | undefined;
  #random: () => number = Math.random;

  get pending(): number {
    return this.#queue.length;
  }

  enqueue(faults: readonly (Fault | null)[]): void {
    this.#queue.push(...faults);
  }

  setRates(rates: FaultRates, seed: number): void {
    this.#rates = { ...rates };
    this.#random = seededRandom(seed);
  }

  clear(): void {
    this.#queue.length = 0;
    this.#rates = undefined;
  }

  /** The fault for the next request, if any (`null` in the queue is a normal reply). */
  take(): Fault | undefined {
    if (this.#queue.length > 0) return this.#queue.shift() ?? undefined;
    const rates = this.#rates;
    if (!rates) return undefined;
    let r = this.#random();
    const pick = (p: number | undefined): boolean => {
      const probability = p ?? 0;
      if (r < probability) return true;
      r -= probability;
      return false;
    };
    if (pick(rates.rateLimit)) return { type: "status", status: 429, retryAfterSeconds: rates.retryAfterSeconds ?? 0 };
    if (pick(rates.serverError)) return { type: "status", status: rates.serverErrorStatus ?? 500 };
    if (pick(rates.drop)) return { type: "drop" };
    if (pick(rates.cutStream))
      return { type: "cut-stream", afterChunks: rates.cutAfterChunks ?? 2, mode: rates.cutMode ?? "end" };
    return undefined;
  }
}

/** The retry headers of a status fault: `retry-after` (a 429 gets 1 s by default), and `retry-after-ms` for protocols that send it. */
export function statusFaultHeaders(
  fault: StatusFault,
  retryAfterMsHeader: boolean | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  let seconds = fault.retryAfterSeconds;
  if (seconds === undefined && fault.retryAfterMs !== undefined) seconds = Math.ceil(fault.retryAfterMs / 1000);
  if (seconds === undefined && fault.status === 429) seconds = 1;
  if (seconds !== undefined) {
    headers["retry-after"] = String(seconds);
    if (retryAfterMsHeader) headers["retry-after-ms"] = String(fault.retryAfterMs ?? seconds * 1000);
  }
  return { ...headers, ...fault.headers };
}
