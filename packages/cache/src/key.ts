import * as crypto from "node:crypto";
import { createHash } from "node:crypto";
import type { GenerateRequest, ModelIdentity, ResponseFormat, ToolDefinition } from "@orchestrator-ts/core";
import { toJsonSchema, withFields } from "@orchestrator-ts/core/internal";

/**
 * Canonical JSON: object keys sorted, `undefined` members left out (as `JSON.stringify` does), so
 * two requests that differ only in key order or in absent-vs-undefined fields hash the same.
 */
export function canonicalJson(value: unknown): string {
  return write(value, "");
}

function write(value: unknown, out: string): string {
  if (value === null) return `${out}null`;
  switch (typeof value) {
    case "string":
      return out + JSON.stringify(value);
    case "number":
      return out + (Number.isFinite(value) ? String(value) : "null");
    case "boolean":
      return out + (value ? "true" : "false");
    case "bigint":
      return out + JSON.stringify(value.toString());
    case "object": {
      if (Array.isArray(value)) {
        out += "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ",";
          const item: unknown = value[i];
          out =
            item === undefined || typeof item === "function" || typeof item === "symbol"
              ? `${out}null`
              : write(item, out);
        }
        return `${out}]`;
      }
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === "function") return write(toJSON.call(value), out);
      const record = value as Record<string, unknown>;
      const keys = sortedKeys(record);
      out += "{";
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const member = record[key];
        if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
        if (!first) out += ",";
        first = false;
        out = write(member, out + quoteKey(key));
      }
      return `${out}}`;
    }
    default:
      return `${out}null`;
  }
}

// The canonical order is the default sort's (UTF-16 code units, as `<` compares strings). Objects
// in requests are small: an insertion sort beats Array#sort there, and most need no move at all.
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** `"key":`, as JSON.stringify quotes it; plain keys (the usual case) skip the escaping pass. */
function quoteKey(key: string): string {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0xd800) return `${JSON.stringify(key)}:`;
  }
  return `"${key}":`;
}

// Converting a zod schema is costly; the same tool objects are usually passed on every call.
const schemaCache = new WeakMap<object, Record<string, unknown>>();

function jsonSchemaOf(schema: ToolDefinition["parameters"]): Record<string, unknown> {
  let converted = schemaCache.get(schema);
  if (!converted) {
    converted = toJsonSchema(schema);
    schemaCache.set(schema, converted);
  }
  return converted;
}

function normalizeTools(tools: ToolDefinition[]): unknown[] {
  // `strict` changes what the model may answer (OpenAI's strict function calling); a cache breakpoint does not.
  return tools.map((t) => ({
    name: t.name,
    description: t.description,
    parameters: jsonSchemaOf(t.parameters),
    strict: t.strict,
  }));
}

function normalizeFormat(format: ResponseFormat): unknown {
  if (format.type !== "json" || format.schema === undefined) return format;
  return withFields(format, { schema: jsonSchemaOf(format.schema) });
}

/**
 * What makes two requests "the same" for a cache: who answers (provider, model name, and the
 * model's `cacheIdentity`: API model id, endpoint, options) and everything the model sees.
 * Transport concerns (`signal`, `timeoutMs`, the `cache` flag) and the `task` tag (it steers
 * selection and statistics, not the answer) are left out.
 */
export function normalizeRequest(model: ModelIdentity, request: GenerateRequest): Record<string, unknown> {
  return {
    identity: model.cacheIdentity,
    provider: model.provider,
    model: model.name,
    messages: request.messages,
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    topP: request.topP,
    stop: request.stop,
    seed: request.seed,
    tools: request.tools && request.tools.length > 0 ? normalizeTools(request.tools) : undefined,
    toolChoice: request.toolChoice,
    parallelToolCalls: request.parallelToolCalls,
    responseFormat: request.responseFormat ? normalizeFormat(request.responseFormat) : undefined,
    reasoning: request.reasoning,
    providerOptions: request.providerOptions,
  };
}

/** The cache key of a request: `<namespace>:<sha256 of the canonical normalized request, base64url>`. */
// One-shot hashing (Node ≥ 20.12) skips the Hash object: ~0.4 µs less per lookup than createHash.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "base64url") => string }).hash;
const sha256 = oneShot
  ? (text: string) => oneShot("sha256", text, "base64url")
  : (text: string) => createHash("sha256").update(text).digest("base64url");

export function cacheKey(model: ModelIdentity, request: GenerateRequest, namespace = "orc"): string {
  return `${namespace}:${sha256(canonicalRequest(model, request))}`;
}

/**
 * `canonicalJson(normalizeRequest(model, request))` written directly: the members in their sorted
 * order, no intermediate object and no sort of its keys (about half the cost of a key).
 */
function canonicalRequest(model: ModelIdentity, request: GenerateRequest): string {
  let out = "{";
  const identity = model.cacheIdentity;
  if (typeof identity === "string") out = `${out}"identity":${quoted(identity)}`;
  else out = member(out, '"identity":', identity);
  out = member(out, '"maxTokens":', request.maxTokens);
  out =
    request.messages === undefined
      ? out
      : writeMessages(request.messages, out.length > 1 ? `${out},"messages":` : `${out}"messages":`);
  out = member(out, '"model":', model.name);
  out = member(out, '"parallelToolCalls":', request.parallelToolCalls);
  out = member(out, '"provider":', model.provider);
  out = member(out, '"providerOptions":', request.providerOptions);
  out = member(out, '"reasoning":', request.reasoning);
  out = member(out, '"responseFormat":', request.responseFormat ? normalizeFormat(request.responseFormat) : undefined);
  out = member(out, '"seed":', request.seed);
  out = member(out, '"stop":', request.stop);
  out = member(out, '"temperature":', request.temperature);
  out = member(out, '"toolChoice":', request.toolChoice);
  out = member(out, '"tools":', request.tools && request.tools.length > 0 ? normalizeTools(request.tools) : undefined);
  out = member(out, '"topP":', request.topP);
  return `${out}}`;
}

// A model's identity is the same string on every call: quote it once (a one-entry memo is enough
// for the usual case of one model, or a few, asking in turn).
let lastIdentity: string | undefined;
let lastQuoted = "";
function quoted(identity: string): string {
  if (identity !== lastIdentity) {
    lastQuoted = JSON.stringify(identity);
    lastIdentity = identity;
  }
  return lastQuoted;
}

/** The messages as `write` renders them, with a shortcut for the usual `{ role, content: string }`. */
function writeMessages(messages: GenerateRequest["messages"], out: string): string {
  if (!Array.isArray(messages)) return write(messages, out);
  out += "[";
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) out += ",";
    const m = messages[i] as unknown as Record<string, unknown> | undefined;
    if (
      typeof m === "object" &&
      m !== null &&
      typeof m.content === "string" &&
      typeof m.role === "string" &&
      typeof m.toJSON !== "function"
    ) {
      const keys = Object.keys(m);
      if (
        keys.length === 2 &&
        ((keys[0] === "role" && keys[1] === "content") || (keys[0] === "content" && keys[1] === "role"))
      ) {
        out = `${out}{"content":${JSON.stringify(m.content)},"role":${JSON.stringify(m.role)}}`;
        continue;
      }
    }
    out = m === undefined || typeof m === "function" || typeof m === "symbol" ? `${out}null` : write(m, out);
  }
  return `${out}]`;
}

function member(out: string, quotedKey: string, value: unknown): string {
  if (value === undefined || typeof value === "function" || typeof value === "symbol") return out;
  return write(value, out.length > 1 ? `${out},${quotedKey}` : out + quotedKey);
}
