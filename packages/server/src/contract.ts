// The seams between the gateway's parts: the HTTP front (routing, the OpenAI and Anthropic
// endpoints), the key gate (virtual keys, rpm/tpm, budgets) and the observers (metrics, the
// dashboard). Each part is written against these types only.
import type { ModelConfig } from "@orchestrator-ts/core";
import { OrchestratorError } from "@orchestrator-ts/core";
import type { CascadeInfo, ModelRegistry } from "@orchestrator-ts/registry";

/**
 * What the server serves: a registry and the config it was built from. An `Orchestrator` from
 * `createOrchestrator` (package `orchestrator-ts`) fits as it is.
 */
export interface ServedOrchestrator {
  registry: ModelRegistry;
  config?: ModelConfig;
  /** Called by the server's `close()` when the server owns the orchestrator. */
  close?(): Promise<void>;
  /**
   * What keeps the orchestrator from serving now, beyond its models' health (e.g. "Redis is
   * unreachable: …"); empty when ready. `GET /readyz` answers 503 with these reasons.
   */
  readiness?(): Promise<readonly string[]>;
}

/** Who is calling, once the key gate has accepted the request. */
export interface Caller {
  /** The virtual key's id (never the key itself); undefined when the server runs without keys. */
  keyId?: string;
  /** The key's display name. */
  keyName?: string;
  /** The end user the client named (`user` in OpenAI bodies, `metadata.user_id` in Anthropic's). */
  user?: string;
  /** Models and routes the key may use; undefined = all. */
  models?: readonly string[];
  /** True for the master key. */
  admin?: boolean;
}

/** What the front knows about a request before it is routed. */
export interface AdmissionRequest {
  /** The `model` the client asked for: a model name, a route name or `auto`. */
  model: string;
  /**
   * Tokens the request counts against tpm: the prompt estimate + `max_tokens` when given. Given
   * `promptTokens` and no `maxOutputTokens`, the gate counts the prompt and the longest answer
   * instead (see `longestAnswerTokens`).
   */
  estimatedTokens?: number;
  /** The prompt's estimated tokens, for the budget hold and the tpm. */
  promptTokens?: number;
  /** The client's `max_tokens`; absent, the answer may be as long as the model allows, and the hold covers that. */
  maxOutputTokens?: number;
  /**
   * Without `max_tokens`: the longest answer the models the request may reach allow (their
   * `maxOutputTokens`), when known. A key's tpm counts it, or caps the answer (`Admission.maxOutputTokens`).
   */
  longestAnswerTokens?: number;
  /**
   * Without `max_tokens`: the longest answer every model the request may reach accepts as
   * `max_tokens` (their smallest output limit; 4,096 for one that declares none). A cap the gate sets
   * is no larger, so no model refuses it.
   */
  safeAnswerTokens?: number;
  /** The most the request may cost, when it is known (a cost cap or the priciest eligible model). */
  estimatedCostUsd?: number;
  /** The names the caller's key may use, when it is limited (its `models`), for the cost estimate. */
  allowed?: readonly string[];
}

/** A request that passed the gate. Settle it exactly once, also when the call failed or the client left. */
export interface Admission {
  /** Charge what the request really cost and release what the admission held (rpm/tpm slots, the budget hold). */
  settle(outcome: AdmissionOutcome): Promise<void>;
  /**
   * The longest answer the gate admitted, when it set one: a request without `max_tokens` on a key
   * with a tpm is held for its prompt and at most the rest of the tpm, and the gateway calls the
   * model with this as `max_tokens`, so that no answer goes past what the key may use in a minute.
   */
  readonly maxOutputTokens?: number;
}

/** What a request cost, as the front settles its admission with. */
export interface AdmissionOutcome {
  /** The real cost of what was generated (undefined when nothing was called). */
  costUsd: number | undefined;
  inputTokens?: number;
  outputTokens?: number;
  /** The model that answered. */
  model?: string;
}

/** The key gate: virtual keys, their models, rate limits and budgets. */
export interface Gatekeeper {
  /** The caller behind a raw key (`Authorization: Bearer …` or `x-api-key`); throws a 401 `GatewayError`. */
  authenticate(rawKey: string | undefined): Promise<Caller>;
  /** Model permission, rpm/tpm and budget; throws a 403 or 429 `GatewayError`. */
  admit(caller: Caller, request: AdmissionRequest): Promise<Admission>;
  /** Release the gate's connections (called by the server's `close()`, after every admission is settled). */
  close?(): Promise<void>;
}

/** One finished API request, for metrics and the dashboard. */
export interface RequestRecord {
  /** `openai.chat`, `anthropic.messages`, `models`, `feedback`, `admin`… */
  endpoint: string;
  status: number;
  /** The error's code when the request failed (`rate_limited`, `no_eligible_model`, `client_closed`…). */
  errorCode?: string;
  /** The model the client asked for. */
  requested?: string;
  /** The model that answered. */
  model?: string;
  /** The registry call's selection id (as `x-orchestrator-selection-id` says), tying the record to the registry's events. */
  selectionId?: string;
  stream: boolean;
  latencyMs: number;
  /** Time to the first text or tool-call chunk of a stream. */
  timeToFirstChunkMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
  cached?: boolean;
  keyId?: string;
  keyName?: string;
  user?: string;
  /** A cascade route's record: the stages that ran, each model's extracted answer, escalated or not. */
  cascade?: CascadeInfo;
}

/** Told of every finished API request (metrics, dashboards); must not throw or block. */
export interface ServerObserver {
  /** Called once per request, after its last byte was written (or the client left). */
  onRequest(record: RequestRecord): void;
}

/** The error types both OpenAI's and Anthropic's error bodies know (mapped to each API's own names). */
export type GatewayErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "budget_exceeded"
  | "request_too_large"
  | "api_error"
  | "overloaded_error"
  | "timeout_error";

/** The optional parts of a `GatewayError`. */
export interface GatewayErrorOptions {
  /** OpenAI's `param` / the path of the offending field (`messages[2].content`). */
  param?: string;
  /** A stable machine code (`model_not_found`, `budget_exceeded`…). */
  code?: string;
  /** Sent as `Retry-After` (seconds, rounded up). */
  retryAfterMs?: number;
  /** More response headers. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error the gateway answers with: an HTTP status, an error type both APIs know, a message a
 * person can act on. The endpoints render it in OpenAI's or Anthropic's error shape.
 */
export class GatewayError extends OrchestratorError {
  static override readonly errorName: string = "GatewayError";
  readonly status: number;
  readonly type: GatewayErrorType;
  readonly param: string | undefined;
  override readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly headers: Record<string, string>;
  constructor(status: number, type: GatewayErrorType, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.status = status;
    this.type = type;
    this.param = options.param;
    this.code = options.code ?? type;
    this.retryAfterMs = options.retryAfterMs;
    this.headers = options.headers ?? {};
  }
}
