import type { IncomingMessage } from "node:http";
import { openAIFinishReason, serveChatCompletion } from "../internal/openai-chat";
import { renderOpenAIError } from "./openai-server";
import { type LoopbackServerOptions, startLoopbackServer } from "./loopback-server";
import type { ErrorSpec, LoopbackHandler, LoopbackServer, RenderedError } from "./handler";

export interface HuggingFaceServerOptions extends LoopbackServerOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** The served model id (`/info`, `/v1/models`). Default "tgi". */
  modelId?: string;
  /** `max_input_tokens` reported by `/info`. Default 4096. */
  maxInputTokens?: number;
  /**
   * Error body style: TGI's `{ error: "message", error_type }` (default) or the OpenAI-style
   * `{ error: { message, type, code } }` some OpenAI-compatible routers return.
   */
  errorStyle?: "tgi" | "openai";
}

export interface HuggingFaceServer extends LoopbackServer {
  /**
   * What to pass as `endpointUrl` to `@huggingface/inference`. The client appends
   * `/v1/chat/completions` to it (it only keeps the URL as is when it already ends in
   * `/chat/completions`, and appends `/chat/completions` when it ends in `/v1`).
   */
  readonly endpointUrl: string;
}

export interface TgiErrorBody {
  error: string;
  error_type?: string;
}

/** TGI's error bodies (`{ error, error_type }`): 422 for validation, 429 when overloaded. */
export function renderTgiError(spec: ErrorSpec, modelId = "tgi"): RenderedError {
  const { status } = spec;
  const body = (error: string, errorType?: string): TgiErrorBody =>
    errorType === undefined ? { error } : { error, error_type: errorType };
  switch (spec.kind) {
    case "rate-limit":
      return { status, body: body(spec.message ?? "Model is overloaded", "overloaded") };
    case "authentication":
      return { status, body: body(spec.message ?? "Invalid credentials in Authorization header") };
    case "permission":
      return { status, body: body(spec.message ?? "Forbidden") };
    case "not-found":
      return { status, body: body(spec.message ?? "Not Found") };
    case "context-length":
      return {
        status: 422,
        body: body(
          spec.message ??
            "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`",
          "validation",
        ),
      };
    case "bad-request":
      return { status, body: body(spec.message ?? "Input validation error", "validation") };
    case "unavailable":
    case "overloaded":
      // The shape the Inference API uses while a model is (re)loading.
      return { status, body: { error: spec.message ?? `Model ${modelId} is currently loading`, estimated_time: 20.0 } };
    case "server-error":
      return { status, body: body(spec.message ?? "Request failed during generation", "generation") };
  }
}

/**
 * A Hugging Face text-generation-inference style server: OpenAI-compatible
 * `POST /v1/chat/completions` (and `/chat/completions`) with SSE, plus TGI's `GET /health`,
 * `GET /info` and `GET /v1/models`.
 */
export async function startHuggingFaceServer(options: HuggingFaceServerOptions = {}): Promise<HuggingFaceServer> {
  const { apiKey } = options;
  const modelId = options.modelId ?? "tgi";
  const maxInputTokens = options.maxInputTokens ?? 4096;
  const render = (spec: ErrorSpec): RenderedError =>
    options.errorStyle === "openai" ? renderOpenAIError(spec) : renderTgiError(spec, modelId);
  const handler: LoopbackHandler = {
    protocol: "huggingface",
    toolCallIdPrefix: "call_",
    requestIdHeader: "x-request-id",
    requestIdPrefix: "",
    retryAfterMsHeader: false,
    mapFinishReason: openAIFinishReason,
    renderError: render,
    ...(apiKey !== undefined
      ? { authenticate: (req: IncomingMessage) => req.headers.authorization === `Bearer ${apiKey}` }
      : {}),
    routes: [
      {
        method: "POST",
        path: ["/v1/chat/completions", "/chat/completions"],
        inference: true,
        handle: (ctx) =>
          serveChatCompletion(ctx, {
            protocol: "huggingface",
            systemFingerprint: "3.3.4-sha-loopback",
            models: undefined,
            badRequest: (message) => ctx.sendError({ status: 422, kind: "bad-request", message }),
            modelNotFound: (model) =>
              ctx.sendError({ status: 404, kind: "not-found", message: `Model ${model} not found` }),
          }),
      },
      { method: "GET", path: "/health", public: true, handle: (ctx) => ctx.sendText(200, "", "text/plain") },
      {
        method: "GET",
        path: "/info",
        public: true,
        handle: (ctx) =>
          ctx.sendJson(200, {
            model_id: modelId,
            model_sha: null,
            model_pipeline_tag: "text-generation",
            max_concurrent_requests: 128,
            max_best_of: 2,
            max_stop_sequences: 4,
            max_input_tokens: maxInputTokens,
            max_total_tokens: maxInputTokens + 1024,
            validation_workers: 2,
            max_client_batch_size: 4,
            router: "text-generation-router",
            version: "3.3.4",
          }),
      },
      {
        method: "GET",
        path: ["/v1/models", "/models"],
        handle: (ctx) =>
          ctx.sendJson(200, {
            object: "list",
            data: [{ id: modelId, object: "model", created: 1_700_000_000, owned_by: modelId }],
          }),
      },
    ],
  };
  const server = await startLoopbackServer(handler, options);
  return Object.assign(server, { endpointUrl: server.url });
}
