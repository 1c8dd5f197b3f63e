import { ConfigError, type ModelCapabilitiesInput, closestNames } from "@orchestrator-ts/core";

/** What a service documents about one of its models (no prices: they change, declare yours). */
export interface PresetModelInfo {
  contextWindow: number;
  maxOutputTokens?: number;
}

/**
 * A service that speaks OpenAI's chat-completions API: where it is, which variable holds its key
 * and what it documents. No prices: services change them often and bill by contract, so a preset
 * model costs what you declare (`input_cost_per_token`…); until then a paid service's model is
 * priced conservatively (`CONSERVATIVE_PRICE`) so that cost filters never take it for free.
 */
export interface OpenAIPreset {
  readonly name: string;
  /** The service's OpenAI-compatible base URL (for local servers, their default address). */
  readonly baseURL: string;
  /** The environment variable the key is read from (never `OPENAI_API_KEY`: that key is OpenAI's). */
  readonly apiKeyEnv: string | undefined;
  /** A server you run: no key needed, free, `isLocal`. */
  readonly local: boolean;
  /** What holds for every model of the service, as documented. */
  readonly capabilities: ModelCapabilitiesInput;
  /** Documented limits of some of its models, by API model id. */
  readonly models: Readonly<Record<string, PresetModelInfo>>;
  /** Request fields the service names differently (`seed` → Mistral's `random_seed`). */
  readonly renameFields?: Readonly<Record<string, string>>;
  /** False for services that do not document `stream_options` (they report usage in the last chunk by themselves, or not at all). */
  readonly streamOptions: boolean;
  /** Where the service documents its OpenAI compatibility. */
  readonly docs: string;
}

const preset = (
  p: Omit<OpenAIPreset, "models" | "capabilities" | "streamOptions" | "local"> &
    Partial<Pick<OpenAIPreset, "models" | "capabilities" | "streamOptions" | "local">>,
): OpenAIPreset => Object.freeze({ models: {}, capabilities: {}, streamOptions: true, local: false, ...p });

/** The named presets of `preset:` (`new OpenAIModel({ preset: "groq" })`, YAML `config: { preset: groq }`). */
export const OPENAI_PRESETS = Object.freeze({
  groq: preset({
    name: "groq",
    baseURL: "https://api.groq.com/openai/v1",
    apiKeyEnv: "GROQ_API_KEY",
    capabilities: { functionCalling: true },
    models: {
      "llama-3.3-70b-versatile": { contextWindow: 131_072, maxOutputTokens: 32_768 },
      "llama-3.1-8b-instant": { contextWindow: 131_072, maxOutputTokens: 131_072 },
    },
    docs: "https://console.groq.com/docs/openai",
  }),
  together: preset({
    name: "together",
    baseURL: "https://api.together.xyz/v1",
    apiKeyEnv: "TOGETHER_API_KEY",
    docs: "https://docs.together.ai/docs/openai-api-compatibility",
  }),
  deepseek: preset({
    name: "deepseek",
    baseURL: "https://api.deepseek.com",
    apiKeyEnv: "DEEPSEEK_API_KEY",
    docs: "https://api-docs.deepseek.com/",
  }),
  fireworks: preset({
    name: "fireworks",
    baseURL: "https://api.fireworks.ai/inference/v1",
    apiKeyEnv: "FIREWORKS_API_KEY",
    docs: "https://docs.fireworks.ai/tools-sdks/openai-compatibility",
  }),
  openrouter: preset({
    name: "openrouter",
    baseURL: "https://openrouter.ai/api/v1",
    apiKeyEnv: "OPENROUTER_API_KEY",
    docs: "https://openrouter.ai/docs/quickstart",
  }),
  mistral: preset({
    name: "mistral",
    baseURL: "https://api.mistral.ai/v1",
    apiKeyEnv: "MISTRAL_API_KEY",
    capabilities: { functionCalling: true },
    // Mistral's chat API names the seed `random_seed`; `stream_options` is not in its documented API (fields it does not know have been refused with 422).
    renameFields: { seed: "random_seed" },
    streamOptions: false,
    docs: "https://docs.mistral.ai/api/",
  }),
  vllm: preset({
    name: "vllm",
    baseURL: "http://localhost:8000/v1",
    apiKeyEnv: "VLLM_API_KEY",
    local: true,
    docs: "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
  }),
  "lm-studio": preset({
    name: "lm-studio",
    baseURL: "http://localhost:1234/v1",
    apiKeyEnv: undefined,
    local: true,
    docs: "https://lmstudio.ai/docs/app/api/endpoints/openai",
  }),
  azure: preset({
    name: "azure",
    // Built from `endpoint` (AZURE_OPENAI_ENDPOINT): https://<resource>.openai.azure.com/openai/deployments/<deployment>.
    baseURL: "",
    apiKeyEnv: "AZURE_OPENAI_API_KEY",
    docs: "https://learn.microsoft.com/azure/ai-services/openai/reference",
  }),
} satisfies Record<string, OpenAIPreset>);

export type OpenAIPresetName = keyof typeof OPENAI_PRESETS;

export const OPENAI_PRESET_NAMES = Object.freeze(Object.keys(OPENAI_PRESETS)) as readonly OpenAIPresetName[];

/** Azure's data-plane API version used when neither `apiVersion` nor OPENAI_API_VERSION is set (the latest GA one). */
export const AZURE_DEFAULT_API_VERSION = "2024-10-21";

/** The preset of a name; a `ConfigError` naming the presets (and the closest) for any other. */
export function lookupPreset(name: string): OpenAIPreset {
  if (Object.hasOwn(OPENAI_PRESETS, name)) return OPENAI_PRESETS[name as OpenAIPresetName];
  const close = closestNames(name, OPENAI_PRESET_NAMES);
  throw new ConfigError(
    [
      {
        path: "preset",
        message: `unknown preset "${name}"${close.length > 0 ? ` (did you mean "${close[0]}"?)` : ""}; presets: ${OPENAI_PRESET_NAMES.join(", ")}`,
      },
    ],
    {
      title: "Invalid OpenAI model options",
    },
  );
}
