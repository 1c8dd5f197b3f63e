import type { IncomingMessage } from "node:http";
import { serveChatCompletion, openAIFinishReason } from "../internal/openai-chat";
import { type LoopbackServerOptions, startLoopbackServer } from "./loopback-server";
import type { ErrorSpec, LoopbackContext, LoopbackHandler, LoopbackServer, RenderedError } from "./handler";

export interface OpenAIServerOptions extends LoopbackServerOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Listed by `GET /v1/models`; when set, chat requests for other models get 404 `model_not_found`. */
  models?: readonly string[];
}

export interface OpenAIServer extends LoopbackServer {
  /** `${url}/v1`, what the `openai` SDK takes as `baseURL`. */
  readonly baseURL: string;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function openAIError(message: string, type: string, param: string | null, code: string | null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

/** OpenAI's documented error bodies. Exported for other OpenAI-compatible servers. */
export function renderOpenAIError(spec: ErrorSpec): RenderedError {
  const { status } = spec;
  switch (spec.kind) {
    case "rate-limit":
      return {
        status,
        body: openAIError(
          spec.message ??
            `Rate limit reached for ${spec.model ?? "the model"} on requests per min (RPM). Please try again later.`,
          "requests",
          null,
          "rate_limit_exceeded",
        ),
      };
    case "authentication":
      return {
        status,
        body: openAIError(
          spec.message ??
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
          "invalid_request_error",
          null,
          "invalid_api_key",
        ),
      };
    case "permission":
      return {
        status,
        body: openAIError(
          spec.message ?? "You are not allowed to sample from this model",
          "invalid_request_error",
          null,
          null,
        ),
      };
    case "not-found":
      return {
        status,
        body: openAIError(spec.message ?? "The requested resource was not found.", "invalid_request_error", null, null),
      };
    case "context-length":
      return {
        status: 400,
        body: openAIError(
          spec.message ??
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
          "invalid_request_error",
          "messages",
          "context_length_exceeded",
        ),
      };
    case "bad-request":
      return { status, body: openAIError(spec.message ?? "Invalid request.", "invalid_request_error", null, null) };
    case "unavailable":
    case "overloaded":
      return {
        status,
        body: openAIError(
          spec.message ?? "The engine is currently overloaded, please try again later.",
          "server_error",
          null,
          null,
        ),
      };
    case "server-error":
      return {
        status,
        body: openAIError(
          spec.message ?? "The server had an error while processing your request. Sorry about that!",
          "server_error",
          null,
          null,
        ),
      };
  }
}

// Azure OpenAI's paths: /openai/deployments/<deployment>/chat/completions and /openai/models.
const AZURE_CHAT = /^\/openai\/deployments\/[^/]+\/chat\/completions$/;

/** OpenAI takes `Authorization: Bearer <key>`; Azure OpenAI (paths under /openai/) its `api-key` header. */
function keyMatches(req: IncomingMessage, apiKey: string): boolean {
  if (req.url?.startsWith("/openai/")) return req.headers["api-key"] === apiKey;
  return req.headers.authorization === `Bearer ${apiKey}`;
}

/** Azure refuses a data-plane request without `api-version` with a 404 "Resource not found". */
function azureVersionMissing(ctx: LoopbackContext): boolean {
  return ctx.url.pathname.startsWith("/openai/") && !ctx.url.searchParams.get("api-version");
}

/**
 * An OpenAI Chat Completions server: `POST /v1/chat/completions` and `/chat/completions` (JSON and
 * SSE ending with `data: [DONE]`, a usage chunk when `stream_options.include_usage`), and
 * `GET /v1/models` / `/models` as the free health endpoint. Azure OpenAI's shapes too:
 * `POST /openai/deployments/<deployment>/chat/completions?api-version=…` and
 * `GET /openai/models?api-version=…`, authenticated by the `api-key` header (404 without
 * `api-version`, as Azure answers).
 */
export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const { apiKey, models } = options;
  const listed = models ?? ["gpt-4o-mini"];
  const sendError = (ctx: LoopbackContext, spec: ErrorSpec): Promise<void> => ctx.sendError(spec);

  const handler: LoopbackHandler = {
    protocol: "openai",
    toolCallIdPrefix: "call_",
    requestIdHeader: "x-request-id",
    requestIdPrefix: "req_",
    retryAfterMsHeader: true,
    mapFinishReason: openAIFinishReason,
    renderError: renderOpenAIError,
    ...(apiKey !== undefined ? { authenticate: (req: IncomingMessage) => keyMatches(req, apiKey) } : {}),
    routes: [
      {
        method: "POST",
        path: ["/v1/chat/completions", "/chat/completions"],
        inference: true,
        handle: (ctx) => chat(ctx),
      },
      {
        method: "POST",
        path: AZURE_CHAT,
        inference: true,
        handle: (ctx) =>
          azureVersionMissing(ctx)
            ? ctx.sendJson(404, { error: { code: "404", message: "Resource not found" } })
            : chat(ctx),
      },
      {
        method: "GET",
        path: ["/v1/models", "/models", "/openai/models"],
        handle: (ctx) =>
          azureVersionMissing(ctx)
            ? ctx.sendJson(404, { error: { code: "404", message: "Resource not found" } })
            : ctx.sendJson(200, {
                object: "list",
                data: listed.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "loopback" })),
              }),
      },
    ],
  };
  function chat(ctx: LoopbackContext): Promise<void> {
    return serveChatCompletion(ctx, {
      protocol: "openai",
      systemFingerprint: "fp_loopback",
      models,
      badRequest: (message) => sendError(ctx, { status: 400, kind: "bad-request", message }),
      modelNotFound: (model) =>
        ctx.sendJson(
          404,
          openAIError(
            `The model \`${model}\` does not exist or you do not have access to it.`,
            "invalid_request_error",
            null,
            "model_not_found",
          ),
        ),
    });
  }
  const server = await startLoopbackServer(handler, options);
  return Object.assign(server, { baseURL: `${server.url}/v1` });
}
