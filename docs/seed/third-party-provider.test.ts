// A third-party model package named in YAML by its package name, loaded by dynamic import.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCustomServer } from "@acme/orchestrator-provider-custom/server";
import { loadModelConfig } from "@orchestrator-ts/config";
import { registryFromConfig } from "@orchestrator-ts/registry";
import { createOrchestrator } from "orchestrator-ts";
import { afterAll, beforeAll, expect, it } from "vitest";

let server: Awaited<ReturnType<typeof startCustomServer>>;
beforeAll(async () => {
  server = await startCustomServer("sk-third-party-000000000000");
});
afterAll(() => server.close());

function writeConfig(): string {
  // Packages resolve from the config file's folder, then from the working directory (the workspace here).
  const dir = mkdtempSync(join(tmpdir(), "third-party-"));
  const path = join(dir, "models.yaml");
  writeFileSync(
    path,
    `models:
  - name: acme-model
    provider: "@acme/orchestrator-provider-custom"
    config:
      api_key: "\${ACME_API_KEY}"
      endpoint: "${server.url}"
    capabilities:
      text_generation: true
      supports_streaming: true
`,
  );
  return path;
}

it("registryFromConfig loads the @acme package by name and calls its model", async () => {
  const config = await loadModelConfig(writeConfig(), { env: { ACME_API_KEY: "sk-third-party-000000000000" } });
  const registry = await registryFromConfig(config);
  const model = registry.getModel("acme-model");
  expect(model.provider).toBe("custom");
  expect(await model.generateResponse("Hello")).toBe("Echo: Hello");
  expect(JSON.stringify(config)).not.toContain("sk-third-party");
  await registry.cleanup();
});

it("createOrchestrator does the same, next to the built-in providers", async () => {
  const saved = process.env.ACME_API_KEY;
  process.env.ACME_API_KEY = "sk-third-party-000000000000";
  try {
    const orchestrator = await createOrchestrator({ config: writeConfig(), startHealthMonitor: false });
    const result = await orchestrator.generate({ messages: [{ role: "user", content: "Hi there" }] });
    expect(result).toMatchObject({ model: "acme-model", text: "Echo: Hi there", cached: false });
    await orchestrator.close();
  } finally {
    if (saved === undefined) delete process.env.ACME_API_KEY;
    else process.env.ACME_API_KEY = saved;
  }
});
