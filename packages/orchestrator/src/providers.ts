import type { ProviderPlugin } from "@orchestrator/core";
import { anthropicProvider } from "@orchestrator/provider-anthropic";
import { huggingfaceProvider } from "@orchestrator/provider-huggingface";
import { llamaCppProvider } from "@orchestrator/provider-llama-cpp";
import { ollamaProvider } from "@orchestrator/provider-ollama";
import { openaiProvider } from "@orchestrator/provider-openai";

/** The providers a YAML `provider:` can name without installing anything else. */
export const builtinProviders: Readonly<Record<string, ProviderPlugin<unknown>>> = Object.freeze({
  openai: openaiProvider as ProviderPlugin<unknown>,
  anthropic: anthropicProvider as ProviderPlugin<unknown>,
  huggingface: huggingfaceProvider as ProviderPlugin<unknown>,
  hf: huggingfaceProvider as ProviderPlugin<unknown>,
  ollama: ollamaProvider as ProviderPlugin<unknown>,
  "llama-cpp": llamaCppProvider as ProviderPlugin<unknown>,
  "llama.cpp": llamaCppProvider as ProviderPlugin<unknown>,
});
