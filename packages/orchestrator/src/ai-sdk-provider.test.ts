import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { generateText, streamText } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrchestratorProvider } from "./index";

const KEY = "sk-ai-sdk-config-test-0123456789";
let server: OpenAIServer;
let dir: string;
beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
  dir = mkdtempSync(join(tmpdir(), "orc-ai-sdk-"));
});
afterAll(async () => {
  await server.close();
});

function configFile(body: string): string {
  const path = join(dir, `models-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, body);
  return path;
}

describe("createOrchestratorProvider({ config }) from orchestrator-ts", () => {
  it("builds the orchestrator from a YAML file once, and generateText/streamText go through it", async () => {
    const path = configFile(`models:
  - name: mini
    provider: openai
    config: { api_key: ${KEY}, base_url: "${server.baseURL}", model: gpt-4o-mini }
    capabilities: { max_tokens: 4096 }
routes:
  - name: cheap
    type: selector
    selector: { type: cost }
health: { enabled: false }
`);
    server.setReply(() => ({ text: "from the config file", usage: { inputTokens: 4, outputTokens: 4 } }));
    const orchestrator = createOrchestratorProvider({ config: path, startHealthMonitor: false });
    try {
      const result = await generateText({ model: orchestrator("auto"), prompt: "hello" });
      expect(result.text).toBe("from the config file");
      expect(result.providerMetadata?.orchestrator).toMatchObject({ model: "mini" });
      const streamed = streamText({ model: orchestrator("cheap"), prompt: "again" });
      expect(await streamed.text).toBe("from the config file");
      // One orchestrator: the registry a second call sees is the first call's.
      expect(await orchestrator.registry()).toBe(await orchestrator.registry());
      expect((await orchestrator.registry()).listModels().map((m) => m.name)).toEqual(["mini"]);
    } finally {
      await orchestrator.close();
      server.setReply(undefined);
    }
  });

  it("a config that cannot be loaded fails the call that needs it, with the file's error", async () => {
    const path = configFile("models:\n  - name: broken\n    provider: nonesuch\n");
    const orchestrator = createOrchestratorProvider({ config: path });
    await expect(generateText({ model: orchestrator("auto"), prompt: "hello" })).rejects.toThrow(/nonesuch/);
    await orchestrator.close();
  });
});
