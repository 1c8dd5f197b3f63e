import { describe, expect, it } from "vitest";
import { ConfigError, ModelCapabilities, ModelConstraints } from "./index";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (ConfigError.isInstance(e)) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("ModelCapabilities", () => {
  it("takes every seed field and documents defaults", () => {
    const c = new ModelCapabilities({
      textGeneration: true,
      codeGeneration: true,
      functionCalling: true,
      vision: false,
      audio: false,
      maxTokens: 4096,
      supportsStreaming: true,
      supportsFunctions: true,
      inputCostPerToken: 0.00001,
      outputCostPerToken: 0.00003,
    });
    expect(c.maxTokens).toBe(4096);
    expect(c.contextWindow).toBe(4096);
    expect(c.outputCostPerToken).toBe(0.00003);
    const d = new ModelCapabilities();
    expect(d.textGeneration).toBe(true);
    expect(d.codeGeneration).toBe(false);
    expect(d.inputCostPerToken).toBe(0);
    expect(d.tasks).toEqual([]);
  });

  it("treats functionCalling and supportsFunctions as one fact", () => {
    expect(new ModelCapabilities({ functionCalling: true }).supportsFunctions).toBe(true);
    expect(new ModelCapabilities({ supportsFunctions: true }).functionCalling).toBe(true);
  });

  it("rejects a negative price with the field path", () => {
    const e = configError(() => new ModelCapabilities({ inputCostPerToken: -1 }));
    expect(e.issues[0]?.path).toBe("inputCostPerToken");
    expect(e.message).toMatch(/inputCostPerToken: .*>=\s*0/);
  });

  it("rejects a string maxTokens with the field path and what was expected", () => {
    const e = configError(() => new ModelCapabilities({ maxTokens: "4096" as unknown as number }));
    expect(e.issues[0]?.path).toBe("maxTokens");
    expect(e.issues[0]?.message).toMatch(/expected number, received string/);
  });

  it("rejects unknown fields and reports every problem at once", () => {
    const e = configError(() => new ModelCapabilities({ maxTokens: -5, visoin: true } as never));
    expect(e.issues.map((i) => i.path).sort()).toEqual(["", "maxTokens"]);
    expect(e.message).toContain('unknown field(s) "visoin"');
  });

  it("is immutable and copies with changes", () => {
    const c = new ModelCapabilities({ maxTokens: 100 });
    expect(() => {
      (c as { maxTokens: number }).maxTokens = 5;
    }).toThrow();
    expect(c.with({ vision: true }).vision).toBe(true);
    expect(c.vision).toBe(false);
  });

  it("validates constraints the same way", () => {
    const k = new ModelConstraints({
      maxRequestsPerMinute: 100,
      maxConcurrentRequests: 10,
      requiredMemoryGb: 2,
      requiredGpuMemoryGb: 4,
    });
    expect(k.maxConcurrentRequests).toBe(10);
    expect(k.queueTimeoutMs).toBe(30_000);
    const e = configError(() => new ModelConstraints({ maxConcurrentRequests: 0 }));
    expect(e.issues[0]?.path).toBe("maxConcurrentRequests");
  });
});
