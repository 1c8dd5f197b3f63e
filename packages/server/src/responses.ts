import {
  ResponsesStreamEncoder,
  type ResponsesStreamEvent,
  fromResponsesRequest,
  responsesSseEvent,
  toResponsesResponse,
} from "@orchestrator-ts/openai-format";
import type { RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";
import { withFields } from "@orchestrator-ts/core/internal";
import { type InferenceSettings, type StreamWriter, type Wire, answer, streamSummary } from "./answer";
import { GatewayError } from "./contract";
import type { Exchange } from "./exchange";
import { routingHints } from "./hints";
import { nextResponseId, unixSeconds } from "./ids";

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * `POST /v1/responses`, OpenAI's Responses API, stateless: routed exactly like
 * `/v1/chat/completions` (a model, a route, `auto`; hints; the key gate), so a client built on the
 * Responses API (the OpenAI Agents SDK, Codex) can use any registered model. The whole
 * conversation comes in `input`; nothing is stored (`store` is ignored, `previous_response_id` is
 * refused). `safety_identifier` (or `user`) names the end user for the records.
 */
export async function responses(exchange: Exchange, body: unknown, settings: InferenceSettings): Promise<void> {
  if (!isRecord(body))
    throw new GatewayError(400, "invalid_request_error", "The request body must be a JSON object.", {
      code: "invalid_value",
    });
  const hints = routingHints(exchange.req.headers, body);
  const parsed = fromResponsesRequest(body);
  const user = parsed.user;
  if (user !== undefined && exchange.caller?.user === undefined)
    exchange.caller = exchange.caller === undefined ? { user } : withFields(exchange.caller, { user });
  await answer(
    exchange,
    { model: parsed.model, stream: parsed.stream, request: parsed.request, hints },
    settings,
    RESPONSES,
  );
}

const RESPONSES: Wire = {
  whole: (result: RegistryResult) =>
    JSON.stringify(
      toResponsesResponse(result, { id: nextResponseId(), createdAt: unixSeconds(), model: result.model }),
    ),
  stream(model: string): StreamWriter {
    const encoder = new ResponsesStreamEncoder({ id: nextResponseId(), createdAt: unixSeconds(), model });
    return {
      encode: (chunk: RegistryStreamChunk) => {
        const list = encoder.encode(chunk);
        if (chunk.type === "finish") {
          const last = list[list.length - 1] as
            | (ResponsesStreamEvent & { response?: Record<string, unknown> })
            | undefined;
          // Cost and cache state in the final response, as chat completions' last chunk carries them.
          if (last?.response !== undefined) last.response.orchestrator = streamSummary(chunk);
        }
        return events(list);
      },
      // response.completed, written with the finish chunk, is the end.
      end: "",
      error: (failure) => responsesSseEvent(encoder.error(failure.code, failure.message, failure.type)),
    };
  },
};

function events(list: ResponsesStreamEvent[]): string {
  if (list.length === 1) return responsesSseEvent(list[0] as ResponsesStreamEvent);
  let out = "";
  for (const event of list) out += responsesSseEvent(event);
  return out;
}
