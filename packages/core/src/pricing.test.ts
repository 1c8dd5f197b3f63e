import { describe, expect, it } from "vitest";
import { ModelCapabilities } from "./capabilities";
import { isLoopbackURL, mergeDeclaredCapabilities } from "./pricing";

const KNOWN = {
  inputCostPerToken: 2e-6,
  outputCostPerToken: 8e-6,
  contextWindow: 128_000,
  maxTokens: 16_384,
  functionCalling: true,
  supportsFunctions: true,
};

describe("mergeDeclaredCapabilities", () => {
  it("nothing declared: the known capabilities, priced from the fallback source", () => {
    expect(mergeDeclaredCapabilities(KNOWN, undefined, "table")).toEqual({ capabilities: KNOWN, priceSource: "table" });
  });

  it("a ModelCapabilities with the default 0 prices keeps the known price (a paid model is never free by accident)", () => {
    const { capabilities, priceSource } = mergeDeclaredCapabilities(
      KNOWN,
      new ModelCapabilities({ codeGeneration: true }),
      "table",
    );
    expect(capabilities).toBeInstanceOf(ModelCapabilities);
    expect([
      (capabilities as ModelCapabilities).inputCostPerToken,
      (capabilities as ModelCapabilities).codeGeneration,
    ]).toEqual([2e-6, true]);
    expect(priceSource).toBe("table");
  });

  it("a plain object sets prices, 0 included, and says they were declared", () => {
    const { capabilities, priceSource } = mergeDeclaredCapabilities(
      KNOWN,
      { inputCostPerToken: 0, outputCostPerToken: 0 },
      "table",
    );
    expect(capabilities).toMatchObject({ inputCostPerToken: 0, outputCostPerToken: 0, contextWindow: 128_000 });
    expect(priceSource).toBe("declared");
  });

  it("a declared maxTokens drops the known window; one function-calling spelling decides both", () => {
    const { capabilities, priceSource } = mergeDeclaredCapabilities(
      KNOWN,
      { maxTokens: 4_096, supportsFunctions: false },
      "conservative-default",
    );
    expect(capabilities).toMatchObject({
      maxTokens: 4_096,
      contextWindow: undefined,
      functionCalling: false,
      supportsFunctions: false,
      inputCostPerToken: 2e-6,
    });
    expect(priceSource).toBe("conservative-default");
  });
});

describe("isLoopbackURL", () => {
  it("is true for this machine's addresses only", () => {
    for (const url of [
      "http://localhost:8000/v1",
      "http://api.localhost/v1",
      "http://127.0.0.1:11434",
      "http://127.8.9.10",
      "http://[::1]:8080",
    ])
      expect(isLoopbackURL(url)).toBe(true);
    for (const url of [
      "https://api.openai.com/v1",
      "http://10.0.0.5:8000",
      "http://localhost.example.com",
      "not a url",
      "http://128.0.0.1",
    ])
      expect(isLoopbackURL(url)).toBe(false);
  });
});
