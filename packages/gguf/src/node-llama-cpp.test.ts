// Loads the generated files with the real node-llama-cpp (prebuilt CPU binary, no downloads).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { JinjaTemplateChatWrapper, LlamaChatSession, LlamaLogLevel, getLlama } from "node-llama-cpp";
import type { Llama, LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "@orchestrator-ts/testing";
import { TINY_CHAT_TEMPLATE, writeTinyGguf } from "./index";
import type { TinyGgufInfo, TinyGgufQuantization } from "./index";

const QUANTIZATIONS: TinyGgufQuantization[] = ["f32", "f16", "q8_0", "q4_0"];
const TIMEOUT_MS = 60_000;

let dir = "";
let llama: Llama;
const files = new Map<TinyGgufQuantization, TinyGgufInfo>();
const models = new Map<TinyGgufQuantization, LlamaModel>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiny-gguf-llama-"));
  // CPU only, never build or download; one thread, since the default oversubscribes small machines badly.
  llama = await getLlama({
    gpu: false,
    build: "never",
    maxThreads: 1,
    logLevel: LlamaLogLevel.error,
    logger: () => {},
  });
  for (const quantization of QUANTIZATIONS) {
    const info = await writeTinyGguf(join(dir, `tiny-${quantization}.gguf`), { quantization, seed: 1 });
    files.set(quantization, info);
  }
}, TIMEOUT_MS);

afterAll(async () => {
  for (const model of models.values()) await model.dispose();
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
}, TIMEOUT_MS);

async function modelFor(quantization: TinyGgufQuantization): Promise<LlamaModel> {
  const cached = models.get(quantization);
  if (cached) return cached;
  const path = files.get(quantization)?.path;
  if (!path) throw new Error(`no file for ${quantization}`);
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  models.set(quantization, model);
  return model;
}

interface Generation {
  text: string;
  tokens: number[];
  chunks: string[];
  stopReason: string;
}

async function generate(
  quantization: TinyGgufQuantization,
  prompt: string,
  options: {
    seed?: number;
    temperature?: number;
    maxTokens?: number;
    signal?: AbortSignal;
    onChunk?: (n: number) => void;
  } = {},
): Promise<Generation> {
  const model = await modelFor(quantization);
  const context = await model.createContext({ contextSize: 512, threads: 1 });
  try {
    const session = new LlamaChatSession({ contextSequence: context.getSequence() });
    const tokens: number[] = [];
    const chunks: string[] = [];
    const result = await session.promptWithMeta(prompt, {
      maxTokens: options.maxTokens ?? 32,
      temperature: options.temperature ?? 0.8,
      seed: options.seed ?? 1,
      signal: options.signal,
      stopOnAbortSignal: true,
      onToken: (t) => tokens.push(...t),
      onTextChunk: (chunk) => {
        chunks.push(chunk);
        options.onChunk?.(chunks.length);
      },
    });
    return { text: result.responseText, tokens, chunks, stopReason: result.stopReason };
  } finally {
    await context.dispose();
  }
}

describe.each(QUANTIZATIONS)("tiny %s model in node-llama-cpp", (quantization) => {
  it(
    "loads with the written metadata and tokenizes words as whole pieces",
    async () => {
      const model = await modelFor(quantization);
      const info = files.get(quantization);
      expect(model.fileInfo.metadata.general.architecture).toBe("llama");
      expect(model.fileInfo.metadata.general.name).toBe(`tiny-llama-${quantization}`);
      expect(model.trainContextSize).toBe(512);
      expect(model.tokens.bos).toBe(info?.tokenIds.bos);
      expect(model.tokens.eos).toBe(info?.tokenIds.eos);
      // 9 words, 9 tokens: the SentencePiece merges reach the word pieces
      const tokens = model.tokenize("the quick brown fox jumps over the lazy dog");
      expect(tokens.map((t) => model.detokenize([t]).trim())).toEqual(
        "the quick brown fox jumps over the lazy dog".split(" "),
      );
      // text outside the vocabulary falls back to byte tokens and survives a round trip
      const odd = "Zürich 42 ☃";
      expect(model.detokenize(model.tokenize(odd))).toBe(odd);
    },
    TIMEOUT_MS,
  );

  it(
    "generates maxTokens varied tokens without hitting EOS",
    async () => {
      const out = await generate(quantization, "Explain quantum computing", { seed: 7 });
      expect(out.stopReason).toBe("maxTokens");
      // onToken may report a few more tokens than maxTokens: node-llama-cpp re-tokenizes generated
      // text (single letters "y", "e", "s" become "yes") and counts the canonical tokens.
      expect(out.tokens.length).toBeGreaterThanOrEqual(32);
      expect(new Set(out.tokens).size).toBeGreaterThanOrEqual(8);
      expect(out.text.trim().length).toBeGreaterThan(20);
      expect(out.chunks.join("")).toBe(out.text);
    },
    TIMEOUT_MS,
  );

  it(
    "is deterministic for a given file, prompt and sampling seed",
    async () => {
      const a = await generate(quantization, "hello world", { seed: 42 });
      const b = await generate(quantization, "hello world", { seed: 42 });
      const c = await generate(quantization, "hello world", { seed: 43 });
      expect(b.text).toBe(a.text);
      expect(b.tokens).toEqual(a.tokens);
      expect(c.text).not.toBe(a.text);
      const greedyA = await generate(quantization, "the cat sat", { temperature: 0 });
      const greedyB = await generate(quantization, "the cat sat", { temperature: 0, seed: 99 });
      expect(greedyB.text).toBe(greedyA.text);
    },
    TIMEOUT_MS,
  );
});

describe("node-llama-cpp with a tiny model", () => {
  it(
    "formats chats with the template stored in the file",
    async () => {
      const model = await modelFor("q8_0");
      expect(model.fileInfo.metadata.tokenizer.chat_template).toBe(TINY_CHAT_TEMPLATE);
      const context = await model.createContext({ contextSize: 512, threads: 1 });
      try {
        const session = new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: "Be brief." });
        expect(session.chatWrapper).toBeInstanceOf(JinjaTemplateChatWrapper);
        const state = session.chatWrapper.generateContextState({
          chatHistory: [
            { type: "system", text: "Be brief." },
            { type: "user", text: "hi" },
            { type: "model", response: [] },
          ],
        });
        expect(state.contextText.toString()).toBe(
          "BOS<|system|>\nBe brief.<|end|>\n<|user|>\nhi<|end|>\n<|assistant|>\n",
        );
        await session.prompt("hello", { maxTokens: 4, seed: 1 });
        const evaluated = model.detokenize(session.sequence.contextTokens, true);
        expect(evaluated).toMatch(/^<s><\|system\|>/);
        expect(evaluated).toContain("<|user|>");
        expect(evaluated).toContain("hello<|end|>");
        expect(evaluated).toContain("<|assistant|>");
      } finally {
        await context.dispose();
      }
    },
    TIMEOUT_MS,
  );

  it(
    "stops early on abort when asked to",
    async () => {
      const controller = new AbortController();
      const out = await generate("q4_0", "the", {
        maxTokens: 200,
        signal: controller.signal,
        onChunk: (n) => {
          if (n === 5) controller.abort();
        },
      });
      expect(out.stopReason).toBe("abort");
      expect(out.tokens.length).toBeLessThan(200);
    },
    TIMEOUT_MS,
  );

  it(
    "follows a grammar",
    async () => {
      const model = await modelFor("q8_0");
      const grammar = await llama.createGrammarForJsonSchema({
        type: "object",
        properties: { answer: { enum: ["yes", "no"] } },
      } as const);
      const context = await model.createContext({ contextSize: 512, threads: 1 });
      try {
        const session = new LlamaChatSession({ contextSequence: context.getSequence() });
        const text = await session.prompt("yes or no?", { grammar, seed: 3, maxTokens: 64 });
        expect(["yes", "no"]).toContain(grammar.parse(text).answer);
      } finally {
        await context.dispose();
      }
    },
    TIMEOUT_MS,
  );

  it(
    "rejects truncated and corrupt files with an error instead of crashing; llama.cpp's reasons reach the logger",
    async () => {
      // In a process of its own, with one Llama: node-llama-cpp 3.21.1 leaves a failed loadModel's
      // half-built model holding its Llama, whose dispose() then never resolves; and a second Llama
      // in one process switches the JS logger off for good (the first one's native log callback,
      // released asynchronously, clears the flag the second one set), so llama.cpp would print its
      // reasons on stderr instead of to the logger. The child reports what the logger received.
      const entry = pathToFileURL(fileURLToPath(new URL("./index.ts", import.meta.url))).href;
      const script = `
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LlamaChatSession, LlamaLogLevel, getLlama } from "node-llama-cpp";
const { buildTinyGguf, writeTinyGguf } = await import(${JSON.stringify(entry)});
const dir = process.argv[2];
const logged = [];
const llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: LlamaLogLevel.error, logger: (level, message) => logged.push(message) });
const bytes = buildTinyGguf({ quantization: "q8_0" });
const cases = [
  ["cut-in-data", bytes.subarray(0, bytes.length - 1000)],
  ["cut-in-half", bytes.subarray(0, bytes.length >> 1)],
  ["cut-in-header", bytes.subarray(0, 5000)],
  ["not-gguf", new TextEncoder().encode("hello, I am not a model")],
];
const rejected = {};
for (const [name, data] of cases) {
  const path = join(dir, name + ".gguf");
  await writeFile(path, data);
  try {
    await llama.loadModel({ modelPath: path });
    rejected[name] = null;
  } catch (error) {
    rejected[name] = error.message;
  }
}
// The native side is still healthy: the same Llama loads a good file and generates.
const good = await writeTinyGguf(join(dir, "good.gguf"), { quantization: "q8_0", seed: 1 });
const model = await llama.loadModel({ modelPath: good.path, gpuLayers: 0 });
const context = await model.createContext({ contextSize: 512, threads: 1 });
const session = new LlamaChatSession({ contextSequence: context.getSequence() });
const answer = await session.promptWithMeta("still alive?", { maxTokens: 4, seed: 1 });
console.log(JSON.stringify({ rejected, logged, stopReason: answer.stopReason }));
// Not disposing: the failed loads' models keep this Llama from ever finishing dispose().
process.exit(0);
`;
      const run = await runScript(
        { script },
        { args: [dir], cwd: fileURLToPath(new URL("../..", import.meta.url)), timeoutMs: TIMEOUT_MS - 5_000 },
      );
      expect(run.timedOut).toBe(false);
      expect(run.code).toBe(0);
      // Nothing printed behind the logger's back.
      expect(run.stderr).toBe("");
      const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "") as {
        rejected: Record<string, string | null>;
        logged: string[];
        stopReason: string;
      };
      for (const name of ["cut-in-data", "cut-in-half", "cut-in-header", "not-gguf"])
        expect(report.rejected[name], name).toMatch(/Failed to load model|GGUF magic/);
      expect(report.logged.join("\n")).toMatch(/data is not within the file bounds, model is corrupted or incomplete/);
      expect(report.stopReason).toBe("maxTokens");
    },
    TIMEOUT_MS,
  );
});
