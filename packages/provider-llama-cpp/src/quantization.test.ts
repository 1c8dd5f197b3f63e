import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, ProviderError } from "@orchestrator-ts/core";
import { type TinyGgufQuantization, writeTinyGguf } from "@orchestrator-ts/gguf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GgufFileError } from "./errors";
import { readGgufSummary } from "./gguf-file";
import { LazyLlamaCppModel, LlamaCppModel } from "./llama-cpp-model";
import { defaultThreads } from "./llama-runtime";
import { llamaCppProvider } from "./plugin";
import { listGgufFiles, matchesQuantization, quantizationOf, resolveModelFile } from "./quantization";

let dir = "";
const QUANTS: TinyGgufQuantization[] = ["f32", "f16", "q8_0", "q4_0"];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llama-cpp-quant-"));
  await mkdir(join(dir, "all"));
  for (const q of QUANTS) await writeTinyGguf(join(dir, "all", `tiny-${q}.gguf`), { quantization: q, seed: 1 });
  // The directory of the example: f16 and int4, no int8.
  await mkdir(join(dir, "models"));
  await copyFile(join(dir, "all", "tiny-f16.gguf"), join(dir, "models", "tiny-f16.gguf"));
  await copyFile(join(dir, "all", "tiny-q4_0.gguf"), join(dir, "models", "tiny-q4.gguf"));
  // Broken files.
  const bytes = await readFile(join(dir, "all", "tiny-q8_0.gguf"));
  await mkdir(join(dir, "broken"));
  await writeFile(join(dir, "broken", "cut-in-data.gguf"), bytes.subarray(0, bytes.length - 1000));
  await writeFile(join(dir, "broken", "cut-in-header.gguf"), bytes.subarray(0, 5000));
  await writeFile(join(dir, "broken", "not-gguf.gguf"), "hello, I am not a model");
  await writeFile(join(dir, "broken", "empty.gguf"), "");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("reading GGUF headers", () => {
  it.each([
    ["f32", 0, "f32", "F32"],
    ["f16", 1, "f16", "F16"],
    ["q8_0", 7, "int8", "Q8_0"],
    ["q4_0", 2, "int4", "Q4_0"],
  ])("reads a %s file's metadata and quantization", (q, fileType, family, type) => {
    const summary = readGgufSummary(join(dir, "all", `tiny-${q}.gguf`));
    expect(summary).toMatchObject({
      architecture: "llama",
      name: `tiny-llama-${q}`,
      fileType,
      contextLength: 512,
      blockCount: 2,
      embeddingLength: 64,
      headCount: 4,
      headCountKv: 2,
      hasChatTemplate: true,
    });
    expect(quantizationOf(summary)).toEqual({ family, type });
    // Without general.file_type the tensors decide.
    expect(quantizationOf({ fileType: undefined, dominantTensorType: summary.dominantTensorType })).toEqual({
      family,
      type,
    });
  });

  it("matches families and exact llama.cpp names", () => {
    expect(matchesQuantization({ family: "int4", type: "Q4_K_M" }, "int4")).toBe(true);
    expect(matchesQuantization({ family: "int4", type: "Q4_K_M" }, "q4_k_m")).toBe(true);
    expect(matchesQuantization({ family: "int4", type: "Q4_K_M" }, "Q4_0")).toBe(false);
    expect(quantizationOf({ fileType: 15, dominantTensorType: undefined })).toEqual({ family: "int4", type: "Q4_K_M" });
    expect(quantizationOf({ fileType: 18, dominantTensorType: undefined })).toEqual({ family: "int6", type: "Q6_K" });
  });

  it.each([
    ["cut-in-data.gguf", "truncated", /truncated: tensor data beyond end of file/],
    ["cut-in-header.gguf", "truncated", /truncated/],
    ["not-gguf.gguf", "not-gguf", /not a GGUF file/],
    ["empty.gguf", "not-gguf", /not a GGUF file/],
  ])("rejects %s with a typed error", (name, problem, message) => {
    const path = join(dir, "broken", name);
    const error = (() => {
      try {
        readGgufSummary(path);
      } catch (e) {
        return e;
      }
    })();
    expect(GgufFileError.isInstance(error)).toBe(true);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ problem, code: "gguf_file_error", retryable: false });
    expect((error as Error).message).toMatch(message);
    // The model constructor fails the same way, before llama.cpp ever sees the file.
    expect(() => new LlamaCppModel({ name: "broken", modelPath: path })).toThrow(message);
  });
});

describe("choosing the file by quantization", () => {
  it("picks the requested quantization from a directory", () => {
    expect(resolveModelFile(join(dir, "all"), "int8").summary.path).toBe(join(dir, "all", "tiny-q8_0.gguf"));
    expect(resolveModelFile(join(dir, "all"), "int4").quantization).toEqual({ family: "int4", type: "Q4_0" });
    expect(resolveModelFile(join(dir, "all"), "f16").summary.path).toBe(join(dir, "all", "tiny-f16.gguf"));
    expect(resolveModelFile(join(dir, "all"), "Q4_0").summary.path).toBe(join(dir, "all", "tiny-q4_0.gguf"));
    const model = new LazyLlamaCppModel({
      name: "llama2-7b-quantized",
      modelPath: join(dir, "all"),
      quantization: "int8",
      deviceMap: "auto",
    });
    expect(model.quantization.type).toBe("Q8_0");
    expect(model.isLoaded).toBe(false);
  });

  it("lists what exists when the quantization is absent", () => {
    const models = join(dir, "models");
    expect(() => resolveModelFile(models, "int8")).toThrow(
      `int8 (Q8_0) not found in ${models}; available: f16 (tiny-f16.gguf), int4 (Q4_0: tiny-q4.gguf)`,
    );
    const error = (() => {
      try {
        new LlamaCppModel({ name: "m", modelPath: models, quantization: "int8" });
      } catch (e) {
        return e;
      }
    })();
    expect(ConfigError.isInstance(error)).toBe(true);
    expect(() => resolveModelFile(models)).toThrow(/several GGUF files; set quantization/);
    expect(() => resolveModelFile(join(dir, "broken"), "int8")).toThrow(
      /available: unreadable: cut-in-data.gguf \(truncated\)/,
    );
    expect(listGgufFiles(join(dir, "broken")).every((e) => GgufFileError.isInstance(e.error))).toBe(true);
  });

  it("rejects a file of another quantization and a missing path", () => {
    expect(() => resolveModelFile(join(dir, "all", "tiny-f16.gguf"), "int8")).toThrow(
      /int8 \(Q8_0\) requested, but .*tiny-f16.gguf is f16 \(F16\)/,
    );
    expect(resolveModelFile(join(dir, "all", "tiny-f16.gguf")).quantization.family).toBe("f16");
    expect(() => new LlamaCppModel({ name: "m", modelPath: join(dir, "nope.gguf") })).toThrow(ConfigError);
    expect(() => new LlamaCppModel({ name: "m", modelPath: join(dir, "nope.gguf") })).toThrow(/does not exist/);
    expect(
      () => new LlamaCppModel({ name: "m", modelPath: join(dir, "all"), quantization: "int8", threads: 0 }),
    ).toThrow(/threads: must be a positive integer/);
  });
});

describe("metadata fills capabilities and constraints", () => {
  it("takes the context window from the file and sizes memory", () => {
    const model = new LlamaCppModel({ name: "m", modelPath: join(dir, "all", "tiny-q8_0.gguf") });
    expect(model.capabilities).toMatchObject({
      contextWindow: 512,
      maxTokens: 512,
      supportsStreaming: true,
      structuredOutput: true,
      functionCalling: false,
      inputCostPerToken: 0,
      outputCostPerToken: 0,
    });
    expect(model.isLocal).toBe(true);
    expect(model.provider).toBe("llama-cpp");
    expect(model.constraints.requiredMemoryGb).toBeGreaterThan(0);
    const small = new LlamaCppModel({
      name: "m",
      modelPath: join(dir, "all", "tiny-q8_0.gguf"),
      contextSize: 128,
      computeCostPerToken: { input: 1e-7, output: 2e-7 },
    });
    expect(small.capabilities).toMatchObject({ contextWindow: 128, inputCostPerToken: 1e-7, outputCostPerToken: 2e-7 });
  });
});

describe("threads", () => {
  it("defaults to half the logical CPUs, 1 on a 2-core machine", () => {
    expect(defaultThreads(1)).toBe(1);
    expect(defaultThreads(2)).toBe(1);
    expect(defaultThreads(8)).toBe(4);
    expect(defaultThreads(64)).toBe(8);
  });
});

describe("llamaCppProvider", () => {
  it("builds models from a config entry", async () => {
    const config = llamaCppProvider.configSchema.parse({
      model_path: join(dir, "all"),
      quantization: "int8",
      device_map: "auto",
      lazy: true,
      idleUnloadMs: 1000,
    });
    const spec = {
      name: "llama2-7b-quantized",
      config,
      capabilities: new LlamaCppModel({ name: "x", modelPath: join(dir, "all", "tiny-q8_0.gguf") }).capabilities,
      constraints: new LlamaCppModel({ name: "y", modelPath: join(dir, "all", "tiny-q8_0.gguf") }).constraints,
      capabilitiesDeclared: false,
    };
    const model = await llamaCppProvider.create(spec);
    expect(model).toBeInstanceOf(LazyLlamaCppModel);
    expect((model as LazyLlamaCppModel).idleUnloadMs).toBe(1000);
    expect((model as LazyLlamaCppModel).deviceMap).toBe("auto");
    const eager = await llamaCppProvider.create({
      ...spec,
      config: llamaCppProvider.configSchema.parse({ modelPath: join(dir, "all"), quantization: "int4" }),
    });
    expect(eager).toBeInstanceOf(LlamaCppModel);
    expect(eager).not.toBeInstanceOf(LazyLlamaCppModel);
    expect(llamaCppProvider.configSchema.safeParse({ quantization: "int8" }).success).toBe(false);
    expect(llamaCppProvider.configSchema.safeParse({ modelPath: "/m", gpu: true }).success).toBe(false);
  });
});
