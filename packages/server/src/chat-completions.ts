import {
  ChatStreamEncoder,
  type ChatCompletionChunk,
  type ParsedChatRequest,
  SSE_DONE,
  fromChatRequest,
  toChatCompletion,
} from "@orchestrator-ts/openai-format";
import type { RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";
import { type InferenceSettings, type StreamWriter, type Wire, answerBody, streamSummary } from "./answer";
import { openAIErrorBody } from "./errors";
import type { Exchange } from "./exchange";
import { nextCompletionId, unixSeconds } from "./ids";

/** How the chat endpoint runs (the settings every inference endpoint shares). */
export type ChatSettings = InferenceSettings;

/**
 * `POST /v1/chat/completions` once the body is parsed: resolve `model` (a model, a route,
 * `auto`), pass the gate, then answer whole or as server-sent events. OpenAI's `user` names the end
 * user for the records (and is sent on to OpenAI models).
 */
export function chatCompletions(exchange: Exchange, body: unknown, settings: ChatSettings): Promise<void> {
  return answerBody(exchange, body, settings, parseChat, (parsed) =>
    parsed.includeUsage ? OPENAI_WITH_USAGE : OPENAI,
  );
}

function parseChat(body: Record<string, unknown>): ParsedChatRequest & { user: string | undefined } {
  const parsed = fromChatRequest(body) as ParsedChatRequest & { user: string | undefined };
  parsed.user = typeof body.user === "string" ? body.user : undefined;
  return parsed;
}

/** The chat wire; with `includeUsage`, streams end with the usage chunk (always with both counts: see `streamAnswer`). */
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
