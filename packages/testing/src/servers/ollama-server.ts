import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { asNumber, asString, isRecord } from "../internal/http";
import { type LoopbackServerOptions, startLoopbackServer } from "./loopback-server";
import type { ErrorSpec, LoopbackContext, LoopbackHandler, LoopbackServer, RenderedError } from "./handler";
import {
  type ChatMessage,
  type ReplyRequest,
  type ResolvedReply,
  type ToolDefinition,
  lastUserText,
} from "./scripted-replies";

export interface OllamaModelSpec {
  /** e.g. "llama3.2:1b"; a name without a tag means ":latest". */
  name: string;
  /** Reported as `model_info["<family>.context_length"]` by /api/show. Default 131072. */
  contextLength?: number;
  /** Default ["completion", "tools"]. With "thinking" the model takes `think` (Ollama refuses it otherwise, 400). */
  capabilities?: string[];
  /** Default "llama". */
  family?: string;
  /** Default "1.2B". */
  parameterSize?: string;
  /** Default "Q8_0". */
  quantizationLevel?: string;
  /** Bytes on disk. Default 1321098329. */
  size?: number;
}

export interface OllamaServerOptions extends LoopbackServerOptions {
  /** Installed models (GET /api/tags). Default ["llama3.2:1b"]. */
  models?: readonly (string | OllamaModelSpec)[];
  /** Which names /api/pull can fetch (default: any). Pulled models join the installed list. */
  pullable?: (name: string) => boolean;
  /** Bytes reported for a pulled layer. Default 3 * 1024 * 1024. */
  pullSizeBytes?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (as behind an auth proxy). */
  apiKey?: string;
}

export interface OllamaServer extends LoopbackServer {
  /** What the `ollama` client takes as `host`. */
  readonly host: string;
  /** Installed model names (normalized with their tag). */
  readonly models: readonly string[];
  addModel(model: string | OllamaModelSpec): void;
  removeModel(name: string): void;
}

export interface OllamaErrorBody {
  error: string;
}

/** Ollama's error body: `{ error: "..." }`. */
export function renderOllamaError(spec: ErrorSpec): RenderedError {
  const { status } = spec;
  const body = (error: string): OllamaErrorBody => ({ error });
  switch (spec.kind) {
    case "rate-limit":
      return { status, body: body(spec.message ?? "too many requests, please try again later") };
    case "authentication":
      return { status, body: body(spec.message ?? "unauthorized") };
    case "permission":
      return { status, body: body(spec.message ?? "forbidden") };
    case "not-found":
      return { status, body: body(spec.message ?? "404 page not found") };
    case "context-length":
      return { status: 400, body: body(spec.message ?? "the input length exceeds the context length") };
    case "bad-request":
      return { status, body: body(spec.message ?? "invalid request") };
    case "unavailable":
    case "overloaded":
      return {
        status,
        body: body(spec.message ?? "server busy, please try again.  maximum pending requests exceeded"),
      };
    case "server-error":
      return { status, body: body(spec.message ?? "an error was encountered while running the model") };
  }
}

export function normalizeOllamaModelName(name: string): string {
  const slash = name.lastIndexOf("/");
  return name.slice(slash + 1).includes(":") ? name : `${name}:latest`;
}

const DEFAULT_MODEL_CAPABILITIES = ["completion", "tools"];

function ollamaFinishReason(reason: string): string {
  // Ollama reports "stop" when it emitted tool calls.
  return reason === "tool-calls" || reason === "content-filter" ? "stop" : reason;
}

function digestOf(name: string): string {
  return createHash("sha256").update(name).digest("hex");
}

function ollamaContentText(message: Record<string, unknown>): string {
  const content = message["content"];
  return typeof content === "string" ? content : "";
}

function parseTools(raw: unknown): ToolDefinition[] {
  const tools: ToolDefinition[] = [];
  if (!Array.isArray(raw)) return tools;
  for (const tool of raw) {
    const fn = isRecord(tool) ? tool["function"] : undefined;
    if (isRecord(fn) && typeof fn["name"] === "string") {
      const definition: ToolDefinition = { name: fn["name"] };
      if (typeof fn["description"] === "string") definition.description = fn["description"];
      if (fn["parameters"] !== undefined) definition.parameters = fn["parameters"];
      tools.push(definition);
    }
  }
  return tools;
}

function isJsonFormat(format: unknown): boolean {
  return format === "json" || isRecord(format);
}

/** `think`: `true`, or a level (`"low"`, `"medium"`, `"high"`: gpt-oss); `false` or absent is off. */
function wantsThinking(think: unknown): boolean {
  return think === true || think === "low" || think === "medium" || think === "high";
}

/** Ollama has one thinking text a message: the scripted reasoning blocks joined (signatures and redacted blocks are Anthropic's). */
function thinkingOf(reply: ResolvedReply): { text: string; pieces: string[] } {
  let text = "";
  const pieces: string[] = [];
  for (const block of reply.reasoning) {
    if (block.redactedData !== undefined) continue;
    text += block.text;
    pieces.push(...block.chunks);
  }
  return { text, pieces };
}

/**
 * An Ollama server: `POST /api/chat` and `/api/generate` (NDJSON by default, JSON with
 * `stream: false`), `GET /api/tags` (health), `POST /api/show`, `POST /api/pull` (NDJSON progress),
 * `DELETE /api/delete`, `GET /api/version`, `GET /api/ps` and `GET /`. A scripted reply's
 * reasoning is sent as `thinking` (of the message, or of `/api/generate`'s answer) only when the
 * request asks for it with `think`, as Ollama does.
 */
export async function startOllamaServer(options: OllamaServerOptions = {}): Promise<OllamaServer> {
  const installed = new Map<string, OllamaModelSpec>();
  const add = (model: string | OllamaModelSpec): void => {
    const spec = typeof model === "string" ? { name: model } : model;
    const name = normalizeOllamaModelName(spec.name);
    installed.set(name, { ...spec, name });
  };
  for (const model of options.models ?? ["llama3.2:1b"]) add(model);
  const pullable = options.pullable ?? (() => true);
  const pullSize = options.pullSizeBytes ?? 3 * 1024 * 1024;
  const modifiedAt = "2025-01-01T00:00:00.000000000Z";
  const { apiKey } = options;

  const details = (spec: OllamaModelSpec): Record<string, unknown> => ({
    parent_model: "",
    format: "gguf",
    family: spec.family ?? "llama",
    families: [spec.family ?? "llama"],
    parameter_size: spec.parameterSize ?? "1.2B",
    quantization_level: spec.quantizationLevel ?? "Q8_0",
  });

  const findModel = (body: Record<string, unknown>): { name: string; spec: OllamaModelSpec | undefined } => {
    const raw = asString(body["model"]) ?? asString(body["name"]) ?? "";
    const name = raw === "" ? "" : normalizeOllamaModelName(raw);
    return { name, spec: installed.get(name) };
  };

  const notFound = (ctx: LoopbackContext, raw: string): Promise<void> =>
    ctx.sendError({ status: 404, kind: "not-found", message: `model "${raw}" not found, try pulling it first` });

  // Ollama refuses `think` for a model without the "thinking" capability (what /api/show lists).
  const refusesThinking = async (ctx: LoopbackContext, raw: string, spec: OllamaModelSpec): Promise<boolean> => {
    if (!wantsThinking(ctx.body["think"]) || (spec.capabilities ?? DEFAULT_MODEL_CAPABILITIES).includes("thinking"))
      return false;
    await ctx.sendError({ status: 400, kind: "bad-request", message: `"${raw}" does not support thinking` });
    return true;
  };

  const finalStats = (reply: ResolvedReply): Record<string, unknown> => {
    const stats: Record<string, unknown> = {
      total_duration: 5_000_000,
      load_duration: 1_000_000,
      prompt_eval_duration: 1_000_000,
      eval_duration: 3_000_000,
    };
    if (reply.usage) {
      stats["prompt_eval_count"] = reply.usage.inputTokens;
      stats["eval_count"] = reply.usage.outputTokens;
    }
    return stats;
  };

  const toolCallsBody = (reply: ResolvedReply): unknown[] =>
    reply.toolCalls.map((call, index) => ({
      id: call.id,
      function: { index, name: call.name, arguments: call.argumentsObject },
    }));

  const line = (value: unknown): string => `${JSON.stringify(value)}\n`;
  const malformedLine = '{"model": "broken", "message": {\n';

  const serveChat = async (ctx: LoopbackContext): Promise<void> => {
    const body = ctx.body;
    const raw = asString(body["model"]);
    if (raw === undefined) {
      await ctx.sendError({ status: 400, kind: "bad-request", message: "model is required" });
      return;
    }
    const { spec } = findModel(body);
    if (!spec) {
      await notFound(ctx, raw);
      return;
    }
    if (await refusesThinking(ctx, raw, spec)) return;
    const messages: ChatMessage[] = Array.isArray(body["messages"])
      ? (body["messages"] as unknown[]).filter(isRecord).map((m) => ({
          role: asString(m["role"]) ?? "user",
          content: ollamaContentText(m),
        }))
      : [];
    const modelOptions = isRecord(body["options"]) ? body["options"] : {};
    const request: ReplyRequest = {
      protocol: "ollama",
      path: ctx.url.pathname,
      model: raw,
      messages,
      lastUserText: lastUserText(messages),
      tools: parseTools(body["tools"]),
      stream: body["stream"] !== false,
      maxTokens: asNumber(modelOptions["num_predict"]),
      jsonMode: isJsonFormat(body["format"]),
      body,
    };
    const reply = await ctx.resolveReply(request);
    const head = () => ({ model: raw, created_at: new Date().toISOString() });
    // The reasoning is sent only when asked for (`think`), as `message.thinking`, before the content.
    const thinking = wantsThinking(body["think"]) ? thinkingOf(reply) : { text: "", pieces: [] };
    if (!request.stream) {
      const message: Record<string, unknown> = { role: "assistant", content: reply.text };
      if (thinking.text !== "") message["thinking"] = thinking.text;
      if (reply.toolCalls.length > 0) message["tool_calls"] = toolCallsBody(reply);
      await ctx.sendJson(200, {
        ...head(),
        message,
        done: true,
        done_reason: reply.finishReason,
        ...finalStats(reply),
      });
      return;
    }
    const frames = thinking.pieces.map((piece) =>
      line({ ...head(), message: { role: "assistant", content: "", thinking: piece }, done: false }),
    );
    for (const piece of reply.chunks)
      frames.push(line({ ...head(), message: { role: "assistant", content: piece }, done: false }));
    if (reply.toolCalls.length > 0) {
      frames.push(
        line({ ...head(), message: { role: "assistant", content: "", tool_calls: toolCallsBody(reply) }, done: false }),
      );
    }
    frames.push(
      line({
        ...head(),
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: reply.finishReason,
        ...finalStats(reply),
      }),
    );
    await ctx.sendStream({
      contentType: "application/x-ndjson",
      frames,
      terminalFrames: 1,
      malformedFrame: malformedLine,
    });
  };

  const serveGenerate = async (ctx: LoopbackContext): Promise<void> => {
    const body = ctx.body;
    const raw = asString(body["model"]);
    if (raw === undefined) {
      await ctx.sendError({ status: 400, kind: "bad-request", message: "model is required" });
      return;
    }
    const { spec } = findModel(body);
    if (!spec) {
      await notFound(ctx, raw);
      return;
    }
    if (await refusesThinking(ctx, raw, spec)) return;
    const prompt = asString(body["prompt"]) ?? "";
    const system = asString(body["system"]);
    const messages: ChatMessage[] = [
      ...(system !== undefined ? [{ role: "system", content: system }] : []),
      { role: "user", content: prompt },
    ];
    const modelOptions = isRecord(body["options"]) ? body["options"] : {};
    const request: ReplyRequest = {
      protocol: "ollama",
      path: ctx.url.pathname,
      model: raw,
      messages,
      lastUserText: prompt,
      tools: [],
      stream: body["stream"] !== false,
      maxTokens: asNumber(modelOptions["num_predict"]),
      jsonMode: isJsonFormat(body["format"]),
      body,
    };
    const reply = await ctx.resolveReply(request);
    const head = () => ({ model: raw, created_at: new Date().toISOString() });
    const final = { done: true, done_reason: reply.finishReason, context: [1, 2, 3], ...finalStats(reply) };
    const thinking = wantsThinking(body["think"]) ? thinkingOf(reply) : { text: "", pieces: [] };
    if (!request.stream) {
      const whole = thinking.text !== "" ? { thinking: thinking.text } : {};
      await ctx.sendJson(200, { ...head(), response: reply.text, ...whole, ...final });
      return;
    }
    const frames = thinking.pieces.map((piece) => line({ ...head(), response: "", thinking: piece, done: false }));
    for (const piece of reply.chunks) frames.push(line({ ...head(), response: piece, done: false }));
    frames.push(line({ ...head(), response: "", ...final }));
    await ctx.sendStream({
      contentType: "application/x-ndjson",
      frames,
      terminalFrames: 1,
      malformedFrame: malformedLine,
    });
  };

  const servePull = async (ctx: LoopbackContext): Promise<void> => {
    const raw = asString(ctx.body["model"]) ?? asString(ctx.body["name"]);
    if (raw === undefined || raw === "") {
      await ctx.sendError({ status: 400, kind: "bad-request", message: "model is required" });
      return;
    }
    const name = normalizeOllamaModelName(raw);
    const stream = ctx.body["stream"] !== false;
    const failure = "pull model manifest: file does not exist";
    if (!pullable(name)) {
      if (!stream) {
        await ctx.sendError({ status: 500, kind: "server-error", message: failure });
        return;
      }
      // A streamed pull reports failure in-band, after the response has started.
      await ctx.sendStream({
        contentType: "application/x-ndjson",
        frames: [line({ status: "pulling manifest" }), line({ error: failure })],
        terminalFrames: 0,
        malformedFrame: malformedLine,
      });
      return;
    }
    const digest = `sha256:${digestOf(name)}`;
    const frames = [line({ status: "pulling manifest" })];
    for (const completed of [0, Math.floor(pullSize / 3), Math.floor((2 * pullSize) / 3), pullSize]) {
      frames.push(line({ status: `pulling ${digest.slice(7, 19)}`, digest, total: pullSize, completed }));
    }
    frames.push(
      line({ status: "verifying sha256 digest" }),
      line({ status: "writing manifest" }),
      line({ status: "success" }),
    );
    const cut = ctx.fault?.type === "cut-stream";
    if (!stream) await ctx.sendJson(200, { status: "success" });
    else
      await ctx.sendStream({
        contentType: "application/x-ndjson",
        frames,
        terminalFrames: 1,
        malformedFrame: malformedLine,
      });
    if (!cut) add({ name, size: pullSize });
  };

  const handler: LoopbackHandler = {
    protocol: "ollama",
    toolCallIdPrefix: "call_",
    mapFinishReason: ollamaFinishReason,
    renderError: renderOllamaError,
    ...(apiKey !== undefined
      ? { authenticate: (req: IncomingMessage) => req.headers.authorization === `Bearer ${apiKey}` }
      : {}),
    routes: [
      { method: "POST", path: "/api/chat", inference: true, handle: serveChat },
      { method: "POST", path: "/api/generate", inference: true, handle: serveGenerate },
      { method: "POST", path: "/api/pull", inference: true, handle: servePull },
      {
        method: "GET",
        path: "/api/tags",
        handle: (ctx) =>
          ctx.sendJson(200, {
            models: [...installed.values()].map((spec) => ({
              name: spec.name,
              model: spec.name,
              modified_at: modifiedAt,
              size: spec.size ?? 1_321_098_329,
              digest: digestOf(spec.name),
              details: details(spec),
            })),
          }),
      },
      {
        method: "POST",
        path: "/api/show",
        handle: async (ctx) => {
          const raw = asString(ctx.body["model"]) ?? asString(ctx.body["name"]) ?? "";
          const { spec } = findModel(ctx.body);
          if (!spec) {
            await ctx.sendError({ status: 404, kind: "not-found", message: `model '${raw}' not found` });
            return;
          }
          const family = spec.family ?? "llama";
          await ctx.sendJson(200, {
            license: "",
            modelfile: `# Modelfile generated by the loopback server\nFROM ${spec.name}\n`,
            parameters: 'stop                           "<|eot_id|>"',
            template: "{{ .Prompt }}",
            details: details(spec),
            model_info: {
              "general.architecture": family,
              "general.basename": spec.name.split(":")[0],
              "general.parameter_count": 1_235_814_432,
              "general.quantization_version": 2,
              [`${family}.context_length`]: spec.contextLength ?? 131_072,
              [`${family}.embedding_length`]: 2048,
              [`${family}.block_count`]: 16,
              [`${family}.attention.head_count`]: 32,
            },
            capabilities: spec.capabilities ?? DEFAULT_MODEL_CAPABILITIES,
            modified_at: modifiedAt,
          });
        },
      },
      {
        method: "DELETE",
        path: "/api/delete",
        handle: async (ctx) => {
          const { name, spec } = findModel(ctx.body);
          if (!spec) {
            await ctx.sendError({ status: 404, kind: "not-found", message: `model '${name}' not found` });
            return;
          }
          installed.delete(name);
          await ctx.sendText(200, "", "text/plain");
        },
      },
      { method: "GET", path: "/api/version", public: true, handle: (ctx) => ctx.sendJson(200, { version: "0.12.0" }) },
      { method: "GET", path: "/api/ps", handle: (ctx) => ctx.sendJson(200, { models: [] }) },
      { method: "GET", path: "/", public: true, handle: (ctx) => ctx.sendText(200, "Ollama is running") },
      { method: "HEAD", path: "/", public: true, handle: (ctx) => ctx.sendText(200, "") },
    ],
  };
  const server = await startLoopbackServer(handler, options);
  const extras = {
    host: server.url,
    get models(): readonly string[] {
      return [...installed.keys()];
    },
    addModel: add,
    removeModel(name: string) {
      installed.delete(normalizeOllamaModelName(name));
    },
  };
  return Object.defineProperties(server, Object.getOwnPropertyDescriptors(extras)) as OllamaServer;
}
