import { ModelCache } from "@orchestrator-ts/cache";
import type { GenerateRequest } from "@orchestrator-ts/core";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CostBasedSelector } from "./cost-performance-selectors";
import { ModelRegistry } from "./registry";
import { CascadeRoute } from "./routes/index";
import type { ModelRegistryOptions } from "./index";
import type { RegistryStream, RegistryStreamChunk } from "./types";

// A model's warnings on a registry stream, through the real `openai` SDK against loopback servers:
// gpt-4o-mini is no reasoning model, so a request's `reasoning` is left out with a warning.

const REASONING_LEFT_OUT = /reasoning is not supported by gpt-4o-mini/;
const asking = (content: string): GenerateRequest => ({
  messages: [{ role: "user", content }],
  reasoning: { effort: "low" },
});

describe("registry.stream: the answering model's warnings", () => {
  let serverA: OpenAIServer;
  let serverB: OpenAIServer;
  const registries: ModelRegistry[] = [];
  beforeAll(async () => {
    [serverA, serverB] = await Promise.all([startOpenAIServer(), startOpenAIServer()]);
  });
  afterAll(async () => {
    await Promise.all(registries.map((r) => r.cleanup()));
    await Promise.all([serverA.close(), serverB.close()]);
  });
  beforeEach(() => {
    for (const s of [serverA, serverB]) {
      s.clearFaults();
      s.setReply(undefined);
      s.requests.length = 0;
    }
  });

  /** "a" (cheaper, tried first) and "b", on their own servers; each an OpenAI API model id. */
  function setup(modelA: string, modelB: string, options: ModelRegistryOptions = {}) {
    const registry = new ModelRegistry({
      modelSelector: new CostBasedSelector(),
      maxRetries: 0,
      maxFallbacks: 1,
      backoff: { initialMs: 1, maxMs: 5 },
      ...options,
    });
    registry.registerModel(
      new OpenAIModel({
        name: "a",
        model: modelA,
        baseURL: serverA.baseURL,
        capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 },
      }),
    );
    registry.registerModel(
      new OpenAIModel({
        name: "b",
        model: modelB,
        baseURL: serverB.baseURL,
        capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 1e-6 },
      }),
    );
    registries.push(registry);
    return registry;
  }

  /** The stream's warnings when its first chunk arrived, its chunks, and its finish chunk. */
  async function consume(stream: RegistryStream) {
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    const atFirstChunk = [...stream.warnings];
    const chunks: RegistryStreamChunk[] = first.done ? [] : [first.value];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) chunks.push(next.value);
    const finish = chunks.find((c) => c.type === "finish") as Extract<RegistryStreamChunk, { type: "finish" }>;
    return { atFirstChunk, chunks, finish };
  }

  it("a warning of the request's mapping is on the stream by the first chunk and on the finish chunk, as generate has it", async () => {
    const registry = setup("gpt-4o-mini", "gpt-4o-mini");
    const generated = await registry.generate(asking("warn me"));
    expect(generated.warnings).toEqual([expect.stringMatching(REASONING_LEFT_OUT)]);

    const stream = registry.stream(asking("warn me"));
    const { atFirstChunk, chunks, finish } = await consume(stream);
    expect(chunks[0]?.type).toBe("text");
    expect(atFirstChunk).toEqual(generated.warnings);
    expect(finish).toMatchObject({ model: "a", selectionId: stream.selectionId, warnings: generated.warnings });
    expect(stream.warnings).toEqual(generated.warnings);
    // The field really was left out of what the server got.
    expect(serverA.requests.at(-1)?.body).not.toHaveProperty("reasoning_effort");
  });

  it("a request the model takes as it is has no warnings: an empty list, none on the finish chunk", async () => {
    const registry = setup("gpt-4o-mini", "gpt-4o-mini");
    const stream = registry.stream({ messages: [{ role: "user", content: "plain" }] });
    const { atFirstChunk, finish } = await consume(stream);
    expect(atFirstChunk).toEqual([]);
    expect(finish).not.toHaveProperty("warnings");
    expect(stream.warnings).toEqual([]);
  });

  it("a failed attempt's warnings do not follow the fallback that answers", async () => {
    // "a" (no reasoning model: it warns) fails before its first chunk; "b" (a reasoning model) takes the request as it is.
    const registry = setup("gpt-4o-mini", "gpt-5-mini");
    serverA.enqueueFault({ type: "status", status: 503 });
    const stream = registry.stream(asking("fall back"));
    const { atFirstChunk, finish } = await consume(stream);
    expect(stream.attempts.map((a) => a.model)).toEqual(["a", "b"]);
    expect(finish.model).toBe("b");
    expect(serverB.requests.at(-1)?.body).toMatchObject({ reasoning_effort: "low" });
    expect(atFirstChunk).toEqual([]);
    expect(finish).not.toHaveProperty("warnings");
    expect(stream.warnings).toEqual([]);
  });

  it("a fallback that warns brings its own warnings", async () => {
    const registry = setup("gpt-5-mini", "gpt-4o-mini");
    serverA.enqueueFault({ type: "status", status: 503 });
    const stream = registry.stream(asking("fall back to a warning"));
    const { atFirstChunk, finish } = await consume(stream);
    expect(finish.model).toBe("b");
    expect(atFirstChunk).toEqual([expect.stringMatching(REASONING_LEFT_OUT)]);
    expect(finish.warnings).toEqual(atFirstChunk);
  });

  it("with a registry cache: a miss has the model's warnings by the first chunk; a hit, answered without the model, those of the stored answer", async () => {
    const registry = setup("gpt-4o-mini", "gpt-4o-mini", { cache: new ModelCache({ backend: "memory" }) });
    const miss = registry.stream(asking("cache me"));
    const first = await consume(miss);
    expect(first.finish.cached).toBe(false);
    expect(first.atFirstChunk).toEqual([expect.stringMatching(REASONING_LEFT_OUT)]);
    const hit = registry.stream(asking("cache me"));
    const again = await consume(hit);
    expect(again.finish.cached).toBe(true);
    // The stored answer was made without the reasoning asked for: the hit says so, as the miss did.
    expect(again.atFirstChunk).toEqual(first.atFirstChunk);
    expect(hit.warnings).toEqual(first.atFirstChunk);
    expect(again.finish.warnings).toEqual(first.atFirstChunk);
  });

  it("a cascade route: a replayed answer brings its model's warnings; a live final stage, its own by the first chunk", async () => {
    const registry = setup("gpt-4o-mini", "gpt-4o-mini");
    registry.registerModel(new OpenAIModel({ name: "final", model: "gpt-4o-mini", baseURL: serverA.baseURL }));
    registry.addRoute(
      new CascadeRoute({
        name: "check",
        stages: [{ models: ["a", "b"], parallel: true }, { models: ["final"] }],
        extract: (text) => text,
        accept: "unanimous",
      }),
    );
    // The stage agrees (both echo): its answer is replayed.
    const replayed = registry.stream({ ...asking("agree"), route: "check" });
    const agreed = await consume(replayed);
    expect(replayed.cascade?.escalated).toBe(false);
    expect(agreed.atFirstChunk).toEqual([expect.stringMatching(REASONING_LEFT_OUT)]);
    expect(agreed.finish.warnings).toEqual(agreed.atFirstChunk);
    // "b" disagrees: the final stage streams live.
    serverB.setReply(() => ({ text: "something else" }));
    const live = registry.stream({ ...asking("disagree"), route: "check" });
    const escalated = await consume(live);
    expect(live.cascade?.escalated).toBe(true);
    expect(escalated.finish.model).toBe("final");
    expect(escalated.atFirstChunk).toEqual([expect.stringMatching(REASONING_LEFT_OUT)]);
    expect(escalated.finish.warnings).toEqual(escalated.atFirstChunk);
  });
});
