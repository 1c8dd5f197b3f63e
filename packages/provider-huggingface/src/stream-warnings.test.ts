import type { GenerateRequest, StreamChunk } from "@orchestrator-ts/core";
import { type HuggingFaceServer, startHuggingFaceServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HuggingFaceModel, type HuggingFaceModelOptions } from "./huggingface-model";

// The model's warnings (its construction's, and what the request's mapping leaves out) on a
// stream as on generate(), through the real `@huggingface/inference` client against the loopback server.

const TOKEN = "hf_testtoken0123456789abcdef";
let server: HuggingFaceServer;
const made: HuggingFaceModel[] = [];

beforeAll(async () => {
  server = await startHuggingFaceServer({ apiKey: TOKEN, modelId: "meta-llama/Llama-3.1-8B-Instruct" });
});
afterAll(async () => {
  await Promise.all(made.map((m) => m.cleanup()));
  await server.close();
});

function model(options: Partial<HuggingFaceModelOptions> = {}): HuggingFaceModel {
  const m = new HuggingFaceModel({
    name: "llama",
    model: "meta-llama/Llama-3.1-8B-Instruct",
    accessToken: TOKEN,
    endpointUrl: server.endpointUrl,
    ...options,
  });
  made.push(m);
  return m;
}

const REASONING: GenerateRequest = { messages: [{ role: "user", content: "think" }], reasoning: { effort: "low" } };

async function streamed(m: HuggingFaceModel, request: GenerateRequest) {
  const stream = m.stream(request);
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  const atFirstChunk = [...stream.warnings];
  let finish: StreamChunk | undefined = first.done ? undefined : first.value;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) finish = next.value;
  return { atFirstChunk, finish };
}

describe("HuggingFaceModel: warnings, generated and streamed", () => {
  it("reasoning, which the endpoint's chat model does not take, is left out with a warning: generated and streamed", async () => {
    const m = model({ device: "cuda" });
    const generated = await m.generate(REASONING);
    expect(generated.warnings).toEqual([
      expect.stringContaining('device "cuda" is ignored'),
      expect.stringContaining("reasoning is not supported"),
    ]);
    expect(server.requests.at(-1)?.body).not.toHaveProperty("reasoning_effort");
    const { atFirstChunk, finish } = await streamed(m, REASONING);
    expect(atFirstChunk).toEqual(generated.warnings);
    expect(finish).toMatchObject({ type: "finish", warnings: generated.warnings });
  });

  it("a model without warnings streams none", async () => {
    const { atFirstChunk, finish } = await streamed(model(), { messages: [{ role: "user", content: "hi" }] });
    expect(atFirstChunk).toEqual([]);
    expect(finish?.type).toBe("finish");
    expect(finish).not.toHaveProperty("warnings");
  });
});
