import { Secret, defineProvider } from "@orchestrator-ts/core";
import { z } from "zod";
import { OpenAIModel, type OpenAIModelOptions } from "./openai-model";
import { OPENAI_PRESETS, OPENAI_PRESET_NAMES, type OpenAIPresetName } from "./presets";
import { loadOpenAISdk } from "./sdk";

// `${VAR}` of an unset variable expands to "": treat it as not given, so the env fallback applies.
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

const secret = z.custom<Secret>((v) => Secret.isSecret(v), "expected a string or a Secret");

export const openaiConfigSchema = z
  .object({
    apiKey: z.union([z.string(), secret]).optional(),
    organization: optionalText,
    project: optionalText,
    baseURL: optionalText,
    /** `base_url` in YAML arrives as `baseUrl`. */
    baseUrl: optionalText,
    model: optionalText,
    timeoutMs: z.number().positive().optional(),
    maxRetries: z.number().int().nonnegative().optional(),
    // A value may be a secret: `Authorization: ${KEY}` (Azure-style keys), kept a Secret up to the SDK.
    defaultHeaders: z.record(z.string(), z.union([z.string(), secret])).optional(),
    maxEventBytes: z.number().int().positive().optional(),
    /** An OpenAI-compatible service by name (`groq`, `azure`…). */
    preset: z
      .string()
      .refine((v) => (OPENAI_PRESET_NAMES as readonly string[]).includes(v), {
        message: `must be one of ${OPENAI_PRESET_NAMES.join(", ")}`,
      })
      .transform((v) => v as OpenAIPresetName)
      .optional(),
    /** Azure: https://<resource>.openai.azure.com */
    endpoint: optionalText,
    deployment: optionalText,
    apiVersion: optionalText,
  })
  .strict()
  .transform(({ baseUrl, baseURL, apiKey, ...rest }) => ({
    ...rest,
    ...(baseURL || baseUrl ? { baseURL: baseURL ?? baseUrl } : {}),
    ...(apiKey !== undefined && apiKey !== "" ? { apiKey: Secret.from(apiKey) } : {}),
  }));

export type OpenAIProviderConfig = z.output<typeof openaiConfigSchema>;

/** The `provider: openai` plugin for YAML config (also loadable as `@orchestrator-ts/provider-openai`). */
export const openaiProvider = defineProvider<OpenAIProviderConfig>({
  name: "openai",
  // The SDK, imported when a config that uses this provider is checked: a missing one is reported at start-up.
  loadDependencies: loadOpenAISdk,
  configSchema: openaiConfigSchema,
  secretKeys: ["apiKey"],
  // OpenAI's, and each preset's (read only for that preset).
  envKeys: [
    "OPENAI_API_KEY",
    ...new Set(Object.values(OPENAI_PRESETS).flatMap((p) => (p.apiKeyEnv === undefined ? [] : [p.apiKeyEnv]))),
  ],
  create: ({ name, config, capabilities, constraints, capabilitiesDeclared }) =>
    new OpenAIModel({
      name,
      ...stripUndefined(config),
      constraints,
      ...(capabilitiesDeclared ? { capabilities } : {}),
    }),
});

function stripUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

/** Settings shared by every model of a `createOpenAI` provider. */
export type OpenAIProviderSettings = Omit<OpenAIModelOptions, "name" | "model" | "capabilities" | "constraints">;

export interface OpenAIProvider {
  /** A model by API id; `options.name` renames it in the registry. */
  (modelId: string, options?: Partial<OpenAIModelOptions>): OpenAIModel;
  chat(modelId: string, options?: Partial<OpenAIModelOptions>): OpenAIModel;
}

/** A provider in the Vercel AI SDK style: `createOpenAI({ baseURL })("gpt-4o-mini")`. Keys are read at first call. */
export function createOpenAI(settings: OpenAIProviderSettings = {}): OpenAIProvider {
  const make = (modelId: string, options: Partial<OpenAIModelOptions> = {}): OpenAIModel =>
    new OpenAIModel({ ...settings, ...options, name: options.name ?? modelId, model: modelId });
  return Object.assign(make, { chat: make });
}

/** The default provider: `OPENAI_API_KEY` and `OPENAI_BASE_URL`, read when a model is first used. */
export const openai: OpenAIProvider = createOpenAI();
