import { ModelCapabilities, ModelConstraints, isProviderPlugin } from "@orchestrator-ts/core";
import { type HuggingFaceServer, startHuggingFaceServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  provider as namedPlugin,
  HuggingFaceModel,
  createHuggingFace,
  huggingface,
  huggingfaceProvider,
} from "./index";

const TOKEN = "hf_providertest0123456789";
let server: HuggingFaceServer;
beforeAll(async () => {
  server = await startHuggingFaceServer({ apiKey: TOKEN });
});
afterAll(async () => {
  await server.close();
});

describe("huggingfaceProvider (YAML plugin)", () => {
  it("is the package's `provider` export and a provider plugin", () => {
    expect(namedPlugin).toBe(huggingfaceProvider);
    expect(isProviderPlugin(huggingfaceProvider)).toBe(true);
    expect(huggingfaceProvider.envKeys).toContain("HF_TOKEN");
  });

  it("creates a working model from a config block (the seed's model_path and device)", async () => {
    const config = huggingfaceProvider.configSchema.parse({
      accessToken: TOKEN,
      modelPath: "microsoft/DialoGPT-medium",
      device: "cpu",
      endpointUrl: server.endpointUrl,
    });
    const model = await huggingfaceProvider.create({
      name: "dialogpt",
      config,
      capabilities: new ModelCapabilities(),
      constraints: new ModelConstraints({ maxConcurrentRequests: 2 }),
      capabilitiesDeclared: false,
    });
    expect(model).toBeInstanceOf(HuggingFaceModel);
    expect((model as HuggingFaceModel).modelId).toBe("microsoft/DialoGPT-medium");
    expect(model.constraints.maxConcurrentRequests).toBe(2);
    expect(await model.generateResponse("from yaml")).toBe("Echo: from yaml");
    expect(JSON.stringify(config)).not.toContain(TOKEN);
    await model.cleanup();
  });

  it("rejects unknown config keys", () => {
    expect(huggingfaceProvider.configSchema.safeParse({ typo: 1 }).success).toBe(false);
  });
});

describe("createHuggingFace / huggingface", () => {
  it("makes models by Hub id with shared settings", async () => {
    const provider = createHuggingFace({ accessToken: TOKEN, endpointUrl: server.endpointUrl });
    const model = provider("meta-llama/Llama-3.1-8B-Instruct", { name: "llama" });
    expect(model.name).toBe("llama");
    expect(await model.generateResponse("factory")).toBe("Echo: factory");
    await model.cleanup();
  });

  it("the default instance constructs without a token (read at first call)", () => {
    expect(huggingface("meta-llama/Llama-3.3-70B-Instruct")).toBeInstanceOf(HuggingFaceModel);
  });
});
