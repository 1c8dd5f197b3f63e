// Seed: "Model Capabilities and Constraints" — define what your model can do and its limitations.
import { ModelCapabilities, ModelConstraints } from "@orchestrator-ts/core";

export const capabilities = new ModelCapabilities({
  textGeneration: true,
  codeGeneration: true,
  functionCalling: true,
  vision: false,
  audio: false,
  maxTokens: 4096,
  supportsStreaming: true,
  supportsFunctions: true,
  inputCostPerToken: 0.00001,
  outputCostPerToken: 0.00003,
});

export const constraints = new ModelConstraints({
  maxRequestsPerMinute: 100,
  maxConcurrentRequests: 10,
  requiredMemoryGb: 2.0,
  requiredGpuMemoryGb: 4.0,
});
