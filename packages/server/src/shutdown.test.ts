import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "./test/gateway";

const WORDS = Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ");

async function readStream(gw: Gateway): Promise<{ text: string; error: unknown }> {
  const stream = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("long"), stream: true });
  let text = "";
  let error: unknown;
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  } catch (e) {
    error = e;
  }
  return { text, error };
}

describe("close(): drain, then stop", () => {
  it("lets a stream in flight finish, refuses new connections meanwhile, and closes the orchestrator it owns", async () => {
    let closedOrchestrator = 0;
    const gw = await startGateway({ upstream: { reply: () => ({ text: WORDS }), chunkDelayMs: 5 } });
    const { createServer } = await import("./server");
    const server = createServer({
      orchestrator: { registry: gw.registry, close: async () => void closedOrchestrator++ },
      ownsOrchestrator: true,
      port: 0,
    });
    const url = await server.listen();
    try {
      const client = new (await import("openai")).default({ apiKey: "x", baseURL: `${url}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: ask("long"),
        stream: true,
      });
      let text = "";
      let closing: Promise<void> | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        if (!closing) {
          closing = server.close();
          await new Promise((r) => setTimeout(r, 20));
          await expect(fetch(`${url}/healthz`)).rejects.toThrow();
        }
      }
      await closing;
      expect(text).toBe(WORDS);
      expect(closedOrchestrator).toBe(1);
    } finally {
      await server.close();
      await gw.close();
    }
  });

  it("past drainTimeoutMs what is still in flight is cut (an error event, never [DONE]) and the upstream call aborted", async () => {
    const gw = await startGateway({
      upstream: { reply: () => ({ text: WORDS }), chunkDelayMs: 50 },
      server: { drainTimeoutMs: 200 },
    });
    try {
      const reading = readStream(gw);
      while (gw.openaiUpstream.activeRequests === 0) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 120));
      const started = performance.now();
      await gw.server.close();
      expect(performance.now() - started).toBeLessThan(2_000);
      const { text, error } = await reading;
      // An error event the SDK reads (not a connection cut at the transport), saying why.
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as Error).message).toMatch(/shutting down/);
      expect(text.length).toBeLessThan(WORDS.length);
      while (gw.openaiUpstream.activeRequests > 0) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await gw.close();
    }
  });
});
