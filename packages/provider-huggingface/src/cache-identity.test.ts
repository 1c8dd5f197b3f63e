import { describe, expect, it } from "vitest";
import { HuggingFaceModel } from "./huggingface-model";

const TOKEN = "hf_identitytoken0123456789abcdef";

describe("HuggingFaceModel.cacheIdentity", () => {
  it("tells apart models registered under one name on other Hub models, endpoints or Inference Providers", () => {
    const ids = [
      new HuggingFaceModel({ name: "hf", model: "meta-llama/Llama-3.1-8B-Instruct", accessToken: TOKEN }),
      new HuggingFaceModel({ name: "hf", model: "Qwen/Qwen2.5-7B-Instruct", accessToken: TOKEN }),
      new HuggingFaceModel({
        name: "hf",
        model: "meta-llama/Llama-3.1-8B-Instruct",
        provider: "together",
        accessToken: TOKEN,
      }),
      new HuggingFaceModel({ name: "hf", endpointUrl: "http://127.0.0.1:7001", accessToken: TOKEN }),
      new HuggingFaceModel({ name: "hf", endpointUrl: "http://127.0.0.1:7002", accessToken: TOKEN }),
    ].map((m) => m.cacheIdentity);
    expect(new Set(ids).size).toBe(5);
  });

  it("holds no credential from the token or the endpoint URL", () => {
    const model = new HuggingFaceModel({
      name: "tgi",
      endpointUrl: `https://user:${TOKEN}@tgi.example.com/v1?token=${TOKEN}`,
      accessToken: TOKEN,
    });
    expect(model.cacheIdentity).not.toContain(TOKEN);
    expect(JSON.parse(model.cacheIdentity)).toEqual({
      name: "tgi",
      provider: "huggingface",
      endpoint: "https://tgi.example.com/v1",
    });
  });
});
