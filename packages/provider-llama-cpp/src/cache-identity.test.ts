import { mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyGguf } from "@orchestrator-ts/gguf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LazyLlamaCppModel, LlamaCppModel } from "./llama-cpp-model";

let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llama-cpp-identity-"));
  await writeTinyGguf(join(dir, "models", "tiny-q8_0.gguf"), { quantization: "q8_0", seed: 1 });
  await writeTinyGguf(join(dir, "models", "tiny-q4_0.gguf"), { quantization: "q4_0", seed: 1 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Constructing reads the file's header only: no weights are loaded here.
const identity = (options: Partial<ConstructorParameters<typeof LlamaCppModel>[0]> = {}): string =>
  new LlamaCppModel({ name: "local", modelPath: join(dir, "models"), quantization: "int8", threads: 1, ...options })
    .cacheIdentity;

describe("LlamaCppModel.cacheIdentity", () => {
  it("tells apart models registered under one name on other weights, quantizations, context sizes or default maxTokens", () => {
    const ids = [
      identity(),
      identity({ quantization: "int4" }),
      identity({ contextSize: 64 }),
      identity({ maxTokens: 8 }),
    ];
    expect(new Set(ids).size).toBe(4);
    expect(identity()).toBe(ids[0]);
    expect(
      new LazyLlamaCppModel({ name: "local", modelPath: join(dir, "models"), quantization: "int8", threads: 1 })
        .cacheIdentity,
    ).toBe(ids[0]);
    expect(JSON.parse(ids[0] as string)).toMatchObject({
      file: join(dir, "models", "tiny-q8_0.gguf"),
      quantization: "Q8_0",
    });
  });

  it("changes when the file is replaced in place by other weights of the same size", async () => {
    const file = join(dir, "swap.gguf");
    await writeTinyGguf(file, { quantization: "q8_0", seed: 1 });
    await utimes(file, new Date("2025-01-01T00:00:00Z"), new Date("2025-01-01T00:00:00Z"));
    const before = new LlamaCppModel({ name: "local", modelPath: file, threads: 1 });
    await writeTinyGguf(file, { quantization: "q8_0", seed: 2 });
    await utimes(file, new Date("2025-06-01T00:00:00Z"), new Date("2025-06-01T00:00:00Z"));
    const after = new LlamaCppModel({ name: "local", modelPath: file, threads: 1 });
    expect(after.file.sizeBytes).toBe(before.file.sizeBytes);
    expect(after.cacheIdentity).not.toBe(before.cacheIdentity);
  });
});
