import {
  ResponsesStreamEncoder,
  type ResponsesStreamEvent,
  fromResponsesRequest,
  responsesSseEvent,
  toResponsesResponse,
} from "@orchestrator-ts/openai-format";
import type { RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";
import { type InferenceSettings, type StreamWriter, type Wire, answerBody, streamSummary } from "./answer";
import type { Exchange } from "./exchange";
import { nextResponseId, unixSeconds } from "./ids";

/**
 * `POST /v1/responses`, OpenAI's Responses API, stateless: routed exactly like
 * `/v1/chat/completions` (a model, a route, `auto`; hints; the key gate), so a client built on the
 * Responses API (the OpenAI Agents SDK, Codex) can use any registered model. The whole
 * conversation comes in `input`; nothing is stored (`store` is ignored, `previous_response_id` is
 * refused). `safety_identifier` (or `user`) names the end user for the records.
 */
export function responses(exchange: Exchange, body: unknown, settings: InferenceSettings): Promise<void> {
  return answerBody(exchange, body, settings, fromResponsesRequest, () => RESPONSES);
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
