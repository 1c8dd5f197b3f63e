// The seed's "Model Configuration Management" section, in TypeScript. `registryFromConfig`
// (in @orchestrator-ts/registry) is built on `buildModels`; the registry half runs at integration.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { providers } from "../test/plugins";
import { buildModels, loadModelConfig } from "./index";

let project: string;
beforeAll(() => {
  // config/models.yaml, exactly as the seed shows it.
  project = mkdtempSync(join(tmpdir(), "orchestrator-seed-"));
  mkdirSync(join(project, "config"));
  copyFileSync(
    fileURLToPath(new URL("../test/fixtures/seed-models.yaml", import.meta.url)),
    join(project, "config/models.yaml"),
  );
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

it("load_model_config → loadModelConfig, then the models behind registryFromConfig", async () => {
  const env = {
    OPENAI_API_KEY: "sk-example-0123456789",
    OPENAI_ORG_ID: "org-example",
    ANTHROPIC_API_KEY: "sk-ant-example-0123456789",
  };

  // config = load_model_config("config/models.yaml")
  const config = await loadModelConfig(join(project, "config/models.yaml"), { env, providers });

  // registry = ModelRegistry.from_config(config)
  const { models } = await buildModels(config, { providers });

  expect(models.map((m) => m.name)).toEqual(["gpt-4", "claude-3-opus", "local-llama"]);
  expect(models[0]?.capabilities.has("codeGeneration")).toBe(true);
  expect(models[1]?.capabilities.maxTokens).toBe(200000);
  expect(await models[2]?.generateResponse("hello")).toBe("localhost:11434/llama2:7b");
});
