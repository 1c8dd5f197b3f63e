import type { IncomingMessage, ServerResponse } from "node:http";
import type { LruMap } from "@orchestrator-ts/core/internal";
import {
  type Admission,
  type AdmissionOutcome,
  type Caller,
  GatewayError,
  type RequestRecord,
  type ServerObserver,
} from "./contract";
import { toGatewayError } from "./errors";
import type { ModelInitialization } from "./initialize";

/** What an endpoint needs of the server it runs in (one object per server, not per request). */
export interface ServerContext {
  readonly observers: readonly ServerObserver[];
  /** Exchanges in progress: aborted when the drain deadline passes. */
  readonly active: Set<Exchange>;
  /** Admission settlements not yet done: close() waits for them before closing the gate. */
  readonly settling: Set<Promise<void>>;
  /** True once close() began: answers say `connection: close`. */
  draining: boolean;
  /** Called each time an exchange ends. */
  onExchangeEnd?: () => void;
  /**
   * The virtual key each recent answer was given to, by selection id: only that key may rate it
   * (`/v1/feedback`). Selection ids are not secrets (a counter), and a tenant who rates another's
   * answers steers the routing everyone shares.
   */
  readonly raters: LruMap<string, string>;
  /** The start-up initialisation of the models, unless the server was made without it. */
  initialization?: ModelInitialization;
}

/** Ten times the answers a registry keeps awaiting feedback by default (`feedbackCapacity`). */
export const RATERS_KEPT = 100_000;

/** Remembers which key this exchange's answer went to (with a key gate), for `/v1/feedback`. */
export function rememberRater(exchange: Exchange): void {
  const keyId = exchange.caller?.keyId;
  const selectionId = exchange.selectionId;
  if (keyId !== undefined && selectionId !== undefined) exchange.context.raters.set(selectionId, keyId);
}

/**
 * One API request from arrival to its last byte: the caller, the admission to settle, the abort
 * signal for the upstream call (fired when the client leaves or the drain deadline passes) and
 * what the observers are told.
 */
export class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly context: ServerContext;
  readonly startedAt: number;
  readonly endpoint: string;
  caller: Caller | undefined;
  admission: Admission | undefined;
  stream = false;
  requested: string | undefined;
  model: string | undefined;
  /** The registry call's selection id, once known (ties the record to the registry's events). */
  selectionId: string | undefined;
  firstChunkAt: number | undefined;
  #controller: AbortController | undefined;
  #settled = false;
  #recorded = false;

  constructor(req: IncomingMessage, res: ServerResponse, context: ServerContext, endpoint: string) {
    this.req = req;
    this.res = res;
    this.context = context;
    this.endpoint = endpoint;
    this.startedAt = performance.now();
    context.active.add(this);
    res.once("close", this.#onClose);
  }

  /** Aborted when the client goes away before the answer is complete, or at the drain deadline. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** The client left before the whole answer was written. */
  get clientGone(): boolean {
    return this.res.destroyed && !this.res.writableFinished;
  }

  abort(reason: string): void {
    this.#controller?.abort(new Error(reason));
  }

  /** Set when the server's drain deadline cut this exchange: its failure is the server's, not the client's. */
  cutByShutdown = false;

  /** The answer to a failure of this exchange: a cut by the drain deadline says so (503), whatever the call threw. */
  failure(error: unknown): GatewayError {
    if (this.cutByShutdown)
      return new GatewayError(
        503,
        "api_error",
        "The server is shutting down: the answer was cut before its end. Retry the request.",
        { code: "server_shutting_down", cause: error },
      );
    return toGatewayError(error);
  }

  readonly #onClose = (): void => {
    const context = this.context;
    context.active.delete(this);
    if (!this.res.writableFinished) this.abort("the client closed the connection");
    context.onExchangeEnd?.();
  };

  /** Settle the admission once (the cost of what was generated), whatever happened. */
  settle(outcome: AdmissionOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    const admission = this.admission;
    if (admission === undefined) return;
    const settling = this.context.settling;
    const done: Promise<void> = admission.settle(outcome).then(
      () => {
        settling.delete(done);
      },
      () => {
        // A gate that cannot record the spend reports it itself; the answer has already gone out.
        settling.delete(done);
      },
    );
    settling.add(done);
  }

  /** Tell the observers (once). */
  record(status: number, fields: Partial<RequestRecord>): void {
    if (this.#recorded) return;
    this.#recorded = true;
    const observers = this.context.observers;
    if (observers.length === 0) return;
    const caller = this.caller;
    const record: RequestRecord = {
      endpoint: this.endpoint,
      status,
      stream: this.stream,
      latencyMs: performance.now() - this.startedAt,
      ...fields,
    };
    if (this.requested !== undefined) record.requested = this.requested;
    if (record.model === undefined && this.model !== undefined) record.model = this.model;
    if (this.selectionId !== undefined) record.selectionId = this.selectionId;
    if (this.firstChunkAt !== undefined) record.timeToFirstChunkMs = this.firstChunkAt - this.startedAt;
    if (caller !== undefined) {
      if (caller.keyId !== undefined) record.keyId = caller.keyId;
      if (caller.keyName !== undefined) record.keyName = caller.keyName;
      if (caller.user !== undefined) record.user = caller.user;
    }
    for (const observer of observers) {
      try {
        observer.onRequest(record);
      } catch {
        // An observer's bug must not fail the request or keep the others from hearing of it.
      }
    }
  }
}
