import { describe, expect, it } from "vitest";
import { AnthropicModel } from "./index";

const KEY = "sk-ant-identity-secret-0123456789";

describe("AnthropicModel.cacheIdentity", () => {
  it("tells apart models registered under one name on other API models, servers, default max_tokens or beta headers", () => {
    const ids = [
      new AnthropicModel({
        name: "claude",
        model: "claude-3-5-haiku-20241022",
        baseURL: "http://127.0.0.1:9001",
        apiKey: KEY,
      }),
      new AnthropicModel({
        name: "claude",
        model: "claude-3-opus-20240229",
        baseURL: "http://127.0.0.1:9001",
        apiKey: KEY,
      }),
      new AnthropicModel({
        name: "claude",
        model: "claude-3-5-haiku-20241022",
        baseURL: "http://127.0.0.1:9002",
        apiKey: KEY,
      }),
      new AnthropicModel({
        name: "claude",
        model: "claude-3-5-haiku-20241022",
        baseURL: "http://127.0.0.1:9001",
        apiKey: KEY,
        defaultMaxTokens: 64,
      }),
      new AnthropicModel({
        name: "claude",
        model: "claude-3-5-haiku-20241022",
        baseURL: "http://127.0.0.1:9001",
        apiKey: KEY,
        headers: { "anthropic-beta": "x" },
      }),
    ].map((m) => m.cacheIdentity);
    expect(new Set(ids).size).toBe(5);
    expect(
      new AnthropicModel({
        name: "claude",
        model: "claude-3-5-haiku-20241022",
        baseURL: "http://127.0.0.1:9001",
        apiKey: "sk-ant-another-key-987654321",
      }).cacheIdentity,
    ).toBe(ids[0]);
  });

  it("names the public API when no baseURL is given, and holds no credential", () => {
    const model = new AnthropicModel({
      name: "claude-3-opus",
      apiKey: KEY,
      headers: { "x-api-key": KEY, "anthropic-beta": "tools" },
    });
    expect(model.cacheIdentity).not.toContain(KEY);
    expect(JSON.parse(model.cacheIdentity)).toEqual({
      name: "claude-3-opus",
      provider: "anthropic",
      model: model.modelId,
      baseURL: "https://api.anthropic.com",
      defaultMaxTokens: model.defaultMaxTokens,
      headers: { "anthropic-beta": "tools" },
    });
  });
});
