// Seed: "Model Quantization and Optimization" — LazyHuggingFaceModel(quantization="int8",
// device_map="auto") is LazyLlamaCppModel over local GGUF files.
import { LazyLlamaCppModel } from "@orchestrator-ts/provider-llama-cpp";

export function quantizedModel(modelDir: string): LazyLlamaCppModel {
  // Initialize model with quantization: the directory's int8 (Q8_0) file is chosen, loaded on first use
  return new LazyLlamaCppModel({
    name: "llama2-7b-quantized",
    modelPath: modelDir,
    quantization: "int8",
    deviceMap: "auto",
  });
}
