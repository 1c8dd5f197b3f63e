// Seed: "Built-in Model Integrations" — OpenAI, Anthropic, Hugging Face, Ollama. The seed passes
// keys and hosts literally; the tests point the same calls at loopback servers (`baseURL`,
// `endpointUrl`, host/port) because no test may reach a real provider.
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { HuggingFaceModel } from "@orchestrator-ts/provider-huggingface";
import { OllamaModel } from "@orchestrator-ts/provider-ollama";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import type { ModelRegistry } from "@orchestrator-ts/registry";

export interface Endpoints {
  openaiBaseURL?: string;
  anthropicBaseURL?: string;
  huggingfaceEndpointUrl?: string;
  ollamaHost?: string;
  ollamaPort?: number;
}

export function registerBuiltIns(registry: ModelRegistry, endpoints: Endpoints = {}) {
  // Initialize OpenAI model
  const openaiModel = new OpenAIModel({
    name: "gpt-4",
    apiKey: "your-api-key",
    organization: "your-org-id",
    ...(endpoints.openaiBaseURL ? { baseURL: endpoints.openaiBaseURL } : {}),
  });
  // Register with model registry
  registry.registerModel(openaiModel);

  // Initialize Anthropic model
  const anthropicModel = new AnthropicModel({
    name: "claude-3-opus",
    apiKey: "your-api-key",
    ...(endpoints.anthropicBaseURL ? { baseURL: endpoints.anthropicBaseURL } : {}),
  });
  registry.registerModel(anthropicModel);

  // Initialize Hugging Face model (`device` has no meaning for a remote endpoint: accepted, and reported as a warning)
  const hfModel = new HuggingFaceModel({
    name: "microsoft/DialoGPT-medium",
    modelPath: "microsoft/DialoGPT-medium",
    device: "cpu",
    accessToken: "hf_your_token",
    ...(endpoints.huggingfaceEndpointUrl ? { endpointUrl: endpoints.huggingfaceEndpointUrl } : {}),
  });
  registry.registerModel(hfModel);

  // Initialize local Ollama model
  const ollamaModel = new OllamaModel({
    name: "llama2",
    modelPath: "llama2:7b",
    host: endpoints.ollamaHost ?? "localhost",
    port: endpoints.ollamaPort ?? 11434,
  });
  registry.registerModel(ollamaModel);

  return { openaiModel, anthropicModel, hfModel, ollamaModel };
}
