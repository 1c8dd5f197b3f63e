import type { GenerateRequest, StreamChunk } from "@orchestrator-ts/core";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OpenAIModel, type OpenAIModelOptions } from "./openai-model";

// A stream reports the warnings of its request's mapping as generate() does, through the real
// `openai` SDK against the loopback server: by its first chunk (`stream.warnings`) and on its finish chunk.

let server: OpenAIServer;
const made: OpenAIModel[] = [];

beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(async () => {
  await Promise.all(made.map((m) => m.cleanup()));
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
});

function model(options: Partial<OpenAIModelOptions> = {}): OpenAIModel {
  const m = new OpenAIModel({ name: "gpt-4o-mini", baseURL: server.baseURL, ...options });
  made.push(m);
  return m;
}

const ask = (extra: Partial<GenerateRequest>): GenerateRequest => ({
  messages: [{ role: "user", content: "x" }],
  ...extra,
});

async function streamed(m: OpenAIModel, request: GenerateRequest) {
  const stream = m.stream(request);
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  const atFirstChunk = [...stream.warnings];
  const chunks: StreamChunk[] = first.done ? [] : [first.value];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) chunks.push(next.value);
  return { atFirstChunk, first: chunks[0], finish: chunks.at(-1) as Extract<StreamChunk, { type: "finish" }> };
}

describe("OpenAIModel streams carry their request's warnings", () => {
  const cases: [string, Partial<OpenAIModelOptions>, Partial<GenerateRequest>][] = [
    ["a reasoning model given a temperature", { name: "o3-mini" }, { temperature: 0.2 }],
    ["a model that cannot reason given reasoning", { name: "gpt-4o-mini" }, { reasoning: { effort: "high" } }],
    // SDK retries: the path where the provider gets no CallControl.
    ["with SDK retries", { name: "o3-mini", maxRetries: 1 }, { temperature: 0.2, topP: 0.5 }],
  ];
  it.each(cases)("%s: the same warnings as generate, known by the first chunk", async (_, options, extra) => {
    const m = model(options);
    const generated = await m.generate(ask(extra));
    expect(generated.warnings.length).toBeGreaterThan(0);
    const { atFirstChunk, first, finish } = await streamed(m, ask(extra));
    expect(first?.type).toBe("text");
    expect(atFirstChunk).toEqual(generated.warnings);
    expect(finish).toMatchObject({ type: "finish", model: m.name, warnings: generated.warnings });
    expect(server.requests.at(-1)?.body).toMatchObject({ stream: true });
  });

  it("a request taken as it is: no warnings, none on the finish chunk", async () => {
    const { atFirstChunk, finish } = await streamed(model(), ask({ temperature: 0.2 }));
    expect(atFirstChunk).toEqual([]);
    expect(finish.type).toBe("finish");
    expect(finish).not.toHaveProperty("warnings");
  });
});
