import { ModelCapabilities, type ModelCapabilitiesInput } from "@orchestrator-ts/core";
import type { ShowResponse } from "ollama";

// What a model is: its tag, the capabilities it starts with, and what /api/show and the caller add.

/** Ollama names without a tag mean `:latest`. */
export function normalizeModelTag(name: string): string {
  const slash = name.lastIndexOf("/");
  return name.slice(slash + 1).includes(":") ? name : `${name}:latest`;
}

export const DEFAULT_CAPABILITIES: ModelCapabilitiesInput = {
  textGeneration: true,
  codeGeneration: true,
  maxTokens: 4096,
  supportsStreaming: true,
  structuredOutput: true,
  tasks: ["chat"],
};
const BASELINE = new ModelCapabilities({});

/** Capability fields the caller set: keys of a plain object, or fields of an instance that differ from the defaults. */
export function declaredFields(given: ModelCapabilities | ModelCapabilitiesInput | undefined): ModelCapabilitiesInput {
  if (!given) return {};
  if (!(given instanceof ModelCapabilities)) return given;
  const out: Record<string, unknown> = {};
  const base = BASELINE.toJSON() as Record<string, unknown>;
  for (const [key, value] of Object.entries(given.toJSON())) {
    if (JSON.stringify(value) !== JSON.stringify(base[key])) out[key] = value;
  }
  return out as ModelCapabilitiesInput;
}

/** What `/api/show` says about a model, as capability fields. */
export function capabilitiesFromShow(show: Pick<ShowResponse, "capabilities" | "model_info">): ModelCapabilitiesInput {
  const out: ModelCapabilitiesInput = {};
  const caps = Array.isArray(show.capabilities) ? show.capabilities : undefined;
  if (caps) {
    out.textGeneration = caps.includes("completion");
    out.functionCalling = caps.includes("tools");
    out.vision = caps.includes("vision");
  }
  // model_info arrives as a plain object although the client types it as a Map.
  const info = show.model_info as unknown;
  const get = (key: string): unknown =>
    info instanceof Map
      ? info.get(key)
      : info && typeof info === "object"
        ? (info as Record<string, unknown>)[key]
        : undefined;
  const arch = get("general.architecture");
  const context = typeof arch === "string" ? get(`${arch}.context_length`) : undefined;
  if (typeof context === "number" && Number.isInteger(context) && context > 0) {
    out.maxTokens = context;
    out.contextWindow = context;
  }
  return out;
}

/** Defaults, then what the server says, then what the caller declared. */
export function mergeDeclared(
  defaults: ModelCapabilitiesInput,
  discovered: ModelCapabilitiesInput,
  declared: ModelCapabilitiesInput,
): ModelCapabilities {
  const merged: ModelCapabilitiesInput = { ...defaults, ...discovered, ...declared };
  // A declared `maxTokens` without a context window means the window (the seed's usage).
  if (declared.maxTokens !== undefined && declared.contextWindow === undefined)
    merged.contextWindow = declared.maxTokens;
  return new ModelCapabilities(merged);
}
