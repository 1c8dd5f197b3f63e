import { Secret, defineProvider } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { z } from "zod";

/** A secret as plugins receive it from a config file. */
const secret = z.custom<Secret>((value) => value instanceof Secret, "expected a secret (a Secret instance)");

/** Stand-ins for the built-in providers, shaped like them, built on FakeModel. */
export const openai = defineProvider({
  name: "openai",
  configSchema: z
    .object({ apiKey: secret, organization: z.string().optional(), baseURL: z.string().optional() })
    .strict(),
  secretKeys: ["apiKey"],
  envKeys: ["OPENAI_API_KEY"],
  create: (spec) =>
    new FakeModel({
      name: spec.name,
      provider: "openai",
      capabilities: spec.capabilities,
      constraints: spec.constraints,
    }),
});

export const anthropic = defineProvider({
  name: "anthropic",
  configSchema: z.object({ apiKey: secret }).strict(),
  create: (spec) =>
    new FakeModel({
      name: spec.name,
      provider: "anthropic",
      capabilities: spec.capabilities,
      constraints: spec.constraints,
    }),
});

export const ollama = defineProvider({
  name: "ollama",
  configSchema: z
    .object({
      host: z.string().default("localhost"),
      port: z.number().int().positive().default(11434),
      modelPath: z.string(),
    })
    .strict(),
  create: (spec) =>
    new FakeModel({
      name: spec.name,
      provider: "ollama",
      isLocal: true,
      // A provider that knows its model better than an undeclared config keeps its own numbers.
      capabilities: spec.capabilitiesDeclared ? spec.capabilities : { maxTokens: 2048 },
      response: `${spec.config.host}:${spec.config.port}/${spec.config.modelPath}`,
    }),
});

export const fake = defineProvider({
  name: "fake",
  configSchema: z.object({ response: z.string().optional() }).strict(),
  create: (spec) =>
    new FakeModel({
      name: spec.name,
      capabilities: spec.capabilities,
      ...(spec.config.response ? { response: spec.config.response } : {}),
    }),
});

export const providers = { openai, anthropic, ollama, fake };
