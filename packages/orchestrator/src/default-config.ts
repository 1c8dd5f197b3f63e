import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type TinyGgufOptions, writeTinyGguf } from "@orchestrator-ts/gguf";

/** Where the demo keeps its generated model files: `$ORCHESTRATOR_HOME/models`, else `~/.cache/orchestrator/models`. */
export function defaultModelDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.ORCHESTRATOR_HOME ?? join(homedir(), ".cache", "orchestrator"), "models");
}

/**
 * The three local models of the embedded default: tiny llama-architecture files with random
 * weights, of different quantization and size, so that they differ in speed and the bandit has
 * something to learn. Written once by `prepareLocalModels`; no download, no key.
 */
export const LOCAL_MODELS: readonly { name: string; file: string; options: TinyGgufOptions; quantization: string }[] = [
  {
    name: "tiny-q4",
    file: "tiny-q4_0.gguf",
    quantization: "int4",
    options: { quantization: "q4_0", seed: 11, layers: 2, embeddingLength: 64, name: "tiny-q4" },
  },
  {
    name: "tiny-q8",
    file: "tiny-q8_0.gguf",
    quantization: "int8",
    options: { quantization: "q8_0", seed: 12, layers: 2, embeddingLength: 96, name: "tiny-q8" },
  },
  {
    name: "tiny-f16",
    file: "tiny-f16.gguf",
    quantization: "f16",
    options: { quantization: "f16", seed: 13, layers: 4, embeddingLength: 128, name: "tiny-f16" },
  },
];

/** Write the local model files that are missing; `onProgress(done, total, name)` after each. */
export async function prepareLocalModels(
  dir: string,
  onProgress?: (done: number, total: number, name: string) => void,
): Promise<string[]> {
  const written: string[] = [];
  let done = 0;
  for (const m of LOCAL_MODELS) {
    const path = join(dir, m.file);
    if (!existsSync(path)) {
      await writeTinyGguf(path, m.options);
      written.push(path);
    }
    onProgress?.(++done, LOCAL_MODELS.length, m.file);
  }
  return written;
}

/**
 * The embedded default configuration: the local models above, plus cloud models that become
 * available when their key variable is set (`createOrchestrator` loads it leniently).
 */
export const EMBEDDED_CONFIG = `# Orchestrator's embedded default: local llama.cpp models, memory cache, health monitor, UCB.
models:
${LOCAL_MODELS.map(
  (m) => `  - name: ${m.name}
    provider: llama-cpp
    config:
      model_path: \${ORCHESTRATOR_MODEL_DIR}/${m.file}
      quantization: ${m.quantization}
      context_size: 512
    capabilities:
      text_generation: true
      supports_streaming: true
      max_tokens: 512
      tasks: [chat, summarise, creative]`,
).join("\n")}
  - name: gpt-4o-mini
    provider: openai
    config:
      api_key: \${OPENAI_API_KEY}
  - name: claude-haiku-4-5
    provider: anthropic
    config:
      api_key: \${ANTHROPIC_API_KEY}
  - name: ollama-llama3
    provider: ollama
    config:
      host: \${OLLAMA_HOST}
      model_path: llama3.2:1b
      pull: false
selector:
  type: ucb
cache:
  backend: memory
  ttl: 3600
  max_size: 1000
health:
  check_interval: 300
  failure_threshold: 3
  recovery_threshold: 2
`;
