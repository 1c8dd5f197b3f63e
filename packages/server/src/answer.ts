import type { ServerResponse } from "node:http";
import type { GenerateRequest, Model, Usage } from "@orchestrator-ts/core";
import { OrchestratorError, estimateRequestTokens, reasoningBudgetTokens } from "@orchestrator-ts/core";
import type { ModelRegistry, RegistryRequest, RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";
import { GatewayError } from "./contract";
import { droppedParameters } from "./dropped-parameters";
import { type Exchange, rememberRater } from "./exchange";
import { type RoutingHints, routingHints } from "./hints";
import { argumentsLength, partialOutcome, withStreamUsage, withWholeUsage } from "./usage";
import { takerOf, withFields } from "@orchestrator-ts/core/internal";

// The flow every inference endpoint shares (OpenAI's chat completions, Anthropic's messages): resolve
// the model, pass the gate, call the registry, answer whole or streamed, settle the admission with
// the real cost (also when the client leaves). Only the wire differs: an endpoint gives its `Wire`.

/** How the inference endpoints run: the registry and the per-request settings of the server. */
export interface InferenceSettings {
  registry: ModelRegistry;
  /** Deadline of the whole call (retries and fallbacks included) when set. */
  requestTimeoutMs: number | undefined;
  /** The key gate's admission: `maxTokens` is the client's `max_tokens`, when given. */
  admit: (exchange: Exchange, model: string, promptTokens: number, maxTokens: number | undefined) => Promise<void>;
}

/** One streamed answer on the wire: its frames, written as the chunks come. */
export interface StreamWriter {
  /** The frames for one chunk (the stream's opening comes with the first); "" when it writes nothing. */
  encode(chunk: RegistryStreamChunk): string;
  /** What follows the finish chunk's frames (`data: [DONE]` on OpenAI's wire). */
  readonly end: string;
  /** The event that ends a stream cut after it began: the answer so far is not the answer. */
  error(failure: GatewayError): string;
}

/** An API's wire: how a whole answer and a stream are written. */
export interface Wire {
  /** The body of a whole answer (the chosen model in it). */
  whole(result: RegistryResult): string;
  /** A writer for one stream, once the model that answers is known. */
  stream(model: string): StreamWriter;
}

/** A request once its body is read: the model asked for, whether to stream, the core request, the hints. */
export interface InferenceRequest {
  model: string;
  stream: boolean;
  request: GenerateRequest;
  hints: RoutingHints;
}

/** What an endpoint's parser gives: the model asked for, whether to stream, the end user, the core request. */
export interface ParsedInference {
  model: string;
  stream: boolean;
  user: string | undefined;
  request: GenerateRequest;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * An inference endpoint once its body is read, whatever its API: the body must be an object; the
 * routing hints (headers, an `orchestrator` member) and the API's own parse; the end user for the
 * records; then `answer` on the wire the parse chose.
 */
export async function answerBody<P extends ParsedInference>(
  exchange: Exchange,
  body: unknown,
  settings: InferenceSettings,
  parse: (body: Record<string, unknown>) => P,
  wire: (parsed: P) => Wire,
): Promise<void> {
  if (!isRecord(body))
    throw new GatewayError(400, "invalid_request_error", "The request body must be a JSON object.", {
      code: "invalid_value",
    });
  const hints = routingHints(exchange.req.headers, body);
  const parsed = parse(body);
  const user = parsed.user;
  if (user !== undefined && exchange.caller?.user === undefined)
    exchange.caller = exchange.caller === undefined ? { user } : withFields(exchange.caller, { user });
  await answer(
    exchange,
    { model: parsed.model, stream: parsed.stream, request: parsed.request, hints },
    settings,
    wire(parsed),
  );
}

/**
 * Serves one inference request: unknown ids fail with a 404 before the gate counts anything; then
 * the admission, the routing (`auto`, a model with its fallbacks, a route), and the answer.
 */
export async function answer(
  exchange: Exchange,
  parsed: InferenceRequest,
  settings: InferenceSettings,
  wire: Wire,
): Promise<void> {
  const model = parsed.model;
  const hints = parsed.hints;
  exchange.requested = model;
  exchange.stream = parsed.stream;
  const registry = settings.registry;
  if (model !== "auto") registry.resolveRoute(model);
  const request: RegistryRequest = parsed.request;
  const promptTokens = estimateRequestTokens(request);
  await settings.admit(exchange, model, promptTokens, longestAnswer(request));
  // The key's tpm held a capped answer: the model is asked for no more — reasoning included, which
  // a thinking model writes beside its answer (Anthropic's budget is added to max_tokens).
  const held = exchange.admission?.maxOutputTokens;
  if (held !== undefined) {
    const cap = held - (request.reasoning === undefined ? 0 : reasoningBudgetTokens(request.reasoning));
    if (cap < 1)
      throw new GatewayError(
        400,
        "invalid_request_error",
        `The key's tokens per minute leave ${held} tokens for the answer, not enough for its reasoning budget: lower the reasoning effort or set a smaller budget.`,
        { code: "tokens_exceed_tpm", param: "reasoning_effort" },
      );
    if (request.maxTokens === undefined || request.maxTokens > cap) request.maxTokens = cap;
  }

  if (model !== "auto") request.route = model;
  if (hints.task !== undefined) request.task = hints.task;
  if (settings.requestTimeoutMs !== undefined) request.timeoutMs = settings.requestTimeoutMs;
  request.signal = exchange.signal;
  // A client streaming tool calls gets their arguments as the model writes them (the providers that stream them).
  if (parsed.stream) request.toolInputDeltas = true;

  // A key limited to some models gets answers from those only: also through `auto`, a route or fallbacks.
  const allowed = allowedModels(exchange.caller?.models, registry);
  const requirements =
    allowed === undefined ? hints.requirements : withFields(hints.requirements ?? {}, { models: allowed });
  if (parsed.stream) await streamAnswer(exchange, registry, request, requirements, wire);
  else await wholeAnswer(exchange, registry, request, requirements, wire);
}

/**
 * The models a request for `model` may reach: the model and its fallbacks when it is a registered
 * model, else (`auto`, a route) every model; only those of `names` when the caller's key lists
 * models (a list of routes and `auto` only lets it reach any).
 */
export function reachableModels(registry: ModelRegistry, model: string, names: readonly string[] | undefined): Model[] {
  let candidates = registry.listModels();
  if (registry.hasModel(model)) {
    const reach = [model, ...(registry.fallbacks[model] ?? [])];
    candidates = candidates.filter((m) => reach.includes(m.name));
  }
  const allowed = allowedModels(names, registry);
  return allowed === undefined ? candidates : candidates.filter((m) => allowed.includes(m.name));
}

/**
 * The longest answer (`maxOutputTokens`) among the models a request for `model` may reach (see
 * `reachableModels`); undefined when one of them does not declare it.
 */
export function longestAnswerOf(
  registry: ModelRegistry,
  model: string,
  names: readonly string[] | undefined,
): { longest: number | undefined; safe: number | undefined } {
  let longest: number | undefined;
  let unknown = false;
  let safe: number | undefined;
  for (const m of reachableModels(registry, model, names)) {
    const max = m.capabilities.maxOutputTokens;
    if (max === undefined) unknown = true;
    else if (longest === undefined || max > longest) longest = max;
    const takes = max ?? UNDECLARED_OUTPUT_LIMIT;
    if (safe === undefined || takes < safe) safe = takes;
  }
  return { longest: unknown ? undefined : longest, safe };
}

/** The `max_tokens` a cap sends to a model that declares no output limit: one every model takes. */
const UNDECLARED_OUTPUT_LIMIT = 4_096;

/**
 * The registered models among the names a key may use; undefined when it may use any model (no
 * list, or a list of routes and `auto` only, which then choose freely).
 */
export function allowedModels(names: readonly string[] | undefined, registry: ModelRegistry): string[] | undefined {
  if (names === undefined) return undefined;
  const models = names.filter((name) => registry.hasModel(name));
  return models.length > 0 ? models : undefined;
}

/**
 * A call that failed still had a model (the last one tried, which the error names) and, for a
 * stream, a selection: the record keeps them, so a failed request is not a blank row.
 */
function failedOn(exchange: Exchange, error: unknown, selectionId: string | undefined): void {
  if (exchange.model === undefined && OrchestratorError.isInstance(error) && error.model !== undefined)
    exchange.model = error.model;
  if (exchange.selectionId === undefined && selectionId !== undefined) exchange.selectionId = selectionId;
}

async function wholeAnswer(
  exchange: Exchange,
  registry: ModelRegistry,
  request: RegistryRequest,
  requirements: Parameters<ModelRegistry["generate"]>[1],
  wire: Wire,
): Promise<void> {
  let result: RegistryResult;
  try {
    result = await registry.generate(request, requirements);
  } catch (error) {
    failedOn(exchange, error, undefined);
    exchange.settle({ costUsd: undefined });
    throw error;
  }
  exchange.model = result.model;
  exchange.selectionId = result.selectionId;
  rememberRater(exchange);
  const usage = result.usage;
  exchange.settle({
    costUsd: result.costUsd,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    model: result.model,
  });
  const res = exchange.res;
  if (exchange.clientGone) {
    exchange.record(499, {
      errorCode: "client_closed",
      costUsd: result.costUsd,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cached: result.cached,
    });
    return;
  }
  const text = wire.whole(withWholeUsage(result, request));
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-orchestrator-model": result.model,
    "x-orchestrator-selection-id": result.selectionId,
    "x-orchestrator-cache": result.cached ? "hit" : "miss",
  };
  if (result.costUsd !== undefined) headers["x-orchestrator-cost-usd"] = String(result.costUsd);
  addWarnings(headers, result.warnings, droppedParameters(request, registry, result.model));
  if (exchange.context.draining) headers.connection = "close";
  res.writeHead(200, headers);
  res.end(text);
  exchange.record(200, {
    costUsd: result.costUsd,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cached: result.cached,
    ...(result.cascade === undefined ? {} : { cascade: result.cascade }),
  });
}

type StreamIterator = AsyncIterator<RegistryStreamChunk>;

/** The most of a warnings header: whole warnings up to this many characters (a header is not a log). */
const MAX_WARNINGS_HEADER = 4_096;

/**
 * The model's warnings (settings it could not honour and left out) as a header value: a JSON array
 * of strings, non-ASCII escaped (`\uXXXX`, header values are Latin-1), whole warnings only up to
 * `MAX_WARNINGS_HEADER` characters (one too long for it is left out, not the ones after it);
 * `undefined` when none fits. Neither API has a field for them.
 */
export function warningsHeader(warnings: readonly string[]): string | undefined {
  const kept: string[] = [];
  let length = 2;
  for (const warning of warnings) {
    const text = JSON.stringify(warning).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    if (length + text.length + 1 > MAX_WARNINGS_HEADER) continue;
    kept.push(text);
    length += text.length + 1;
  }
  return kept.length === 0 ? undefined : `[${kept.join(",")}]`;
}

/** `x-orchestrator-warnings` on an answer's headers, when the model left anything out (`dropped`: the client's parameters). */
function addWarnings(
  headers: Record<string, string | number>,
  warnings: readonly string[],
  dropped: readonly string[],
): void {
  if (warnings.length === 0 && dropped.length === 0) return;
  const value = warningsHeader(dropped.length === 0 ? warnings : [...warnings, ...dropped]);
  if (value !== undefined) headers["x-orchestrator-warnings"] = value;
}

/**
 * The stream: the first chunk is awaited before anything is written, so a failure before it
 * (after the registry's retries and fallbacks) is an ordinary error answer with its status.
 * After it, a failure ends the stream with the wire's error event, never a clean end. Cost and
 * cache state are only known at the end: they go out as HTTP trailers.
 */
async function streamAnswer(
  exchange: Exchange,
  registry: ModelRegistry,
  request: RegistryRequest,
  requirements: Parameters<ModelRegistry["stream"]>[1],
  wire: Wire,
): Promise<void> {
  const stream = registry.stream(request, requirements);
  const iterator: StreamIterator = stream[Symbol.asyncIterator]();
  const res = exchange.res;
  let first: IteratorResult<RegistryStreamChunk>;
  try {
    first = await iterator.next();
  } catch (error) {
    failedOn(exchange, error, stream.selectionId);
    exchange.settle({ costUsd: undefined });
    throw error;
  }
  exchange.firstChunkAt = performance.now();
  const model =
    stream.explanation?.model?.name ??
    (first.done ? undefined : first.value.type === "finish" ? first.value.model : undefined) ??
    exchange.requested ??
    "auto";
  exchange.model = model;
  const headers: Record<string, string> = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-orchestrator-model": model,
    trailer: "x-orchestrator-cost-usd, x-orchestrator-cache",
  };
  const selectionId = stream.selectionId;
  exchange.selectionId = selectionId;
  rememberRater(exchange);
  if (selectionId !== undefined) headers["x-orchestrator-selection-id"] = selectionId;
  // What the request's mapping left out is known by the first chunk (the finish chunk may add more).
  addWarnings(headers, stream.warnings, droppedParameters(request, registry, model));
  if (exchange.context.draining) headers.connection = "close";
  res.writeHead(200, headers);

  const writer = wire.stream(model);
  // Chunks that arrive together (one upstream read) leave in one write: their frames are joined
  // until the iteration has drained them and waits for the network again (one HTTP chunk, not one
  // per frame with its own length line).
  const out = new FrameBuffer(res);
  // Chunks already read are taken at once (see core's TAKE), without a promise per chunk and layer.
  const take = takerOf<RegistryStreamChunk>(iterator);
  // The answer's characters: a cut stream is settled on its text and the argument pieces that came;
  // the usage a client reads counts a tool call's whole arguments (some providers send no pieces).
  let textChars = 0;
  let pieceChars = 0;
  let callChars = 0;
  let current = first;
  try {
    for (;;) {
      if (current.done) {
        // A stream that ends without its finish chunk was cut: say so, never a clean end.
        throw new GatewayError(502, "api_error", "The model's stream ended before completion.", {
          code: "stream_incomplete",
        });
      }
      const chunk = current.value;
      if (chunk.type === "text" || chunk.type === "reasoning") textChars += chunk.text.length;
      else if (chunk.type === "tool-input-delta") pieceChars += chunk.delta.length;
      else if (chunk.type === "tool-call") callChars += argumentsLength(chunk.toolCall.arguments);
      if (chunk.type === "finish") {
        out.add(writer.encode(withStreamUsage(chunk, request, textChars + callChars)));
        out.add(writer.end);
        out.flush();
        finishStream(exchange, chunk, request, registry, textChars + pieceChars);
        return;
      }
      out.add(writer.encode(chunk));
      if (res.writableNeedDrain && !res.destroyed) await drained(res);
      if (res.destroyed) break;
      current = take?.call(iterator) ?? (await iterator.next());
    }
  } catch (error) {
    if (!exchange.clientGone) {
      const failure = exchange.failure(error);
      // The answer so far is not the answer: an error event ends the stream.
      out.add(writer.error(failure));
      out.flush();
      res.end();
      exchange.settle(partialOutcome(exchange, request, registry, textChars + pieceChars));
      exchange.record(failure.status, { errorCode: failure.code });
      return;
    }
  }
  // The client left: stop the upstream call and settle what was generated so far.
  await iterator.return?.().catch(() => undefined);
  const outcome = partialOutcome(exchange, request, registry, textChars + pieceChars);
  exchange.settle(outcome);
  exchange.record(499, { errorCode: "client_closed", costUsd: outcome.costUsd });
}

function finishStream(
  exchange: Exchange,
  chunk: Extract<RegistryStreamChunk, { type: "finish" }>,
  request: RegistryRequest,
  registry: ModelRegistry,
  chars: number,
): void {
  const res = exchange.res;
  const usage: Usage | undefined = chunk.usage;
  const cost = chunk.costUsd;
  const trailers: Record<string, string> = { "x-orchestrator-cache": chunk.cached ? "hit" : "miss" };
  if (cost !== undefined) trailers["x-orchestrator-cost-usd"] = String(cost);
  res.addTrailers(trailers);
  res.end();
  const model = chunk.model ?? exchange.model;
  if (usage === undefined && cost === undefined) exchange.settle(partialOutcome(exchange, request, registry, chars));
  else
    exchange.settle({
      costUsd: cost,
      inputTokens: usage?.inputTokens,
      outputTokens: usage?.outputTokens,
      ...(model === undefined ? {} : { model }),
    });
  exchange.record(200, {
    model,
    costUsd: cost,
    inputTokens: usage?.inputTokens,
    outputTokens: usage?.outputTokens,
    cached: chunk.cached === true,
    ...("cascade" in chunk && chunk.cascade !== undefined ? { cascade: chunk.cascade } : {}),
  });
}

/**
 * A stream's cost and cache state for its last event's `orchestrator` member: the same as the HTTP
 * trailers say, for clients that do not read trailers (most do not).
 */
export function streamSummary(chunk: Extract<RegistryStreamChunk, { type: "finish" }>): {
  cost_usd?: number;
  cache: "hit" | "miss";
} {
  return chunk.costUsd === undefined
    ? { cache: chunk.cached ? "hit" : "miss" }
    : { cost_usd: chunk.costUsd, cache: chunk.cached ? "hit" : "miss" };
}

/** Frames joined until the next tick, then written as one HTTP chunk. */
class FrameBuffer {
  #pending = "";
  #scheduled = false;
  readonly #res: ServerResponse;
  constructor(res: ServerResponse) {
    this.#res = res;
  }
  add(frame: string): void {
    if (frame === "") return;
    this.#pending += frame;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(flushFrames, this);
    }
  }
  flush(): void {
    this.#scheduled = false;
    const text = this.#pending;
    if (text === "") return;
    this.#pending = "";
    if (!this.#res.destroyed) this.#res.write(text);
  }
}

function flushFrames(buffer: FrameBuffer): void {
  buffer.flush();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * The longest answer a request allows, for the budget hold: its `max_tokens`, with a thinking
 * budget added when it does not exceed it (an Anthropic model's `max_tokens` is raised so, as the
 * API requires); `undefined` when the request sets none (the hold takes the model's limit).
 */
function longestAnswer(request: GenerateRequest): number | undefined {
  const max = request.maxTokens;
  if (max === undefined || request.reasoning === undefined) return max;
  const budget = reasoningBudgetTokens(request.reasoning);
  return max <= budget ? max + budget : max;
}
