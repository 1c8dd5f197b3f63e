// Real inference: node-llama-cpp loads a tiny GGUF written by @orchestrator-ts/gguf. A stream
// reports what its request's mapping left out (tools, images) as generate() does: by its first
// token (`stream.warnings`) and on its finish chunk.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerateRequest, StreamChunk } from "@orchestrator-ts/core";
import { writeTinyGguf } from "@orchestrator-ts/gguf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppModel } from "./llama-cpp-model";

let dir = "";
let model: LlamaCppModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llama-cpp-warnings-"));
  const file = join(dir, "tiny-q8_0.gguf");
  await writeTinyGguf(file, { quantization: "q8_0", seed: 1 });
  model = new LlamaCppModel({ name: "tiny", modelPath: file, threads: 1, contextSize: 512 });
});
afterAll(async () => {
  await model?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const request = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content: "the cat" }],
  seed: 42,
  maxTokens: 8,
  ...extra,
});
const tools = [{ name: "lookup", parameters: { type: "object", properties: {} } }];

describe("LlamaCppModel streams carry their request's warnings", () => {
  it("tools it cannot take: the same warning as generate, known by the first token and on the finish chunk", async () => {
    const generated = await model.generate(request({ tools }));
    expect(generated.warnings).toEqual([expect.stringContaining("Tools are not supported")]);

    const stream = model.stream(request({ tools }));
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.type).toBe("text");
    expect(stream.warnings).toEqual(generated.warnings);
    let finish: StreamChunk | undefined;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) finish = next.value;
    expect(finish).toMatchObject({ type: "finish", warnings: generated.warnings });
  });

  it("a request it takes whole: no warnings", async () => {
    const stream = model.stream(request());
    let finish: StreamChunk | undefined;
    for await (const chunk of stream) finish = chunk;
    expect(finish?.type).toBe("finish");
    expect(finish).not.toHaveProperty("warnings");
    expect(stream.warnings).toEqual([]);
  });
});
