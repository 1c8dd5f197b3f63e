import type { GenerateRequest, StreamChunk } from "@orchestrator-ts/core";
import { type OllamaServer, startOllamaServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaModel } from "./index";

// A stream reports the warnings of its request's mapping as generate() does, through the real
// `ollama` client against the loopback server: by its first chunk and on its finish chunk.

const MODEL = "llama3.2:1b";
let server: OllamaServer;
let model: OllamaModel;

beforeAll(async () => {
  server = await startOllamaServer({ models: [MODEL] });
  model = new OllamaModel({ name: "llama", modelPath: MODEL, host: server.host });
});
afterAll(async () => {
  await model.cleanup();
  await server.close();
});

const tools = [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];

describe("OllamaModel streams carry their request's warnings", () => {
  it("toolChoice it cannot honour: the same warning as generate, known by the first chunk and on the finish chunk", async () => {
    const request: GenerateRequest = {
      messages: [{ role: "user", content: "weather?" }],
      tools,
      toolChoice: "required",
    };
    const generated = await model.generate(request);
    expect(generated.warnings).toEqual([expect.stringContaining("cannot force a tool call")]);

    const stream = model.stream(request);
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(stream.warnings).toEqual(generated.warnings);
    let finish: StreamChunk | undefined;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) finish = next.value;
    expect(finish).toMatchObject({ type: "finish", warnings: generated.warnings });
  });

  it("a request it takes as it is: no warnings", async () => {
    const stream = model.stream({ messages: [{ role: "user", content: "hi" }] });
    let finish: StreamChunk | undefined;
    for await (const chunk of stream) finish = chunk;
    expect(finish?.type).toBe("finish");
    expect(finish).not.toHaveProperty("warnings");
    expect(stream.warnings).toEqual([]);
  });
});
