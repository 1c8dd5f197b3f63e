import {
  ChatStreamEncoder,
  type ChatCompletionChunk,
  SSE_DONE,
  fromChatRequest,
  toChatCompletion,
} from "@orchestrator-ts/openai-format";
import type { RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";
import { type InferenceSettings, type StreamWriter, type Wire, answer, streamSummary } from "./answer";
import { GatewayError } from "./contract";
import { openAIErrorBody } from "./errors";
import type { Exchange } from "./exchange";
import { routingHints } from "./hints";
import { nextCompletionId, unixSeconds } from "./ids";
import { withFields } from "@orchestrator-ts/core/internal";

/** How the chat endpoint runs (the settings every inference endpoint shares). */
export type ChatSettings = InferenceSettings;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * `POST /v1/chat/completions` once the body is parsed: resolve `model` (a model, a route,
 * `auto`), pass the gate, then answer whole or as server-sent events.
 */
export async function chatCompletions(exchange: Exchange, body: unknown, settings: ChatSettings): Promise<void> {
  if (!isRecord(body))
    throw new GatewayError(400, "invalid_request_error", "The request body must be a JSON object.", {
      code: "invalid_value",
    });
  const hints = routingHints(exchange.req.headers, body);
  const parsed = fromChatRequest(body);
  const user = body.user;
  // OpenAI's `user` names the end user: kept for the records (and sent on to OpenAI models).
  if (typeof user === "string" && exchange.caller?.user === undefined)
    exchange.caller = exchange.caller === undefined ? { user } : withFields(exchange.caller, { user });
  await answer(
    exchange,
    { model: parsed.model, stream: parsed.stream, request: parsed.request, hints },
    settings,
    parsed.includeUsage ? OPENAI_WITH_USAGE : OPENAI,
  );
}

function openAIWire(includeUsage: boolean): Wire {
  return {
    whole: (result: RegistryResult) =>
      JSON.stringify(toChatCompletion(result, { id: nextCompletionId(), created: unixSeconds(), model: result.model })),
    stream(model: string): StreamWriter {
      const encoder = new ChatStreamEncoder(
        { id: nextCompletionId(), created: unixSeconds(), model },
        { includeUsage },
      );
      let started = false;
      return {
        encode(chunk: RegistryStreamChunk): string {
          // Text after the role chunk is most of a stream: its frame from the encoder's per-stream prefix and suffix.
          // Everything else goes through the encoder: reasoning as `delta.reasoning_content`, never `content`.
          if (chunk.type === "text" && started) return chunk.text === "" ? "" : encoder.textFrame(chunk.text);
          started = true;
          const out = encoder.encode(chunk);
          const last = out[out.length - 1];
          if (chunk.type === "finish" && last !== undefined)
            (last as ChatCompletionChunk & { orchestrator?: unknown }).orchestrator = streamSummary(chunk);
          return frames(out);
        },
        end: SSE_DONE,
        error: (failure) => `data: ${openAIErrorBody(failure)}\n\n`,
      };
    },
  };
}
const OPENAI = openAIWire(false);
const OPENAI_WITH_USAGE = openAIWire(true);

function frames(chunks: ChatCompletionChunk[]): string {
  if (chunks.length === 1) return `data: ${JSON.stringify(chunks[0])}\n\n`;
  let out = "";
  for (const chunk of chunks) out += `data: ${JSON.stringify(chunk)}\n\n`;
  return out;
}
