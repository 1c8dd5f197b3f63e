import { OrchestratorError, ProviderError } from "@orchestrator-ts/core";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { type Fault, type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CostBasedSelector } from "./cost-performance-selectors";
import type { RegistryStreamChunk } from "./types";
import { ModelRegistry } from "./registry";
import { ask } from "./test-helpers";

const PROMPT = "tell me a story about caches";
const FULL = `Echo: ${PROMPT}`;

/** Streams through the registry with the real `openai` SDK against loopback servers that cut streams. */
describe("stream faults through the registry, over the wire", () => {
  let serverA: OpenAIServer;
  let serverB: OpenAIServer;
  beforeAll(async () => {
    [serverA, serverB] = await Promise.all([
      startOpenAIServer({ apiKey: "sk-a" }),
      startOpenAIServer({ apiKey: "sk-b" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([serverA.close(), serverB.close()]);
  });
  beforeEach(() => {
    for (const s of [serverA, serverB]) {
      s.clearFaults();
      s.resetStats();
    }
  });

  function setup() {
    const registry = new ModelRegistry({
      modelSelector: new CostBasedSelector(),
      maxRetries: 0,
      maxFallbacks: 1,
      backoff: { initialMs: 1, maxMs: 5 },
    });
    registry.registerModel(
      new OpenAIModel({
        name: "a",
        model: "gpt-4o-mini",
        apiKey: "sk-a",
        baseURL: serverA.baseURL,
        capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 },
      }),
    );
    registry.registerModel(
      new OpenAIModel({
        name: "b",
        model: "gpt-4o-mini",
        apiKey: "sk-b",
        baseURL: serverB.baseURL,
        capabilities: { inputCostPerToken: 1e-6, outputCostPerToken: 1e-6 },
      }),
    );
    return registry;
  }

  async function consume(registry: ModelRegistry) {
    const stream = registry.stream(ask(PROMPT));
    const chunks: RegistryStreamChunk[] = [];
    let text = "";
    let error: unknown;
    try {
      for await (const chunk of stream) {
        chunks.push(chunk);
        if (chunk.type === "text") text += chunk.text;
      }
    } catch (e) {
      error = e;
    }
    const finish = chunks.find((c) => c.type === "finish");
    return {
      stream,
      text,
      error,
      finish,
      attempts: stream.attempts.map((a) => `${a.model}${a.success ? "" : `✗${a.next}`}`).join(" "),
    };
  }

  const before: [string, Fault][] = [
    ["ended cleanly after the role frame, before any text", { type: "cut-stream", afterChunks: 1, mode: "end" }],
    ["reset before any frame", { type: "cut-stream", afterChunks: 0, mode: "destroy" }],
    ["dropped before the response", { type: "drop" }],
    ["answered 503", { type: "status", status: 503 }],
  ];
  it.each(before)("a stream %s fails over to the other model transparently", async (_, fault) => {
    const registry = setup();
    serverA.enqueueFault(fault);
    const r = await consume(registry);
    expect(r.error).toBeUndefined();
    expect(r.text).toBe(FULL);
    expect(r.attempts).toBe("a✗fallback b");
    expect(r.finish).toMatchObject({
      type: "finish",
      model: "b",
      selectionId: r.stream.selectionId,
      finishReason: { unified: "stop" },
    });
    expect(serverA.stats.requests + serverB.stats.requests).toBe(2);
  });

  const after: [string, Fault][] = [
    ["ended cleanly without [DONE]", { type: "cut-stream", afterChunks: 3, mode: "end" }],
    ["reset by the server", { type: "cut-stream", afterChunks: 3, mode: "destroy" }],
    ["sent a garbage frame", { type: "malformed-chunk", afterChunks: 3 }],
  ];
  it.each(after)(
    "a stream %s after the first chunk rejects with a typed error; the partial text never looks complete",
    async (_, fault) => {
      const registry = setup();
      serverA.enqueueFault(fault);
      // (The SDK itself logs a garbage frame to stderr before it throws.)
      const r = await consume(registry);
      // Some text reached the caller, then the iteration rejected: no finish chunk, no silent end.
      expect(r.text.length).toBeGreaterThan(0);
      expect(r.text).not.toBe(FULL);
      expect(FULL.startsWith(r.text)).toBe(true);
      expect(r.finish).toBeUndefined();
      expect(OrchestratorError.isInstance(r.error)).toBe(true);
      expect(ProviderError.isInstance(r.error)).toBe(true);
      expect((r.error as ProviderError).retryable).toBe(true);
      // Another model cannot continue an answer the caller already has part of: no fallback.
      expect(r.attempts).toBe("a✗throw");
      expect(serverB.stats.requests).toBe(0);
      const statsA = registry.getStatistics().models.find((m) => m.model === "a");
      expect([statsA?.trials, statsA?.failures]).toEqual([1, 1]);
    },
  );

  it("an intact stream is passed through whole, with a finish chunk that names the selection", async () => {
    const r = await consume(setup());
    expect(r.error).toBeUndefined();
    expect(r.text).toBe(FULL);
    expect(r.attempts).toBe("a");
    expect(r.finish).toMatchObject({ type: "finish", model: "a", usage: { inputTokens: 6, outputTokens: 7 } });
  });
});
