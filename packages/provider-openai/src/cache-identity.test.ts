import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { OpenAIModel } from "./openai-model";

const KEY = "sk-test-identity-0123456789abcdef";

describe("OpenAIModel.cacheIdentity", () => {
  it("tells apart models registered under one name on other API models or servers", () => {
    const ids = [
      new OpenAIModel({ name: "chat", model: "gpt-4o-mini", baseURL: "http://127.0.0.1:8001/v1", apiKey: KEY }),
      new OpenAIModel({ name: "chat", model: "gpt-4o", baseURL: "http://127.0.0.1:8001/v1", apiKey: KEY }),
      new OpenAIModel({ name: "chat", model: "gpt-4o-mini", baseURL: "http://127.0.0.1:8002/v1", apiKey: KEY }),
      new OpenAIModel({
        name: "chat",
        model: "gpt-4o-mini",
        baseURL: "http://127.0.0.1:8001/v1",
        apiKey: KEY,
        defaultHeaders: { "x-route": "b" },
      }),
    ].map((m) => m.cacheIdentity);
    expect(new Set(ids).size).toBe(4);
    // The same deployment is the same identity, whatever key reaches it: processes sharing a Redis share answers.
    const again = new OpenAIModel({
      name: "chat",
      model: "gpt-4o-mini",
      baseURL: "http://127.0.0.1:8001/v1/",
      apiKey: "sk-other-key-abcdefghijklmnop",
    });
    expect(again.cacheIdentity).toBe(ids[0]);
    expect(JSON.parse(ids[0] as string)).toEqual({
      name: "chat",
      provider: "openai",
      model: "gpt-4o-mini",
      baseURL: "http://127.0.0.1:8001/v1",
    });
  });

  it("holds no credential: not the key, nor userinfo or key parameters of the URL, nor auth headers", () => {
    const model = new OpenAIModel({
      name: "azure-chat",
      model: "gpt-4o",
      baseURL:
        "https://proxyuser:proxy-pass-123456@example.openai.azure.com/openai/deployments/prod?api-version=2024-10-21&api-key=azure-secret-987654",
      apiKey: KEY,
      defaultHeaders: { "api-key": "azure-secret-987654", Authorization: `Bearer ${KEY}`, "x-ms-region": "eastus" },
    });
    for (const secret of [KEY, "proxy-pass-123456", "proxyuser", "azure-secret-987654"])
      expect(model.cacheIdentity).not.toContain(secret);
    expect(JSON.parse(model.cacheIdentity)).toEqual({
      name: "azure-chat",
      provider: "openai",
      model: "gpt-4o",
      baseURL: "https://example.openai.azure.com/openai/deployments/prod?api-version=2024-10-21",
      headers: { "x-ms-region": "eastus" },
    });
    expect(inspect(model)).not.toContain("azure-secret");
  });
});
