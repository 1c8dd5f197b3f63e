import { Secret, defineProvider } from "@orchestrator-ts/core";
import { z } from "zod";
import { OllamaModel, type OllamaModelOptions } from "./ollama-model";
import { loadOllamaSdk } from "./sdk";

const configSchema = z
  .object({
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    modelPath: z.string().min(1).optional(),
    // The seed writes `model_path`; the loader camel-cases keys, but a hand-built config may not.
    model_path: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    pull: z.boolean().optional(),
    keepAlive: z.union([z.string(), z.number()]).optional(),
    timeoutMs: z.number().positive().optional(),
    pullTimeoutMs: z.number().positive().optional(),
    pricing: z
      .object({ inputPerMTok: z.number().nonnegative(), outputPerMTok: z.number().nonnegative() })
      .strict()
      .optional(),
    // Every header value arrives as a Secret (`secretKeys` below): they often carry a proxy's credentials.
    headers: z
      .record(
        z.string(),
        z.union([z.string(), z.custom<Secret>((v) => Secret.isSecret(v), "expected a string or a Secret")]),
      )
      .optional(),
    maxEventBytes: z.number().int().positive().optional(),
  })
  .strict()
  .transform(({ model_path, modelPath, ...rest }) => ({
    ...rest,
    ...((modelPath ?? model_path) !== undefined ? { modelPath: modelPath ?? model_path } : {}),
  }));

export type OllamaProviderConfig = z.output<typeof configSchema>;

/** `provider: ollama` in a YAML config. */
export const ollamaProvider = defineProvider<OllamaProviderConfig>({
  name: "ollama",
  // The SDK, imported when a config that uses this provider is checked: a missing one is reported at start-up.
  loadDependencies: loadOllamaSdk,
  configSchema,
  secretKeys: ["headers"],
  envKeys: ["OLLAMA_HOST"],
  create: ({ name, config, capabilities, capabilitiesDeclared, constraints }) =>
    new OllamaModel({ name, ...config, ...(capabilitiesDeclared ? { capabilities } : {}), constraints }),
});

export type OllamaSettings = Omit<OllamaModelOptions, "name" | "modelPath" | "model">;

/** A factory with shared settings: `const ollama = createOllama({ host: "gpu-box" }); ollama("llama2", "llama2:7b")`. */
export function createOllama(
  settings: OllamaSettings = {},
): (name: string, modelPath?: string, options?: Partial<OllamaModelOptions>) => OllamaModel {
  return (name, modelPath, options = {}) =>
    new OllamaModel({ ...settings, ...options, name, ...(modelPath !== undefined ? { modelPath } : {}) });
}

/** The default factory: `OLLAMA_HOST` or 127.0.0.1:11434. */
export const ollama = createOllama();
