import { Secret, defineProvider } from "@orchestrator-ts/core";
import { z } from "zod";
import { HuggingFaceModel, type HuggingFaceModelOptions } from "./huggingface-model";
import { loadHuggingFaceSdk } from "./sdk";

// `${VAR}` of an unset variable expands to "": treat it as not given, so the env fallback applies.
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

export const huggingfaceConfigSchema = z
  .object({
    accessToken: z
      .union([z.string(), z.custom<Secret>((v) => Secret.isSecret(v), "expected a string or a Secret")])
      .optional(),
    /** The seed's YAML may call it `api_key`. */
    apiKey: z
      .union([z.string(), z.custom<Secret>((v) => Secret.isSecret(v), "expected a string or a Secret")])
      .optional(),
    model: optionalText,
    modelPath: optionalText,
    endpointUrl: optionalText,
    provider: optionalText,
    device: optionalText,
    billTo: optionalText,
    timeoutMs: z.number().positive().optional(),
    maxEventBytes: z.number().int().positive().optional(),
  })
  .strict()
  .transform(({ accessToken, apiKey, provider, ...rest }) => {
    const token = accessToken || apiKey;
    return {
      ...rest,
      ...(provider !== undefined ? { provider: provider as HuggingFaceModelOptions["provider"] } : {}),
      ...(token ? { accessToken: Secret.from(token) } : {}),
    };
  });

export type HuggingFaceProviderConfig = z.output<typeof huggingfaceConfigSchema>;

/** The `provider: huggingface` plugin for YAML config (also loadable as `@orchestrator-ts/provider-huggingface`). */
export const huggingfaceProvider = defineProvider<HuggingFaceProviderConfig>({
  name: "huggingface",
  // The SDK, imported when a config that uses this provider is checked: a missing one is reported at start-up.
  loadDependencies: loadHuggingFaceSdk,
  configSchema: huggingfaceConfigSchema,
  secretKeys: ["accessToken", "apiKey"],
  envKeys: ["HF_TOKEN", "HUGGINGFACE_API_KEY"],
  create: ({ name, config, capabilities, constraints, capabilitiesDeclared }) => {
    const options: HuggingFaceModelOptions = { name, constraints, ...(capabilitiesDeclared ? { capabilities } : {}) };
    for (const [key, value] of Object.entries(config))
      if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
    return new HuggingFaceModel(options);
  },
});

export type HuggingFaceProviderSettings = Omit<
  HuggingFaceModelOptions,
  "name" | "model" | "modelPath" | "capabilities" | "constraints"
>;

/** A model by Hub id; `options.name` renames it in the registry. */
export type HuggingFaceProvider = (modelId: string, options?: Partial<HuggingFaceModelOptions>) => HuggingFaceModel;

/** A provider in the Vercel AI SDK style: `createHuggingFace({ provider: "together" })("meta-llama/…")`. */
export function createHuggingFace(settings: HuggingFaceProviderSettings = {}): HuggingFaceProvider {
  return (modelId, options = {}) =>
    new HuggingFaceModel({ ...settings, ...options, name: options.name ?? modelId, model: modelId });
}

/** The default provider: `HF_TOKEN`, read when a model is first used. */
export const huggingface: HuggingFaceProvider = createHuggingFace();
