// The world the README blocks run in: loopback servers for every provider's wire protocol, a real
// redis-server, tiny GGUF files, and the environment variables a user would set for the real
// services (OPENAI_API_KEY, OPENAI_BASE_URL…). Nothing reaches the network and no real key is read.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startCustomServer } from "@acme/orchestrator-provider-custom/server";
import {
  type LoopbackServer,
  type RedisServerHandle,
  startAnthropicServer,
  startHuggingFaceServer,
  startOllamaServer,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import { writeTinyGguf } from "@orchestrator-ts/gguf";
import { root } from "../tools/scripts/readme-blocks.mjs";

export const KEYS = {
  openai: "sk-readme-openai-0123456789",
  anthropic: "sk-ant-readme-0123456789",
  acme: "acme-readme-key-0123456789",
  hf: "hf_readme_0123456789",
  azure: "azure-readme-key-0123456789",
  gateway: "gateway-readme-token-0123456789",
  aws: "aws-secret-readme-0123456789",
  google: "google-readme-key-0123456789",
  teamA: "sk-team-a-readme-0123456789",
};

export interface BlockWorld {
  /** Environment of every block: the variables a user sets, pointing at loopback servers. */
  env: Record<string, string>;
  modelDir: string;
  servers: LoopbackServer[];
  redis: RedisServerHandle;
  close(): Promise<void>;
}

export async function startWorld(): Promise<BlockWorld> {
  const home = mkdtempSync(join(tmpdir(), "readme-blocks-"));
  const modelDir = join(home, "models");
  mkdirSync(modelDir);
  const [openai, anthropic, hf, ollama, acme, redis] = await Promise.all([
    // The OpenAI README asks for the weather in Oslo as JSON of a schema: answer in that shape.
    startOpenAIServer({
      apiKey: KEYS.openai,
      reply: (r) => (r.jsonMode ? { text: JSON.stringify({ city: "Oslo", celsius: 4 }) } : {}),
    }),
    // The Anthropic README offers a get_weather tool: call it, as Claude would.
    startAnthropicServer({
      apiKey: KEYS.anthropic,
      reply: (r) => (r.tools.length > 0 ? { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] } : {}),
    }),
    startHuggingFaceServer({ modelId: "tgi" }),
    // No model installed: the Ollama README's initialize() pulls llama2:7b, with progress.
    startOllamaServer({ models: [] }),
    startCustomServer(KEYS.acme),
    startRedisServer(),
    writeTinyGguf(join(modelDir, "tiny-q8_0.gguf"), { quantization: "q8_0", seed: 1 }),
    writeTinyGguf(join(modelDir, "tiny-q4_0.gguf"), { quantization: "q4_0", seed: 2 }),
  ]);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    ORCHESTRATOR_HOME: join(home, "orchestrator"),
    OPENAI_API_KEY: KEYS.openai,
    OPENAI_BASE_URL: `${openai.url}/v1`,
    OPENAI_ORG_ID: "org-readme",
    ANTHROPIC_API_KEY: KEYS.anthropic,
    ANTHROPIC_BASE_URL: anthropic.url,
    HF_TOKEN: KEYS.hf,
    HF_ENDPOINT_URL: hf.endpointUrl,
    OLLAMA_HOST: ollama.url,
    ACME_ENDPOINT: acme.url,
    ACME_API_KEY: KEYS.acme,
    REDIS_URL: redis.url,
    AZURE_OPENAI_API_KEY: KEYS.azure,
    GATEWAY_TOKEN: KEYS.gateway,
    GATEWAY_KEY: KEYS.gateway,
    EXAMPLE_API_KEY: KEYS.openai,
    EXAMPLE_BASE_URL: `${openai.url}/v1`,
    GOOGLE_GENERATIVE_AI_API_KEY: KEYS.google,
    TEAM_A_KEY: KEYS.teamA,
    AWS_ACCESS_KEY_ID: "AKIAREADMEEXAMPLE",
    AWS_SECRET_ACCESS_KEY: KEYS.aws,
    MODEL_DIR: modelDir,
  };
  const servers = [openai, anthropic, hf, ollama, acme];
  return {
    env,
    modelDir,
    servers,
    redis,
    async close() {
      await Promise.all([...servers.map((s) => s.close()), redis.stop()]);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh working directory holding `files` (relative path → content). It lies inside the
 * workspace's node_modules so that packages resolve from it as from a user's project (the config
 * loader resolves provider packages from the config file's folder); remove it when done.
 */
export function workdir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(root, "node_modules/.readme-cwd-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}
