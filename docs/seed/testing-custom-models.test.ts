// Seed: "Testing Custom Models" — the seed's pytest test, as a vitest test.
import { startCustomServer } from "@acme/orchestrator-provider-custom/server";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CustomModel } from "./custom-model";

let server: Awaited<ReturnType<typeof startCustomServer>>;
beforeAll(async () => {
  server = await startCustomServer("test-key");
});
afterAll(() => server.close());

it("test custom model integration", async () => {
  const registry = new ModelRegistry();

  // Initialize custom model
  const customModel = new CustomModel("test-model", "test-key", server.url);

  // Register model
  registry.registerModel(customModel);

  // Test model selection
  const selected = registry.selectModel({ capabilities: ["text_generation"] });
  expect(selected.name).toBe("test-model");

  // Test model generation
  const response = await customModel.generateResponse("Hello, world!");
  expect(response).not.toBeNull();
  expect(response.length).toBeGreaterThan(0);

  // Test health check
  const isHealthy = await customModel.healthCheck();
  expect(isHealthy).toBe(true);

  // Cleanup
  await customModel.cleanup();
});
