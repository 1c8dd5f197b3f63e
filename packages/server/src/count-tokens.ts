import { fromCountTokensRequest } from "@orchestrator-ts/anthropic-format";
import { type GenerateRequest, ProviderError, estimateRequestTokens } from "@orchestrator-ts/core";
import type { InferenceSettings } from "./answer";
import { sendJson } from "./errors";
import type { Exchange } from "./exchange";
import { withClientBetas } from "./messages";

/** A model that counts a request's input tokens as its API does (`AnthropicModel`). */
interface CountsTokens {
  countTokens(request: GenerateRequest): Promise<number>;
}

// Statuses with which an upstream says it has no count_tokens (an Anthropic-compatible server).
const NO_COUNT_ENDPOINT = new Set([404, 405, 501]);

const countsTokens = (model: object): model is CountsTokens =>
  typeof (model as Partial<CountsTokens>).countTokens === "function";

/**
 * `POST /v1/messages/count_tokens`, Anthropic's token count: `{ input_tokens }` for a Messages body
 * without `max_tokens`. A registered model that counts as its API does (an `AnthropicModel`: the
 * API's own count_tokens, free) gives the exact count; any other model, a route or `auto` the
 * gateway's estimate (the one its budget checks use). The answer's `x-orchestrator-token-count`
 * says which (`exact` / `estimate`; an Anthropic-compatible upstream without the endpoint gets the
 * estimate). Nothing is generated or charged; the key gate admits it as a call (the key's models,
 * its rpm, a spent budget) and holds nothing.
 */
export async function countTokens(exchange: Exchange, body: unknown, settings: InferenceSettings): Promise<void> {
  const parsed = fromCountTokensRequest(body);
  const request = withClientBetas(exchange, parsed.request);
  const id = parsed.model;
  exchange.requested = id;
  const target = id === "auto" ? undefined : settings.registry.resolveRoute(id);
  // The key gate as for a call (its model permission, rpm, a spent budget), holding nothing: a count is free.
  await settings.admit(exchange, id, 0, 0);
  let tokens: number;
  let how: "exact" | "estimate" = "estimate";
  if (target?.type === "model" && countsTokens(target.model)) {
    exchange.model = target.model.name;
    request.signal = exchange.signal;
    if (settings.requestTimeoutMs !== undefined) request.timeoutMs = settings.requestTimeoutMs;
    const counted = await target.model.countTokens(request).catch((error: unknown) => {
      // An Anthropic-compatible upstream without the endpoint: the estimate, as for any other model.
      if (ProviderError.isInstance(error) && error.status !== undefined && NO_COUNT_ENDPOINT.has(error.status))
        return undefined;
      throw error;
    });
    if (counted !== undefined) {
      tokens = counted;
      how = "exact";
    } else tokens = estimateRequestTokens(request);
  } else {
    if (target?.type === "model") exchange.model = target.model.name;
    tokens = estimateRequestTokens(request);
  }
  exchange.settle({ costUsd: 0 });
  if (exchange.clientGone) {
    exchange.record(499, { errorCode: "client_closed" });
    return;
  }
  const headers: Record<string, string> = { "x-orchestrator-token-count": how };
  if (exchange.model !== undefined) headers["x-orchestrator-model"] = exchange.model;
  sendJson(exchange.res, 200, { input_tokens: tokens }, headers);
  exchange.record(200, {});
}
