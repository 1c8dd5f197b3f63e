import { aiSdkProvider } from "@orchestrator-ts/ai-sdk";
import { type ProviderPlugin, defineProvider } from "@orchestrator-ts/core";
import { anthropicProvider } from "@orchestrator-ts/provider-anthropic";
import { huggingfaceProvider } from "@orchestrator-ts/provider-huggingface";
import { llamaCppProvider } from "@orchestrator-ts/provider-llama-cpp";
import { type OllamaPullProgress, ollamaProvider } from "@orchestrator-ts/provider-ollama";
import { openaiProvider } from "@orchestrator-ts/provider-openai";

/** The providers a YAML `provider:` can name without installing anything else. */
export const builtinProviders: Readonly<Record<string, ProviderPlugin<unknown>>> = Object.freeze({
  openai: openaiProvider as ProviderPlugin<unknown>,
  anthropic: anthropicProvider as ProviderPlugin<unknown>,
  huggingface: huggingfaceProvider as ProviderPlugin<unknown>,
  hf: huggingfaceProvider as ProviderPlugin<unknown>,
  ollama: ollamaProvider as ProviderPlugin<unknown>,
  "llama-cpp": llamaCppProvider as ProviderPlugin<unknown>,
  "llama.cpp": llamaCppProvider as ProviderPlugin<unknown>,
  // Any AI SDK provider package (Gemini, Mistral, Bedrock…), named in the entry's config.
  "ai-sdk": aiSdkProvider as ProviderPlugin<unknown>,
});

/**
 * The built-in providers, with Ollama models reporting their pulls (a missing model is
 * downloaded on first use) to `onPullProgress`: how the CLI draws its progress bar.
 */
export function builtinProvidersWith(options: {
  onPullProgress?: (model: string, progress: OllamaPullProgress) => void;
}): Record<string, ProviderPlugin<unknown>> {
  const report = options.onPullProgress;
  if (!report) return { ...builtinProviders };
  const ollama = defineProvider({
    ...ollamaProvider,
    // OllamaModel takes onPullProgress as an option; the YAML schema has no place for a function.
    create: (spec) =>
      ollamaProvider.create({
        ...spec,
        config: {
          ...spec.config,
          onPullProgress: (p: OllamaPullProgress) => report(spec.name, p),
        } as typeof spec.config,
      }),
  }) as ProviderPlugin<unknown>;
  return { ...builtinProviders, ollama };
}
