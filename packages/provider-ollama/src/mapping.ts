import {
  type ContentPart,
  type FinishReason,
  type GenerateRequest,
  type SchemaLike,
  type Usage,
  contentText,
  toolArgumentsObject,
} from "@orchestrator-ts/core";
import { toJsonSchema } from "@orchestrator-ts/core/internal";
import type { ChatRequest, Message, Tool } from "ollama";

// zod → JSON Schema conversion is not free: convert each schema object once.
const schemaCache = new WeakMap<object, Record<string, unknown>>();
function jsonSchemaOf(schema: SchemaLike): Record<string, unknown> {
  let out = schemaCache.get(schema);
  if (!out) {
    out = toJsonSchema(schema);
    schemaCache.set(schema, out);
  }
  return out;
}

/** Ollama takes images as base64 bytes; URLs other than data: URLs cannot be sent. */
function imagesOf(content: string | ContentPart[], warnings: string[]): string[] {
  if (typeof content === "string") return [];
  const images: string[] = [];
  for (const part of content) {
    if (part.type !== "image") continue;
    if (part.data !== undefined) images.push(part.data);
    else if (part.url?.startsWith("data:")) images.push(part.url.slice(part.url.indexOf(",") + 1));
    else
      warnings.push(
        "Ollama takes images as bytes: an image given by http(s) URL was left out (pass `data` or a data: URL).",
      );
  }
  return images;
}

export interface OllamaCallSettings {
  model: string;
  keepAlive: string | number | undefined;
}

/** A core request as an Ollama `/api/chat` body (without `stream`), plus what could not be sent. */
export function toOllamaChat(
  request: GenerateRequest,
  settings: OllamaCallSettings,
): { body: ChatRequest; warnings: string[] } {
  const warnings: string[] = [];
  const messages: Message[] = [];
  // Ollama names the tool a result belongs to, not the call id: remember names by id.
  const toolNames = new Map<string, string>();
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
        messages.push({ role: "system", content: message.content });
        break;
      case "user": {
        const images = imagesOf(message.content, warnings);
        messages.push({
          role: "user",
          content: contentText(message.content),
          ...(images.length > 0 ? { images } : {}),
        });
        break;
      }
      case "assistant": {
        // An earlier turn's reasoning (`message.reasoning`) is not given back as `thinking`.
        const out: Message = { role: "assistant", content: contentText(message.content) };
        if (message.toolCalls && message.toolCalls.length > 0) {
          out.tool_calls = message.toolCalls.map((call) => {
            toolNames.set(call.id, call.name);
            return { function: { name: call.name, arguments: toolArgumentsObject(call.arguments) } };
          });
        }
        messages.push(out);
        break;
      }
      case "tool": {
        const name = message.name ?? toolNames.get(message.toolCallId);
        // Images a tool returned (a screenshot) go with its result, as a user message's do.
        const images = imagesOf(message.content, warnings);
        messages.push({
          role: "tool",
          content: contentText(message.content),
          ...(name !== undefined ? { tool_name: name } : {}),
          ...(images.length > 0 ? { images } : {}),
        });
        break;
      }
    }
  }

  const body: ChatRequest = { model: settings.model, messages };
  const options: NonNullable<ChatRequest["options"]> = {};
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.topP !== undefined) options.top_p = request.topP;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.stop && request.stop.length > 0) options.stop = request.stop;
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;

  let tools = request.tools ?? [];
  const choice = request.toolChoice;
  if (choice === "none") tools = [];
  else if (choice === "required")
    warnings.push("Ollama cannot force a tool call (`toolChoice: required`); the model may answer in text.");
  else if (typeof choice === "object") {
    // The closest Ollama gets to forcing one tool: offer only that one.
    tools = tools.filter((t) => t.name === choice.name);
    warnings.push(`Ollama cannot force a tool call; only "${choice.name}" was offered.`);
  }
  if (tools.length > 0) {
    body.tools = tools.map(
      (tool): Tool => ({
        type: "function",
        function: {
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          parameters: jsonSchemaOf(tool.parameters) as NonNullable<Tool["function"]["parameters"]>,
        },
      }),
    );
  }
  if (request.responseFormat?.type === "json")
    body.format = request.responseFormat.schema ? jsonSchemaOf(request.responseFormat.schema) : "json";
  if (settings.keepAlive !== undefined) body.keep_alive = settings.keepAlive;

  const extra = request.providerOptions?.["ollama"];
  if (extra) {
    const { options: extraOptions, ...rest } = extra as { options?: Record<string, unknown> } & Record<string, unknown>;
    Object.assign(options, extraOptions);
    Object.assign(body, rest);
  }
  if (Object.keys(options).length > 0) body.options = options;
  return { body, warnings };
}

export function mapDoneReason(raw: string | undefined, sawToolCalls: boolean): FinishReason | undefined {
  if (!raw) return undefined;
  // Ollama says "stop" when the turn ended with tool calls.
  if (raw === "stop") return { unified: sawToolCalls ? "tool-calls" : "stop", raw };
  if (raw === "length") return { unified: "length", raw };
  return { unified: "other", raw };
}

export function mapUsage(response: { prompt_eval_count?: number; eval_count?: number }): Usage {
  const usage: Usage = {};
  if (typeof response.prompt_eval_count === "number") usage.inputTokens = response.prompt_eval_count;
  if (typeof response.eval_count === "number") usage.outputTokens = response.eval_count;
  return usage;
}
