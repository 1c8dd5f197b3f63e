import { ModelCapabilities } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { type ResolveCapabilitiesOptions, chatModelCapabilities, ownEntry, resolveCapabilities } from "./pricing";

const TABLE = { textGeneration: true, inputCostPerToken: 2.5e-6, outputCostPerToken: 10e-6, contextWindow: 128_000 };
const CONSERVATIVE = { inputPerMillion: 30, outputPerMillion: 60 };
const resolve = (options: Partial<ResolveCapabilitiesOptions>) =>
  resolveCapabilities({
    known: undefined,
    given: undefined,
    local: false,
    openWeights: false,
    conservativePrice: CONSERVATIVE,
    ...options,
  });

describe("resolveCapabilities: one rule for the price of an OpenAI-compatible endpoint's model", () => {
  it.each<[string, Partial<ResolveCapabilitiesOptions>, number, string]>([
    ["a known model on a remote endpoint: the table", { known: TABLE }, 2.5e-6, "table"],
    [
      "a known closed-weight model on loopback (a proxy to the paid API): the table",
      { known: TABLE, local: true },
      2.5e-6,
      "table",
    ],
    [
      "a known open-weight model on loopback (self-hosted): free",
      { known: TABLE, local: true, openWeights: true },
      0,
      "local",
    ],
    ["a known open-weight model on a remote endpoint: the table", { known: TABLE, openWeights: true }, 2.5e-6, "table"],
    ["an unknown model on loopback: free", { local: true }, 0, "local"],
    ["an unknown model on a remote endpoint: never free", {}, 30e-6, "conservative-default"],
  ])("%s", (_what, options, input, source) => {
    const { capabilities, priceSource } = resolve(options);
    expect(capabilities.inputCostPerToken).toBeCloseTo(input, 15);
    expect(priceSource).toBe(source);
  });

  it("a self-hosted known model keeps the table's other capabilities", () => {
    expect(resolve({ known: TABLE, local: true, openWeights: true }).capabilities).toMatchObject({
      contextWindow: 128_000,
      outputCostPerToken: 0,
    });
  });

  it("declared prices win, 0 included; a declared ModelCapabilities without prices keeps the resolved price", () => {
    expect(resolve({ known: TABLE, given: { inputCostPerToken: 0, outputCostPerToken: 0 } })).toMatchObject({
      capabilities: { inputCostPerToken: 0 },
      priceSource: "declared",
    });
    const kept = resolve({ given: new ModelCapabilities({ maxTokens: 8192 }) });
    expect(kept.capabilities.inputCostPerToken).toBeCloseTo(30e-6, 15);
    expect(kept.priceSource).toBe("conservative-default");
  });
});

describe("one model table row shape for OpenAI's and Hugging Face's tables", () => {
  it("chatModelCapabilities prices per token and defaults structured output to supported", () => {
    const caps = chatModelCapabilities({
      contextWindow: 8_192,
      inputPerMillion: 0.8,
      outputPerMillion: 1.6,
      vision: false,
      tools: true,
    });
    expect(caps).toMatchObject({
      contextWindow: 8_192,
      maxTokens: 8_192,
      functionCalling: true,
      structuredOutput: true,
    });
    expect(caps.inputCostPerToken).toBeCloseTo(0.8e-6, 12);
    expect(caps.outputCostPerToken).toBeCloseTo(1.6e-6, 12);
    expect("maxOutputTokens" in caps).toBe(false);
  });

  it("ownEntry finds only the table's own rows", () => {
    const table = Object.freeze({ a: 1 });
    expect(ownEntry(table, "a")).toBe(1);
    expect(ownEntry(table, "constructor")).toBeUndefined();
    expect(ownEntry(table, "toString")).toBeUndefined();
  });
});
