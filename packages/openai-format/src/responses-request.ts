import type {
  ContentPart,
  GenerateRequest,
  Message,
  ReasoningEffort,
  ReasoningPart,
  ResponseFormat,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from "@orchestrator-ts/core";
import { contentText } from "@orchestrator-ts/core";
import {
  DATA_URL,
  InvalidChatRequestError,
  invalid,
  namedToolChoice,
  optionalInteger,
  optionalNumber,
  requiredToolChoice,
} from "./parse-request";
import { isRecord } from "./reasoning";
import { REDACTED } from "./responses-response";
import { parseArguments } from "./tool-calls";

/** A Responses request as a server receives it: the model asked for, whether to stream, the end user, the core request. */
export interface ParsedResponsesRequest {
  model: string;
  stream: boolean;
  /** `safety_identifier`, or the older `user`. */
  user: string | undefined;
  request: GenerateRequest;
}

// Fields that need state a stateless server does not keep: refused, so a client never gets an answer that silently ignored them.
const STATEFUL: Record<string, string> = {
  previous_response_id: "send the whole conversation in `input` instead",
  conversation: "send the whole conversation in `input` instead",
  prompt: "stored prompts are not available here; send the text in `instructions` and `input`",
  background: "background responses are not available here",
};

const EFFORTS: Record<string, ReasoningEffort> = { low: "low", medium: "medium", high: "high" };
// The efforts OpenAI's reasoning models take besides those: sent on to them as they are, as chat completions does.
const OPENAI_ONLY_EFFORTS = new Set(["none", "minimal", "xhigh", "max"]);

function unsupported(param: string, why: string): InvalidChatRequestError {
  return new InvalidChatRequestError(`'${param}' is not supported by this server: ${why}.`, param);
}

/** A message item's content: a string, or input_text / input_image parts (output_text and refusal for the assistant). */
function messageContent(content: unknown, param: string, assistant: boolean): string | ContentPart[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalid(param, "a string or an array of content parts");
  const parts: ContentPart[] = [];
  for (let i = 0; i < content.length; i++) {
    const part: unknown = content[i];
    const where = `${param}[${i}]`;
    if (!isRecord(part)) throw invalid(where, "a content part");
    const type = part.type;
    if (type === "input_text" || type === "output_text") {
      if (typeof part.text !== "string") throw invalid(`${where}.text`, "a string");
      parts.push({ type: "text", text: part.text });
    } else if (type === "refusal" && assistant) {
      if (typeof part.refusal !== "string") throw invalid(`${where}.refusal`, "a string");
      parts.push({ type: "text", text: part.refusal });
    } else if (type === "input_image" && !assistant) {
      const url = part.image_url;
      if (typeof url !== "string" || url === "") {
        if (part.file_id !== undefined && part.file_id !== null)
          throw unsupported(`${where}.file_id`, "uploaded files are not available here; give the image as `image_url`");
        throw invalid(`${where}.image_url`, "a URL or a data: URL");
      }
      const data = DATA_URL.exec(url);
      parts.push(
        data ? { type: "image", data: data[2] as string, mediaType: data[1] as string } : { type: "image", url },
      );
    } else if (type === "input_file" || type === "input_audio") {
      throw unsupported(where, `${type} parts are not available here`);
    } else {
      throw invalid(`${where}.type`, assistant ? '"output_text" or "refusal"' : '"input_text" or "input_image"');
    }
  }
  // Text only: one string, as chat messages carry it (the providers send it the same way), a part per line.
  return parts.every((p) => p.type === "text") ? contentText(parts, "\n") : parts;
}

/**
 * A reasoning item given back: its text (`content`, else `summary`) with `encrypted_content` as its
 * signature; `encrypted_content` starting with "redacted:" is a redacted block's data. An item with
 * neither text nor redacted data has nothing to give back: undefined.
 */
function reasoningItem(item: Record<string, unknown>, param: string): ReasoningPart | undefined {
  let text = "";
  for (const key of ["content", "summary"] as const) {
    const list = item[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw invalid(`${param}.${key}`, "an array of text parts");
    for (let i = 0; i < list.length; i++) {
      const part: unknown = list[i];
      if (!isRecord(part) || typeof part.text !== "string") throw invalid(`${param}.${key}[${i}]`, "a text part");
      text += part.text;
    }
    if (text !== "") break;
  }
  const encrypted = item.encrypted_content;
  if (encrypted !== undefined && encrypted !== null && typeof encrypted !== "string")
    throw invalid(`${param}.encrypted_content`, "a string");
  if (typeof encrypted === "string" && encrypted.startsWith(REDACTED))
    return { type: "reasoning", text: "", redactedData: encrypted.slice(REDACTED.length) };
  // A signature without the text it signs cannot be given back (the provider checks one against the other).
  if (text === "") return undefined;
  return typeof encrypted === "string" && encrypted !== ""
    ? { type: "reasoning", text, signature: encrypted }
    : { type: "reasoning", text };
}

/** The assistant turn being built from consecutive output items (a message, reasoning, function calls). */
interface AssistantTurn {
  role: "assistant";
  content: string | ContentPart[];
  toolCalls?: ToolCall[];
  reasoning?: ReasoningPart[];
}

function conversation(input: unknown, instructions: string | undefined): Message[] {
  const messages: Message[] = [];
  if (instructions !== undefined && instructions !== "") messages.push({ role: "system", content: instructions });
  if (typeof input === "string") {
    messages.push({ role: "user", content: input });
    return messages;
  }
  if (!Array.isArray(input) || input.length === 0)
    throw invalid("input", "a string or a non-empty array of input items");
  let turn: AssistantTurn | undefined;
  const assistant = (): AssistantTurn => {
    if (turn === undefined) {
      turn = { role: "assistant", content: "" };
      messages.push(turn);
    }
    return turn;
  };
  for (let i = 0; i < input.length; i++) {
    const item: unknown = input[i];
    const param = `input[${i}]`;
    if (!isRecord(item)) throw invalid(param, "an input item");
    const type = item.type ?? "message";
    if (type === "message") {
      const role = item.role;
      if (role === "assistant") {
        const content = messageContent(item.content, `${param}.content`, true);
        const current = assistant();
        // Text after the turn's text (two message items in a row) is joined to it.
        current.content =
          current.content === ""
            ? content
            : typeof current.content === "string" && typeof content === "string"
              ? current.content + content
              : [...asParts(current.content), ...asParts(content)];
        continue;
      }
      turn = undefined;
      if (role === "system" || role === "developer") {
        const content = messageContent(item.content, `${param}.content`, false);
        if (typeof content !== "string") throw invalid(`${param}.content`, "text only (input_text parts)");
        messages.push({ role: "system", content });
      } else if (role === "user") {
        messages.push({ role: "user", content: messageContent(item.content, `${param}.content`, false) });
      } else throw invalid(`${param}.role`, '"user", "assistant", "system" or "developer"');
    } else if (type === "function_call") {
      if (typeof item.call_id !== "string" || item.call_id === "") throw invalid(`${param}.call_id`, "a string");
      if (typeof item.name !== "string" || item.name === "") throw invalid(`${param}.name`, "a string");
      const current = assistant();
      (current.toolCalls ??= []).push({ id: item.call_id, name: item.name, arguments: parseArguments(item.arguments) });
    } else if (type === "reasoning") {
      const part = reasoningItem(item, param);
      const current = assistant();
      // After the turn's function calls (interleaved thinking): it goes back there.
      if (part !== undefined && current.toolCalls !== undefined) part.afterToolCalls = current.toolCalls.length;
      if (part !== undefined) (current.reasoning ??= []).push(part);
    } else if (type === "function_call_output") {
      turn = undefined;
      if (typeof item.call_id !== "string" || item.call_id === "") throw invalid(`${param}.call_id`, "a string");
      const output = item.output;
      let content: string | ContentPart[];
      if (typeof output === "string") content = output;
      else {
        // input_text parts, and input_image parts for the images a tool returned (a screenshot).
        const parts = Array.isArray(output) ? messageContent(output, `${param}.output`, false) : undefined;
        if (parts === undefined) throw invalid(`${param}.output`, "a string or input_text / input_image parts");
        content = parts;
      }
      messages.push({ role: "tool", toolCallId: item.call_id, content });
    } else if (type === "item_reference") {
      throw unsupported(param, "stored items are not available here; send the item itself");
    } else {
      throw unsupported(
        `${param}.type`,
        `"${String(type)}" items are not available here (messages, reasoning, function calls and their outputs are)`,
      );
    }
  }
  return messages;
}

function asParts(content: string | ContentPart[]): ContentPart[] {
  return typeof content === "string" ? (content === "" ? [] : [{ type: "text", text: content }]) : content;
}

function tool(value: unknown, i: number): ToolDefinition {
  const param = `tools[${i}]`;
  if (!isRecord(value)) throw invalid(param, "a function tool");
  if (value.type === "custom")
    throw unsupported(
      `${param}.type`,
      "custom (free-form) tools are not available on every model; declare a function tool",
    );
  if (value.type !== "function")
    throw unsupported(
      `${param}.type`,
      `"${String(value.type)}" is one of OpenAI's own tools, which only OpenAI runs; function tools are served`,
    );
  if (typeof value.name !== "string" || value.name === "") throw invalid(`${param}.name`, "a string");
  const parameters = value.parameters ?? { type: "object", properties: {} };
  if (!isRecord(parameters)) throw invalid(`${param}.parameters`, "a JSON Schema object");
  const definition: ToolDefinition = { name: value.name, parameters };
  if (typeof value.description === "string") definition.description = value.description;
  if (value.strict === true) definition.strict = true;
  return definition;
}

function toolChoice(value: unknown, request: GenerateRequest): ToolChoice {
  if (value === "required") return requiredToolChoice(request.tools, "tool_choice");
  if (value === "auto" || value === "none") return value;
  if (isRecord(value) && value.type === "function" && typeof value.name === "string")
    return namedToolChoice(value.name, request.tools, "tool_choice.name");
  if (isRecord(value) && value.type === "allowed_tools" && Array.isArray(value.tools)) {
    // The tools offered this turn are the allowed ones (the rest stay declared, for later turns).
    const names = new Set<string>();
    for (let i = 0; i < value.tools.length; i++) {
      const allowed: unknown = value.tools[i];
      if (!isRecord(allowed) || allowed.type !== "function" || typeof allowed.name !== "string")
        throw invalid(`tool_choice.tools[${i}]`, '{ "type": "function", "name" }');
      // Each must be declared, as for a tool choice naming one tool.
      names.add(namedToolChoice(allowed.name, request.tools, `tool_choice.tools[${i}].name`).name);
    }
    if (value.mode !== undefined && value.mode !== "auto" && value.mode !== "required")
      throw invalid("tool_choice.mode", '"auto" or "required"');
    const offered = (request.tools ?? []).filter((t) => names.has(t.name));
    if (value.mode === "required") requiredToolChoice(offered, "tool_choice.tools");
    if (offered.length > 0) request.tools = offered;
    else request.tools = undefined;
    if (offered.length === 0) return "none";
    return value.mode === "required" ? "required" : "auto";
  }
  throw invalid(
    "tool_choice",
    '"auto", "none", "required", { "type": "function", "name" } or { "type": "allowed_tools", "mode", "tools" }',
  );
}

function textFormat(text: unknown, extra: Record<string, unknown>): ResponseFormat | undefined {
  if (!isRecord(text)) throw invalid("text", "an object");
  const format = text.format;
  if (format === undefined || format === null) return undefined;
  if (!isRecord(format)) throw invalid("text.format", "an object");
  if (format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json" };
  if (format.type !== "json_schema" || typeof format.name !== "string" || !isRecord(format.schema))
    throw invalid(
      "text.format",
      '{ "type": "text" }, { "type": "json_object" } or { "type": "json_schema", "name", "schema" }',
    );
  // As on chat completions: only `strict: true` asks for strict output.
  if (format.strict !== true) extra.strictJsonSchema = false;
  const out: ResponseFormat = { type: "json", name: format.name, schema: format.schema };
  if (typeof format.description === "string") out.description = format.description;
  return out;
}

/**
 * A Responses API request body (`POST /v1/responses`, parsed JSON) in the core's terms, for a
 * stateless server: `instructions` and system/developer messages become system messages; message
 * items with input_text / input_image parts, an assistant's output_text, `reasoning` items (text
 * with `encrypted_content` as its signature) and `function_call` items make the assistant's turns;
 * `function_call_output` items are tool messages. Function `tools`, `tool_choice`,
 * `max_output_tokens`, `temperature`, `top_p`, `text.format` (JSON schema: structured output on
 * any model) and `reasoning.effort` are read; fields that need stored state
 * (`previous_response_id`, `conversation`, `prompt`, `background`), OpenAI's own tools and
 * uploaded files are refused with a 400 that says so; the rest (`store`, `metadata`, `include`…)
 * is ignored. Bad input is an `InvalidChatRequestError` naming the field (`input[2].content[0].type`).
 */
export function fromResponsesRequest(body: unknown): ParsedResponsesRequest {
  if (!isRecord(body)) throw new InvalidChatRequestError("The request body must be a JSON object.", "");
  const model = body.model;
  if (typeof model !== "string" || model === "") throw invalid("model", "a model name");
  for (const key of Object.keys(STATEFUL)) {
    const value = body[key];
    if (value !== undefined && value !== null && value !== false) throw unsupported(key, STATEFUL[key] as string);
  }
  const instructions = body.instructions;
  if (instructions !== undefined && instructions !== null && typeof instructions !== "string")
    throw invalid("instructions", "a string");
  if (body.input === undefined || body.input === null) throw invalid("input", "a string or an array of input items");
  const request: GenerateRequest = {
    messages: conversation(body.input, typeof instructions === "string" ? instructions : undefined),
  };
  const maxTokens = optionalInteger(body, "max_output_tokens", 1);
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  const temperature = optionalNumber(body, "temperature");
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, "top_p");
  if (topP !== undefined) request.topP = topP;
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw invalid("tools", "an array of tools");
    if (body.tools.length > 0) request.tools = body.tools.map(tool);
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null)
    request.toolChoice = toolChoice(body.tool_choice, request);
  const extra: Record<string, unknown> = {};
  if (body.text !== undefined && body.text !== null) {
    const format = textFormat(body.text, extra);
    if (format !== undefined) request.responseFormat = format;
  }
  const reasoning = body.reasoning;
  if (reasoning !== undefined && reasoning !== null) {
    if (!isRecord(reasoning)) throw invalid("reasoning", "an object");
    const effort = reasoning.effort;
    if (effort !== undefined && effort !== null) {
      const mapped = typeof effort === "string" ? EFFORTS[effort] : undefined;
      if (mapped !== undefined) request.reasoning = { effort: mapped };
      else if (typeof effort === "string" && OPENAI_ONLY_EFFORTS.has(effort)) extra.reasoning_effort = effort;
      else throw invalid("reasoning.effort", '"none", "minimal", "low", "medium", "high", "xhigh" or "max"');
    }
  }
  const parallel = body.parallel_tool_calls;
  if (parallel !== undefined && parallel !== null) {
    if (typeof parallel !== "boolean") throw invalid("parallel_tool_calls", "a boolean");
    request.parallelToolCalls = parallel;
  }
  if (Object.keys(extra).length > 0) request.providerOptions = { openai: extra };
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") throw invalid("stream", "a boolean");
  const user = typeof body.safety_identifier === "string" ? body.safety_identifier : body.user;
  return {
    model,
    stream: stream === true,
    user: typeof user === "string" && user !== "" ? user : undefined,
    request,
  };
}
