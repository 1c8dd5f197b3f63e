import { defineProvider, Secret } from "@orchestrator-ts/core";
import { z } from "zod";
import { MyCustomModel } from "./my-custom-model";

/**
 * The provider plugin a YAML config names by package: `provider: "@acme/orchestrator-provider-custom"`.
 */
export const customProvider = defineProvider({
  name: "@acme/orchestrator-provider-custom",
  configSchema: z
    .object({
      // Both default to ACME_API_KEY / ACME_ENDPOINT at the first call, as in code.
      apiKey: z
        .union([z.string().min(1), z.custom<Secret>((v) => Secret.isSecret(v), "expected a string or a Secret")])
        .optional(),
      endpoint: z.string().url().optional(),
    })
    .strict(),
  secretKeys: ["apiKey"],
  create: ({ name, config, capabilities }) => new MyCustomModel({ name, config, capabilities }),
});
