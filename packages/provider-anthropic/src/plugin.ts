import { Secret, defineProvider } from "@orchestrator-ts/core";
import { z } from "zod";
import { ANTHROPIC_API_KEY_ENV, AnthropicModel, type AnthropicModelOptions } from "./anthropic-model";
import { loadAnthropicSdk } from "./sdk";

const secret = z.custom<Secret>((v) => Secret.isSecret(v), "expected a string or a Secret");

const configSchema = z
  .object({
    apiKey: z.union([z.string().min(1), secret]).optional(),
    baseURL: z.string().url().optional(),
    // YAML `base_url` camel-cases to `baseUrl`.
    baseUrl: z.string().url().optional(),
    model: z.string().min(1).optional(),
    defaultMaxTokens: z.number().int().positive().optional(),
    maxRetries: z.number().int().nonnegative().optional(),
    timeoutMs: z.number().positive().optional(),
    pricing: z
      .object({ inputPerMTok: z.number().nonnegative(), outputPerMTok: z.number().nonnegative() })
      .strict()
      .optional(),
    // A value may be a secret (`x-api-key: ${KEY}` behind a proxy), kept a Secret up to the SDK.
    headers: z.record(z.string(), z.union([z.string(), secret])).optional(),
    maxEventBytes: z.number().int().positive().optional(),
  })
  .strict()
  .transform(({ baseUrl, baseURL, ...rest }) => ({
    ...rest,
    ...((baseURL ?? baseUrl) !== undefined ? { baseURL: baseURL ?? baseUrl } : {}),
  }));

export type AnthropicProviderConfig = z.output<typeof configSchema>;

/** `provider: anthropic` in a YAML config. */
export const anthropicProvider = defineProvider<AnthropicProviderConfig>({
  name: "anthropic",
  // The SDK, imported when a config that uses this provider is checked: a missing one is reported at start-up.
  loadDependencies: loadAnthropicSdk,
  configSchema,
  secretKeys: ["apiKey"],
  envKeys: [ANTHROPIC_API_KEY_ENV],
  create: ({ name, config, capabilities, capabilitiesDeclared, constraints }) =>
    new AnthropicModel({ name, ...config, ...(capabilitiesDeclared ? { capabilities } : {}), constraints }),
});

export type AnthropicSettings = Omit<AnthropicModelOptions, "name" | "model">;

/** A factory with shared settings: `const anthropic = createAnthropic({ apiKey }); anthropic("claude-3-opus")`. */
export function createAnthropic(
  settings: AnthropicSettings = {},
): (name: string, options?: Partial<AnthropicModelOptions>) => AnthropicModel {
  return (name, options = {}) => new AnthropicModel({ ...settings, ...options, name });
}

/** The default factory: key from `ANTHROPIC_API_KEY`, read at first call. */
export const anthropic = createAnthropic();
