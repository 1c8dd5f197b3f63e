import * as crypto from "node:crypto";
import { createHash } from "node:crypto";
import { type GenerateRequest, type ModelIdentity, type ResponseFormat, type ToolDefinition, toJsonSchema } from "@orchestrator/core";

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
          out = item === undefined || typeof item === "function" || typeof item === "symbol" ? `${out}null` : write(item, out);
        }
        return `${out}]`;
      }
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === "function") return write(toJSON.call(value), out);
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      out += "{";
      let first = true;
      for (const key of keys) {
        const member = record[key];
        if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
        if (!first) out += ",";
        first = false;
        out = write(member, `${out}${JSON.stringify(key)}:`);
      }
      return `${out}}`;
    }
    default:
      return `${out}null`;
  }
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

function normaliseTools(tools: ToolDefinition[]): unknown[] {
  return tools.map((t) => ({ name: t.name, description: t.description, parameters: jsonSchemaOf(t.parameters) }));
}

function normaliseFormat(format: ResponseFormat): unknown {
  if (format.type !== "json" || format.schema === undefined) return format;
  return { ...format, schema: jsonSchemaOf(format.schema) };
}

/**
 * What makes two requests "the same" for a cache: who answers (provider, model) and everything
 * the model sees. Transport concerns (`signal`, `timeoutMs`, the `cache` flag) and the `task`
 * tag (it steers selection and statistics, not the answer) are left out.
 */
export function normaliseRequest(model: ModelIdentity, request: GenerateRequest): Record<string, unknown> {
  return {
    provider: model.provider,
    model: model.name,
    messages: request.messages,
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    topP: request.topP,
    stop: request.stop,
    seed: request.seed,
    tools: request.tools && request.tools.length > 0 ? normaliseTools(request.tools) : undefined,
    toolChoice: request.toolChoice,
    responseFormat: request.responseFormat ? normaliseFormat(request.responseFormat) : undefined,
    providerOptions: request.providerOptions,
  };
}

/** The cache key of a request: `<namespace>:<sha256 of the canonical normalised request, base64url>`. */
// One-shot hashing (Node ≥ 20.12) skips the Hash object: ~0.4 µs less per lookup than createHash.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "base64url") => string }).hash;
const sha256 = oneShot ? (text: string) => oneShot("sha256", text, "base64url") : (text: string) => createHash("sha256").update(text).digest("base64url");

export function cacheKey(model: ModelIdentity, request: GenerateRequest, namespace = "orc"): string {
  return `${namespace}:${sha256(canonicalJson(normaliseRequest(model, request)))}`;
}
