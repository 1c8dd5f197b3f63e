// Real inference: node-llama-cpp 3.21.1 loads tiny GGUF files written by @orchestrator-ts/gguf.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AbortError, ConfigError, type GenerateRequest, type StreamChunk } from "@orchestrator-ts/core";
import { type TinyGgufQuantization, writeTinyGguf } from "@orchestrator-ts/gguf";
import { LlamaChat, LlamaLogLevel, getLlama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GgufFileError, InsufficientMemoryError } from "./errors";
import {
  LazyLlamaCppModel,
  type LazyLlamaCppModelOptions,
  LlamaCppModel,
  type LlamaCppModelOptions,
} from "./llama-cpp-model";

let dir = "";
const made: LlamaCppModel[] = [];
const FAMILY: Record<TinyGgufQuantization, string> = { f32: "f32", f16: "f16", q8_0: "int8", q4_0: "int4" };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llama-cpp-model-"));
  await mkdir(join(dir, "models"));
  for (const q of Object.keys(FAMILY) as TinyGgufQuantization[])
    await writeTinyGguf(join(dir, "models", `tiny-${q}.gguf`), { quantization: q, seed: 1 });
});

afterAll(async () => {
  await Promise.all(made.map((m) => m.cleanup()));
  await rm(dir, { recursive: true, force: true });
});

function model(options: Partial<LlamaCppModelOptions> = {}): LlamaCppModel {
  const m = new LlamaCppModel({
    name: "tiny",
    modelPath: join(dir, "models"),
    quantization: "int8",
    threads: 1,
    contextSize: 512,
    ...options,
  });
  made.push(m);
  return m;
}

function lazy(options: Partial<LazyLlamaCppModelOptions> = {}): LazyLlamaCppModel {
  const m = new LazyLlamaCppModel({
    name: "lazy",
    modelPath: join(dir, "models"),
    quantization: "int8",
    threads: 1,
    contextSize: 512,
    ...options,
  });
  made.push(m);
  return m;
}

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  temperature: 0.8,
  seed: 42,
  maxTokens: 24,
  ...extra,
});

async function collect(
  stream: AsyncIterable<StreamChunk>,
): Promise<{ text: string; chunks: number; finish: StreamChunk | undefined }> {
  let text = "";
  let chunks = 0;
  let finish: StreamChunk | undefined;
  for await (const c of stream) {
    if (c.type === "text") {
      text += c.text;
      chunks++;
    } else if (c.type === "finish") finish = c;
  }
  return { text, chunks, finish };
}

let shared: LlamaCppModel;
const int8 = (): LlamaCppModel => {
  shared ??= model();
  return shared;
};

describe.each(Object.entries(FAMILY))("the %s file (quantization %s)", (type, family) => {
  it("is chosen from the directory, loads and generates", async () => {
    const m = model({ quantization: family });
    expect(m.quantization.family).toBe(family);
    expect(m.file.path).toBe(join(dir, "models", `tiny-${type}.gguf`));
    const result = await m.generate(ask("Explain quantum computing"));
    expect(result.text.trim().length).toBeGreaterThan(10);
    expect(result.finishReason).toEqual({ unified: "length", raw: "maxTokens" });
    expect(result.usage.outputTokens).toBe(24);
    expect(result.costUsd).toBe(0);
    expect(m.metrics.snapshot().tokensPerSecond).toBeGreaterThan(0);
    await m.cleanup();
    expect(m.isLoaded).toBe(false);
  });
});

describe("generation", () => {
  it("uses the file's chat template and passes seed and temperature through (same text as raw node-llama-cpp)", async () => {
    const m = int8();
    const request: GenerateRequest = {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "user", content: "the quick brown fox" },
      ],
      temperature: 0.8,
      seed: 9,
      maxTokens: 16,
    };
    const ours = await m.generate(request);
    const llama = await getLlama({
      gpu: false,
      build: "never",
      maxThreads: 1,
      logLevel: LlamaLogLevel.error,
      logger: () => {},
    });
    try {
      const raw = await llama.loadModel({ modelPath: m.file.path, gpuLayers: 0 });
      const context = await raw.createContext({ contextSize: 512, threads: 1 });
      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      const history = [
        { type: "system", text: "Be brief." },
        { type: "user", text: "hi" },
        { type: "model", response: ["hello"] },
        { type: "user", text: "the quick brown fox" },
        { type: "model", response: [] },
      ] as const;
      const expected = await chat.generateResponse(
        [...history].map((h) => ({ ...h })) as Parameters<typeof chat.generateResponse>[0],
        { temperature: 0.8, seed: 9, maxTokens: 16 },
      );
      expect(ours.text).toBe(expected.response);
      // Input usage is the rendered template, tokenized: "<s><|system|>\nBe brief.<|end|>\n<|user|>\nhi…<|assistant|>\n".
      const rendered = chat.chatWrapper.generateContextState({
        chatHistory: [...history].map((h) => ({ ...h })) as Parameters<typeof chat.generateResponse>[0],
      }).contextText;
      expect(rendered.toString()).toContain("<|system|>\nBe brief.<|end|>");
      expect(ours.usage.inputTokens).toBe(rendered.tokenize(raw.tokenizer).length);
      await context.dispose();
      await raw.dispose();
    } finally {
      await llama.dispose();
    }
  });

  it("reproduces text for a seed, and another seed changes it", async () => {
    const m = int8();
    const a = await m.generateResponse("hello world", { temperature: 0.8, seed: 42, maxTokens: 24 });
    const b = await m.generateResponse("hello world", { temperature: 0.8, seed: 42, maxTokens: 24 });
    const c = await m.generateResponse("hello world", { temperature: 0.8, seed: 43, maxTokens: 24 });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it("streams token by token the same text generate returns", async () => {
    const m = int8();
    const request = ask("the cat sat", { maxTokens: 32 });
    const generated = await m.generate(request);
    const streamed = await collect(m.stream(request));
    expect(streamed.text).toBe(generated.text);
    expect(streamed.chunks).toBeGreaterThan(10);
    expect(streamed.finish).toMatchObject({
      type: "finish",
      finishReason: { unified: "length" },
      usage: generated.usage,
    });
    const pieces: string[] = [];
    for await (const piece of m.streamResponse("the cat sat", { temperature: 0.8, seed: 42, maxTokens: 32 }))
      pieces.push(piece);
    expect(pieces.join("")).toBe(generated.text);
  });

  it("respects maxTokens and counts usage with the tokenizer", async () => {
    const m = int8();
    const short = await m.generate(ask("the quick brown fox", { maxTokens: 5 }));
    expect(short.usage.outputTokens).toBe(5);
    expect(short.finishReason.unified).toBe("length");
    // Each of these words is one token of the tiny vocabulary: five more words, five more input tokens.
    const longer = await m.generate(ask("the quick brown fox jumps over the lazy dog", { maxTokens: 5 }));
    expect((longer.usage.inputTokens ?? 0) - (short.usage.inputTokens ?? 0)).toBe(5);
  });

  it("stops at a stop sequence, leaving it out", async () => {
    const m = int8();
    const full = await m.generate(ask("the quick brown fox", { maxTokens: 40 }));
    const words = full.text.trim().split(/\s+/);
    const stopWord = words.find((w, i) => i >= 3 && w.length >= 3 && !words.slice(0, i).includes(w));
    expect(stopWord).toBeDefined();
    const stop = ` ${stopWord}`;
    const cut = await m.generate(ask("the quick brown fox", { maxTokens: 40, stop: [stop] }));
    expect(cut.finishReason).toEqual({ unified: "stop", raw: "customStopTrigger" });
    expect(full.text.startsWith(cut.text)).toBe(true);
    expect(cut.text).not.toContain(stop);
    expect(full.text.slice(cut.text.length).startsWith(stop)).toBe(true);
    const streamed = await collect(m.stream(ask("the quick brown fox", { maxTokens: 40, stop: [stop] })));
    expect(streamed.text).toBe(cut.text);
  });

  it("follows a JSON schema for structured output", async () => {
    const m = int8();
    const schema = {
      type: "object",
      // No integers: node-llama-cpp's integer grammar allows exponents ("58E336954360"), valid JSON but Infinity in JS.
      properties: {
        answer: { enum: ["yes", "no"] },
        sure: { type: "boolean" },
        why: { type: "string", maxLength: 12 },
      },
      required: ["answer", "sure", "why"],
      additionalProperties: false,
    };
    for (const seed of [1, 2, 3]) {
      const result = await m.generate(
        ask("yes or no?", { seed, maxTokens: 64, responseFormat: { type: "json", schema } }),
      );
      expect(result.finishReason.unified).toBe("stop");
      const parsed = JSON.parse(result.text) as { answer: string; sure: boolean; why: string };
      expect(["yes", "no"]).toContain(parsed.answer);
      expect(typeof parsed.sure).toBe("boolean");
      expect(parsed.why.length).toBeLessThanOrEqual(12);
      expect(Object.keys(parsed).sort()).toEqual(["answer", "sure", "why"]);
    }
    const anyJson = await m.generate(
      ask("json please", { maxTokens: 48, temperature: 0, responseFormat: { type: "json" } }),
    );
    expect(anyJson.text.trim().slice(0, 1)).toMatch(/[[{"\d\-tfn]/);
  });

  it("prices tokens only when a compute cost is configured", async () => {
    const priced = model({ computeCostPerToken: { input: 1e-6, output: 2e-6 } });
    const result = await priced.generate(ask("hello", { maxTokens: 4 }));
    const { inputTokens = 0, outputTokens = 0 } = result.usage;
    expect(result.costUsd).toBeCloseTo(inputTokens * 1e-6 + outputTokens * 2e-6, 12);
    expect(priced.metrics.snapshot().tokensPerSecond).toBeGreaterThan(0);
    await priced.cleanup();
  });

  it("serialises concurrent requests with the same answers as one by one", async () => {
    const m = int8();
    const seeds = [1, 2, 3, 4];
    const together = await Promise.all(
      seeds.map((seed) => m.generate(ask(`question ${seed}`, { seed, maxTokens: 16 }))),
    );
    const oneByOne: string[] = [];
    for (const seed of [4, 3, 2, 1])
      oneByOne.unshift((await m.generate(ask(`question ${seed}`, { seed, maxTokens: 16 }))).text);
    expect(together.map((r) => r.text)).toEqual(oneByOne);
    expect(new Set(oneByOne).size).toBe(4);
    // A stream and a generate at once do not mix their text either.
    const [streamed, generated] = await Promise.all([
      collect(m.stream(ask("question 1", { seed: 1, maxTokens: 16 }))),
      m.generate(ask("question 2", { seed: 2, maxTokens: 16 })),
    ]);
    expect(streamed.text).toBe(oneByOne[0]);
    expect(generated.text).toBe(oneByOne[1]);
  });
});

describe("abort and deadlines", () => {
  it("aborts a stream mid-generation and keeps working", async () => {
    const m = int8();
    const controller = new AbortController();
    let chunks = 0;
    const error = await (async () => {
      for await (const c of m.stream(ask("the", { maxTokens: 400, signal: controller.signal }))) {
        if (c.type === "text" && ++chunks === 5) controller.abort();
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(AbortError.isInstance(error)).toBe(true);
    expect(chunks).toBeLessThan(20);
    const after = await m.generate(ask("still alive?", { maxTokens: 4 }));
    expect(after.usage.outputTokens).toBe(4);
  });

  it("aborts a generate call and a call waiting in the queue", async () => {
    const m = int8();
    await m.initialize();
    const controller = new AbortController();
    const running = m.generate(ask("long", { maxTokens: 5000, signal: controller.signal }));
    const queued = m.generate(ask("queued", { maxTokens: 5000, signal: controller.signal }));
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    await expect(running).rejects.toSatisfy((e: unknown) => AbortError.isInstance(e));
    await expect(queued).rejects.toSatisfy((e: unknown) => AbortError.isInstance(e));
    // The next call waits only for the aborted generation to stop, not for 5000 tokens.
    const next = await m.generate(ask("next", { maxTokens: 4 }));
    expect(next.text.length).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("times out with TimeoutError and cleanup stops a running generation", async () => {
    const m = model();
    await expect(m.generate(ask("long", { maxTokens: 5000, timeoutMs: 40 }))).rejects.toMatchObject({
      code: "timeout_error",
    });
    const running = m.generate(ask("long", { maxTokens: 5000 })).then(
      () => "done",
      (e: unknown) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    const started = performance.now();
    await m.cleanup();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(AbortError.isInstance(await running)).toBe(true);
    expect(m.isLoaded).toBe(false);
  });
});

describe("loading", () => {
  it("refuses to load when free memory is too small, with the numbers", async () => {
    const m = model({ freeMemoryBytes: () => 1024 * 1024 });
    const error = await m.generate(ask("hi")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(InsufficientMemoryError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/needs about \d+\.\d MiB .* 1\.0 MiB free/);
    expect((error as InsufficientMemoryError).requiredBytes).toBeGreaterThan(1024 * 1024);
    expect(m.isLoaded).toBe(false);
    expect(m.constraints.requiredMemoryGb).toBeGreaterThan(0);
    await expect(
      model({ memoryCheck: false, freeMemoryBytes: 1 }).generate(ask("hi", { maxTokens: 2 })),
    ).resolves.toBeDefined();
  });

  it("reports a file broken after construction as a typed error, without hanging or crashing", async () => {
    const path = join(dir, "changing.gguf");
    await copyFile(join(dir, "models", "tiny-q8_0.gguf"), path);
    const good = await readFile(path);
    const m = model({ modelPath: path });
    await writeFile(path, good.subarray(0, good.length - 1000));
    const error = await m.generate(ask("hi")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(GgufFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/truncated: tensor data beyond end of file/);
    expect(await m.healthCheck()).toBe(false);
    await writeFile(path, good);
    expect((await m.generate(ask("hi", { maxTokens: 3 }))).usage.outputTokens).toBe(3);
  });
});

describe("LazyLlamaCppModel", () => {
  it("leaves the disk alone until first use: a folder that appears later is used", async () => {
    const later = join(dir, "appears-later");
    // The seed's LazyHuggingFaceModel(...) at start-up, before any model file is there.
    const m = lazy({ modelPath: later, contextSize: undefined });
    expect(m.isLoaded).toBe(false);
    expect(m.capabilities.contextWindow).toBe(4096);
    expect(m.constraints.requiredMemoryGb).toBeUndefined();
    expect(await m.healthCheck()).toBe(false);
    const missing = await m.generate(ask("hi", { maxTokens: 2 })).catch((e: unknown) => e);
    expect(ConfigError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toMatch(/appears-later.*does not exist/);
    await mkdir(later);
    await copyFile(join(dir, "models", "tiny-q8_0.gguf"), join(later, "tiny-q8_0.gguf"));
    expect((await m.generate(ask("hi", { maxTokens: 2 }))).usage.outputTokens).toBe(2);
    expect(m.file.path).toBe(join(later, "tiny-q8_0.gguf"));
    // The file's trained context (shorter than the default 4096) now sizes the capabilities.
    expect(m.contextSize).toBe(m.file.contextLength);
    expect(m.capabilities.contextWindow).toBe(m.contextSize);
    expect(m.constraints.requiredMemoryGb).toBeGreaterThan(0);
  });

  it("loads once on first use, even under concurrent first calls, and health checks do not load", async () => {
    const m = lazy();
    expect(await m.healthCheck()).toBe(true);
    expect(m.isLoaded).toBe(false);
    const results = await Promise.all([1, 2, 3].map((seed) => m.generate(ask("hi", { seed, maxTokens: 4 }))));
    expect(results.every((r) => r.usage.outputTokens === 4)).toBe(true);
    expect(m.loadCount).toBe(1);
    expect(m.isLoaded).toBe(true);
  });

  it("unloads after the idle time and loads again on the next call", async () => {
    const m = lazy({ idleUnloadMs: 100 });
    const first = await m.generateResponse("hello", { temperature: 0.8, seed: 5, maxTokens: 8 });
    expect(m.isLoaded).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(m.isLoaded).toBe(false);
    const again = await m.generateResponse("hello", { temperature: 0.8, seed: 5, maxTokens: 8 });
    expect(again).toBe(first);
    expect(m.loadCount).toBe(2);
    await m.cleanup();
    expect(m.isLoaded).toBe(false);
    expect(m.isInitialized).toBe(false);
  });
});
