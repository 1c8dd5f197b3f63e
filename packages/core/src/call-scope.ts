import { AbortError, type OrchestratorError, TimeoutError } from "./errors";
import { type Deadline, Deadlines } from "./deadlines";
import type { GenerateRequest } from "./types";
import { withFields } from "./with-fields";

/** What a provider that stops its own calls (`Model.stopsCallsItself`) gets with the request. */
export interface CallControl {
  /** The call's deadline, in ms from now: bound the wait for the response's headers by it. */
  readonly timeoutMs: number;
  /**
   * Register how to stop the call; the base calls it at the deadline or when the caller aborts, at
   * once if that has happened already. Registered once the response has started, it stops the
   * response (cancel its body); registered before the request is sent (`registersStopFirst`), it
   * stops a request still waiting too. A later call replaces it. The call may then end early or
   * fail: the base reports `TimeoutError` / `AbortError` either way.
   */
  onStop(stop: () => void): void;
}

/**
 * What a provider's `doStream` tells the base about its call besides the chunks; always given.
 * `warn` is `ModelOutput.warnings` for a stream: a setting the model cannot honour and left out
 * (an unsupported `temperature`, reasoning on a model that cannot reason). Report what the
 * request's mapping finds as it builds the request, before the first chunk: callers see those as
 * the stream starts (`stream.warnings`, the AI SDK's `stream-start`). Every warning of the call
 * reaches the finish chunk's `warnings`.
 */
export interface StreamReport {
  /** A setting of the request the model cannot honour and left out, in a sentence (the stream's `warnings`). */
  warn(message: string): void;
}

/** What a call's scope needs of its model: who it is (for errors) and its default deadline. */
export interface ScopedModel {
  readonly name: string;
  readonly provider: string;
  readonly timeoutMs: number;
}

/**
 * The signal a provider's request carries: always one of the call's own (`"per-call"`); none when
 * the caller gave none, else one of the call's own (`"unless-caller"`: `stopsCallsItself`); none at
 * all (`"none"`: `stopsCallsItself` with `registersStopFirst`).
 */
export type ProviderSignal = "per-call" | "unless-caller" | "none";

// Every call's deadline, on one timer.
const DEADLINES = new Deadlines();

/**
 * One call's deadline and abort wiring: a signal for the provider that fires on caller abort or
 * timeout, and `race` so a provider that ignores its signal still cannot hang the caller. A
 * provider that stops its own calls may get no signal (see `ProviderSignal`): the stop it
 * registered runs instead.
 */
export class CallScope implements CallControl, StreamReport {
  readonly request: GenerateRequest;
  /** What the provider reported with `warn`; made at the first warning (a call without any allocates nothing). */
  warnings: string[] | undefined;
  readonly #controller: AbortController | undefined;
  readonly #deadline: Deadline;
  readonly #outer: AbortSignal | undefined;
  readonly #model: ScopedModel;
  readonly #timeoutMs: number;
  #reason: "abort" | "timeout" | undefined;
  #rejectors: ((e: unknown) => void)[] = [];
  #stop: (() => void) | undefined;

  constructor(model: ScopedModel, request: GenerateRequest, signal: ProviderSignal = "per-call") {
    this.#model = model;
    this.#outer = request.signal;
    this.#timeoutMs = request.timeoutMs ?? model.timeoutMs;
    this.#deadline = DEADLINES.add(this.#timeoutMs, () => this.#abort("timeout"));
    if (this.#outer) this.#outer.addEventListener("abort", this.#onOuterAbort, { once: true });
    // Without a signal the caller's abort and the deadline reach the provider through the stop it
    // registers (`onStop`), and no controller is made per call. Otherwise the provider gets a signal of
    // this call's own, never the caller's: clients leave listeners on the signals they are given (the
    // openai SDK never removes its), and a caller's signal often lives for the whole process.
    if (signal === "none" || (signal === "unless-caller" && this.#outer === undefined)) {
      this.#controller = undefined;
      this.request = this.#outer === undefined ? request : withFields(request, { signal: undefined });
    } else {
      this.#controller = new AbortController();
      this.request = withFields(request, { signal: this.#controller.signal });
    }
    // Aborted while the call waited for initialisation or a free slot.
    if (this.#outer?.aborted) this.#abort("abort");
  }

  /**
   * Whether aborting this call reaches the provider now: it has a signal, or the provider has
   * registered its stop. Until then a provider without a signal (waiting for headers, or for an
   * error body its client reads) is raced against the deadline.
   */
  get stoppable(): boolean {
    return this.#controller !== undefined || this.#stop !== undefined;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  onStop(stop: () => void): void {
    this.#stop = stop;
    if (this.#reason) this.#runStop();
  }

  warn(message: string): void {
    if (this.warnings === undefined) this.warnings = [message];
    else this.warnings.push(message);
  }

  readonly #onOuterAbort = (): void => this.#abort("abort");

  #abort(reason: "abort" | "timeout"): void {
    if (this.#reason) return;
    this.#reason = reason;
    const error = this.abortError();
    this.#controller?.abort(error);
    for (const reject of this.#rejectors) reject(error);
    this.#rejectors = [];
    this.#runStop();
  }

  #runStop(): void {
    const stop = this.#stop;
    this.#stop = undefined;
    try {
      stop?.();
    } catch {
      // A stop that fails leaves the provider's own timeout; the caller still gets its error.
    }
  }

  /** Aborted or timed out. */
  get stopped(): boolean {
    return this.#reason !== undefined;
  }

  /** The error to report when this call was aborted or timed out, else `undefined`. */
  abortError(): OrchestratorError | undefined {
    if (this.#reason === undefined) return undefined;
    const context = { provider: this.#model.provider, model: this.#model.name };
    if (this.#reason === "abort") return new AbortError(undefined, context);
    if (this.#reason === "timeout")
      return new TimeoutError(`The call to ${this.#model.name} took longer than ${this.#timeoutMs} ms.`, {
        provider: this.#model.provider,
        model: this.#model.name,
        timeoutMs: this.#timeoutMs,
      });
    return undefined;
  }

  race<T>(promise: Promise<T>): Promise<T> {
    if (this.#reason) {
      promise.catch(() => undefined);
      return Promise.reject(this.abortError());
    }
    return new Promise<T>((resolve, reject) => {
      this.#rejectors.push(reject);
      promise.then(
        (value) => {
          this.#drop(reject);
          resolve(value);
        },
        (error) => {
          this.#drop(reject);
          reject(error);
        },
      );
    });
  }

  #drop(reject: (e: unknown) => void): void {
    const i = this.#rejectors.indexOf(reject);
    if (i >= 0) this.#rejectors.splice(i, 1);
  }

  dispose(): void {
    this.#stop = undefined;
    DEADLINES.remove(this.#deadline);
    this.#outer?.removeEventListener("abort", this.#onOuterAbort);
  }
}
