import { describe, expect, it } from "vitest";
import { OllamaModel } from "./index";

describe("OllamaModel.cacheIdentity", () => {
  it("tells apart models registered under one name on other tags or servers; `llama2` and `llama2:latest` are one model", () => {
    const ids = [
      new OllamaModel({ name: "local", modelPath: "llama2:7b", host: "127.0.0.1", port: 11434 }),
      new OllamaModel({ name: "local", modelPath: "llama2:13b", host: "127.0.0.1", port: 11434 }),
      new OllamaModel({ name: "local", modelPath: "llama2:7b", host: "10.0.0.5", port: 11434 }),
    ].map((m) => m.cacheIdentity);
    expect(new Set(ids).size).toBe(3);
    expect(new OllamaModel({ name: "local", modelPath: "llama2", host: "http://127.0.0.1:11434" }).cacheIdentity).toBe(
      new OllamaModel({ name: "local", modelPath: "llama2:latest", host: "127.0.0.1" }).cacheIdentity,
    );
  });

  it("holds no credential of an auth proxy in front of Ollama", () => {
    const model = new OllamaModel({
      name: "remote",
      model: "qwen2.5:7b",
      host: "https://bob:pr0xy-pass-word@ollama.example.com",
      headers: { Authorization: "Bearer proxy-token-0123456789" },
    });
    for (const secret of ["pr0xy-pass-word", "proxy-token-0123456789", "bob"])
      expect(model.cacheIdentity).not.toContain(secret);
    expect(JSON.parse(model.cacheIdentity)).toEqual({
      name: "remote",
      provider: "ollama",
      model: "qwen2.5:7b",
      host: "https://ollama.example.com",
    });
  });
});
