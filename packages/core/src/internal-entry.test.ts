import { ModelCapabilities, RateLimitError } from "@orchestrator-ts/core";
import { mergeDeclaredCapabilities, toOrchestratorError } from "@orchestrator-ts/core/internal";
import { describe, expect, it } from "vitest";

// The built package as siblings use it: "./internal" must hold the same classes as the main entry,
// or an error a provider maps through it fails `instanceof` in the application, and a declared
// ModelCapabilities is not recognised as one (its zero prices then win over the table's).
describe("@orchestrator-ts/core/internal shares the main entry's classes", () => {
  it("an error mapped through ./internal is an instance of the main entry's class", () => {
    const error = toOrchestratorError(Object.assign(new Error("slow down"), { status: 429 }), {
      provider: "p",
      model: "m",
    });
    expect(error).toBeInstanceOf(RateLimitError);
  });

  it("a ModelCapabilities from the main entry is recognised by ./internal's helpers", () => {
    const resolved = mergeDeclaredCapabilities(
      { textGeneration: true, inputCostPerToken: 1e-6, outputCostPerToken: 2e-6 },
      new ModelCapabilities({ codeGeneration: true }),
      "table",
    );
    expect(resolved.priceSource).toBe("table");
    expect(resolved.capabilities.inputCostPerToken).toBe(1e-6);
  });
});
