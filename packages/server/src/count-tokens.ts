import { fromCountTokensRequest } from "@orchestrator-ts/anthropic-format";
import { type GenerateRequest, estimateRequestTokens } from "@orchestrator-ts/core";
import type { InferenceSettings } from "./answer";
import { GatewayError } from "./contract";
import { sendJson } from "./errors";
import type { Exchange } from "./exchange";
import { withClientBetas } from "./messages";

/** A model that counts a request's input tokens as its API does (`AnthropicModel`). */
interface CountsTokens {
  countTokens(request: GenerateRequest): Promise<number>;
}

const countsTokens = (model: object): model is CountsTokens =>
  typeof (model as Partial<CountsTokens>).countTokens === "function";

/**
 * `POST /v1/messages/count_tokens`, Anthropic's token count: `{ input_tokens }` for a Messages body
 * without `max_tokens`. A registered model that counts as its API does (an `AnthropicModel`: the
 * API's own count_tokens, free) gives the exact count; any other model, a route or `auto` the
 * gateway's estimate (the one its budget checks use). The answer's `x-orchestrator-token-count`
 * says which (`exact` / `estimate`). Nothing is generated or charged; the key must be allowed to use
 * the model it asks about.
 */
export async function countTokens(exchange: Exchange, body: unknown, settings: InferenceSettings): Promise<void> {
  const parsed = fromCountTokensRequest(body);
  const request = withClientBetas(exchange, parsed.request);
  const id = parsed.model;
  exchange.requested = id;
  const target = id === "auto" ? undefined : settings.registry.resolveRoute(id);
  const caller = exchange.caller;
  if (caller?.models !== undefined && !caller.models.includes(id))
    throw new GatewayError(
      403,
      "permission_error",
      `The key "${caller.keyName ?? caller.keyId ?? "?"}" may not use "${id}" (it may use: ${caller.models.join(", ")}).`,
      { code: "model_not_allowed", param: "model" },
    );
  let tokens: number;
  let how: "exact" | "estimate" = "estimate";
  if (target?.type === "model" && countsTokens(target.model)) {
    exchange.model = target.model.name;
    request.signal = exchange.signal;
    if (settings.requestTimeoutMs !== undefined) request.timeoutMs = settings.requestTimeoutMs;
    tokens = await target.model.countTokens(request);
    how = "exact";
  } else {
    if (target?.type === "model") exchange.model = target.model.name;
    tokens = estimateRequestTokens(request);
  }
  if (exchange.clientGone) {
    exchange.record(499, { errorCode: "client_closed" });
    return;
  }
  const headers: Record<string, string> = { "x-orchestrator-token-count": how };
  if (exchange.model !== undefined) headers["x-orchestrator-model"] = exchange.model;
  sendJson(exchange.res, 200, { input_tokens: tokens }, headers);
  exchange.record(200, {});
}
