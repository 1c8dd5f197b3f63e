import { defineProvider } from "@orchestrator-ts/core";
import { z } from "zod";
import { LazyLlamaCppModel, LlamaCppModel } from "./llama-cpp-model";
import { checkNodeLlamaCpp } from "./llama-runtime";

const positiveInt = z.number().int().positive();

const configSchema = z
  .object({
    modelPath: z.string().min(1).optional(),
    // The seed writes `model_path` / `device_map`; the loader camel-cases keys, a hand-built config may not.
    model_path: z.string().min(1).optional(),
    quantization: z.string().min(1).optional(),
    contextSize: positiveInt.optional(),
    threads: positiveInt.optional(),
    gpuLayers: z.union([z.number().int().nonnegative(), z.literal("auto"), z.literal("max")]).optional(),
    deviceMap: z.enum(["auto", "cpu"]).optional(),
    device_map: z.enum(["auto", "cpu"]).optional(),
    lazy: z.boolean().optional(),
    idleUnloadMs: z.number().nonnegative().optional(),
    computeCostPerToken: z
      .union([
        z.number().nonnegative(),
        z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }).strict(),
      ])
      .optional(),
    maxTokens: positiveInt.optional(),
    memoryCheck: z.boolean().optional(),
    timeoutMs: z.number().positive().optional(),
  })
  .strict()
  .transform(({ model_path, modelPath, device_map, deviceMap, ...rest }) => ({
    ...rest,
    modelPath: modelPath ?? model_path ?? "",
    ...((deviceMap ?? device_map) !== undefined ? { deviceMap: deviceMap ?? device_map } : {}),
  }))
  .refine((c) => c.modelPath.length > 0, {
    message: "modelPath is required: a .gguf file or a directory of them",
    path: ["modelPath"],
  });

export type LlamaCppProviderConfig = z.output<typeof configSchema>;

/**
 * `provider: llama-cpp` in a YAML config. `lazy: true` makes a `LazyLlamaCppModel` (loads on first
 * use, unloads after `idle_unload_ms`); otherwise a `LlamaCppModel`.
 */
export const llamaCppProvider = defineProvider<LlamaCppProviderConfig>({
  name: "llama-cpp",
  // Located, not imported (that takes ~0.5 s): a missing node-llama-cpp is reported at start-up.
  loadDependencies: checkNodeLlamaCpp,
  configSchema,
  create: ({ name, config, capabilities, capabilitiesDeclared, constraints }) => {
    const { lazy, idleUnloadMs, ...options } = config;
    const common = {
      name,
      ...options,
      ...(capabilitiesDeclared ? { capabilities } : {}),
      constraints: constraints.toJSON(),
    };
    return lazy
      ? new LazyLlamaCppModel({ ...common, ...(idleUnloadMs !== undefined ? { idleUnloadMs } : {}) })
      : new LlamaCppModel(common);
  },
});
