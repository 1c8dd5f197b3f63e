import {
  type MessagesErrorType,
  MessagesStreamEncoder,
  fromMessagesRequest,
  messagesBetas,
  messagesErrorBody,
  sseEvent,
  toMessagesResponse,
} from "@orchestrator-ts/anthropic-format";
import { type GenerateRequest, NoEligibleModelError } from "@orchestrator-ts/core";
import type { RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";
import { type InferenceSettings, type StreamWriter, type Wire, answerBody, streamSummary } from "./answer";
import { GatewayError, type GatewayErrorType } from "./contract";
import { excludedForClients } from "./errors";
import type { Exchange } from "./exchange";
import { nextMessageId } from "./ids";
import { withFields } from "@orchestrator-ts/core/internal";

/**
 * `POST /v1/messages`, Anthropic's Messages API, once the body is read: routed exactly like
 * `/v1/chat/completions` (a model, a route, `auto`; hints; the key gate), so an Anthropic client
 * can use any registered model. `metadata.user_id` names the end user for the records.
 */
export function messages(exchange: Exchange, body: unknown, settings: InferenceSettings): Promise<void> {
  return answerBody(
    exchange,
    body,
    settings,
    (fields) => {
      const parsed = fromMessagesRequest(fields);
      withClientBetas(exchange, parsed.request);
      return parsed;
    },
    () => ANTHROPIC,
  );
}

/**
 * The client's `anthropic-beta` header as the request's `providerOptions.anthropic.betas`, which an
 * Anthropic model sends on as its own `anthropic-beta` (other models do not read it): beta fields
 * of the body (also kept in `providerOptions.anthropic`) need their beta named. Names that are not
 * beta names are a 400 on the header.
 */
export function withClientBetas(exchange: Exchange, request: GenerateRequest): GenerateRequest {
  const header = exchange.req.headers["anthropic-beta"];
  if (header === undefined || header === "") return request;
  const asked: GenerateRequest = {
    providerOptions: { anthropic: { betas: Array.isArray(header) ? header.join(",") : header } },
    messages: [],
  };
  let betas: string | undefined;
  try {
    betas = messagesBetas(asked);
  } catch (error) {
    throw new GatewayError(
      400,
      "invalid_request_error",
      `anthropic-beta: ${(error as Error).message.replace(/^betas: /, "")}`,
      { code: "invalid_value", param: "anthropic-beta" },
    );
  }
  if (betas === undefined) return request;
  const options = request.providerOptions ?? {};
  options["anthropic"] = withFields(options["anthropic"] ?? {}, { betas: betas.split(",") });
  request.providerOptions = options;
  return request;
}

const ANTHROPIC: Wire = {
  whole: (result: RegistryResult) =>
    JSON.stringify(toMessagesResponse(result, { id: nextMessageId(), model: result.model })),
  stream(model: string): StreamWriter {
    const encoder = new MessagesStreamEncoder({ id: nextMessageId(), model });
    return {
      encode: (chunk: RegistryStreamChunk) => {
        const list = encoder.encode(chunk);
        if (chunk.type === "finish") {
          const delta = list.find((event) => event.type === "message_delta");
          if (delta !== undefined)
            (delta as typeof delta & { orchestrator?: unknown }).orchestrator = streamSummary(chunk);
        }
        return events(list);
      },
      // message_stop, written with the finish chunk, is the end.
      end: "",
      error: (failure) => sseEvent(encoder.error(anthropicErrorType(failure.type), failure.message)),
    };
  },
};

function events(list: ReturnType<MessagesStreamEncoder["encode"]>): string {
  if (list.length === 1) return sseEvent(list[0] as (typeof list)[0]);
  let out = "";
  for (const event of list) out += sseEvent(event);
  return out;
}

/** The gateway's error types in Anthropic's names: a spent budget is a rate limit there. */
export function anthropicErrorType(type: GatewayErrorType): MessagesErrorType {
  return type === "budget_exceeded" ? "rate_limit_error" : type;
}

/** Anthropic's error body (`{ type: "error", error: { type, message } }`), with `excluded` when no model was eligible. */
export function anthropicErrorBody(error: GatewayError): string {
  const body = messagesErrorBody(anthropicErrorType(error.type), error.message);
  const cause = (error as { cause?: unknown }).cause;
  if (NoEligibleModelError.isInstance(cause))
    (body.error as Record<string, unknown>).excluded = excludedForClients(cause);
  return JSON.stringify(body);
}
