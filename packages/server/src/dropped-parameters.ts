import type { GenerateRequest } from "@orchestrator-ts/core";
import type { ModelRegistry } from "@orchestrator-ts/registry";

// A client's parameters that the core has no name for are kept by the wire's parser under its API's
// `providerOptions` key (`openai` for chat completions and Responses, `anthropic` for messages).
// Only a model that sends that key on as it is (`Model.providerOptionsKeys`: an OpenAIModel
// `openai`, an AnthropicModel `anthropic`) gives them to its API; any other leaves them out, and
// the client is told so in `x-orchestrator-warnings`, by name — never the values.

/** The wires' keys, as a warning names their API. */
const APIS: Record<string, string> = { openai: "OpenAI", anthropic: "Anthropic" };

/** The most names one warning lists; the rest is "…". */
const MAX_NAMES = 10;
/** The most characters of one name (a client's key can be anything). */
const MAX_NAME = 64;

/** No warning (shared: never written to). */
const NONE: readonly string[] = [];

/**
 * The warning (one per wire key, and a request has one) for the client's parameters that the
 * registered model `name`, the one that answered, did not get: those under the wire's
 * `providerOptions` key (`openai`, `anthropic`) when the model does not send that key on as it
 * is. None when there are none, when it does, or when the model does not say which keys it sends
 * (`providerOptionsKeys` undefined). Parameters the gateway took itself are not named: OpenAI's
 * `user` and Anthropic's `metadata.user_id` (the records' end user), `thinking` that became the
 * request's reasoning, `betas` (the `anthropic-beta` header; the fields it enables are named on
 * their own), `strictJsonSchema` (how the parser keeps a non-strict JSON schema).
 */
export function droppedParameters(
  request: GenerateRequest,
  registry: ModelRegistry,
  name: string | undefined,
): readonly string[] {
  const options = request.providerOptions;
  if (options === undefined || name === undefined || !registry.hasModel(name)) return NONE;
  const model = registry.getModel(name);
  const sends = model.providerOptionsKeys;
  if (sends === undefined) return NONE;
  const warnings: string[] = [];
  for (const key in options) {
    const api = APIS[key];
    const given = options[key];
    if (api === undefined || given === undefined || sends.includes(key)) continue;
    const names = Object.keys(given).filter(
      (param) => !neutral(param, given[param]) && !carried(key, param, given[param], request),
    );
    if (names.length === 0) continue;
    const listed = names.slice(0, MAX_NAMES).map((param) => `\`${clipped(param)}\``);
    if (names.length > MAX_NAMES) listed.push("…");
    const what = names.length === 1 ? `an ${api} parameter` : `${api} parameters`;
    warnings.push(`${listed.join(", ")}: ${what}, not sent to ${model.name} (${model.provider}).`);
  }
  return warnings;
}

/**
 * A value that asks for nothing (what clients and UIs send as defaults): `null`, `false`, `0`, an
 * empty object or list, thinking `disabled`. Leaving it out changes nothing, so it is not named.
 */
function neutral(name: string, value: unknown): boolean {
  if (value === null || value === false || value === 0 || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") {
    if (name === "thinking" && (value as { type?: unknown }).type === "disabled") return true;
    for (const _ in value) return false;
    return true;
  }
  return false;
}

/** Whether the gateway itself took this parameter in (see `droppedParameters`). */
function carried(key: string, name: string, value: unknown, request: GenerateRequest): boolean {
  if (key === "openai") return name === "user" || name === "strictJsonSchema";
  if (name === "betas") return true;
  if (name === "thinking") return request.reasoning !== undefined;
  if (name === "metadata")
    return typeof value === "object" && value !== null && Object.keys(value).every((k) => k === "user_id");
  return false;
}

function clipped(name: string): string {
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME)}…`;
}
