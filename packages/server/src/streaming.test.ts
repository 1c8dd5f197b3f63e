import { afterEach, describe, expect, it } from "vitest";
import type { Admission, AdmissionOutcome, Gatekeeper } from "./contract";
import { type Gateway, ask, rawPost, startGateway, until } from "./test/gateway";

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
async function gateway(...args: Parameters<typeof startGateway>): Promise<Gateway> {
  const g = await startGateway(...args);
  gateways.push(g);
  return g;
}

/** A key gate that lets everyone in and remembers how each admission was settled. */
function recordingGate(): Gatekeeper & { settled: AdmissionOutcome[] } {
  const settled: AdmissionOutcome[] = [];
  return {
    settled,
    authenticate: async () => ({ keyId: "k1", keyName: "test" }),
    admit: async (): Promise<Admission> => ({
      settle: async (outcome) => {
        settled.push(outcome);
      },
    }),
  };
}

describe("POST /v1/chat/completions, streamed", () => {
  it("streams the answer as chat.completion.chunk events ending in [DONE], with the usage chunk when asked and the answer headers", async () => {
    const gw = await gateway({ upstream: { reply: () => ({ text: "one two three four five" }) } });
    const { data: stream, response } = await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("count"), stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("x-orchestrator-model")).toBe("gpt-4o-mini");
    expect(response.headers.get("x-orchestrator-selection-id")).toMatch(/.+/);
    let text = "";
    let usage: unknown;
    let finish: string | null | undefined;
    const models = new Set<string>();
    for await (const chunk of stream) {
      models.add(chunk.model);
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("one two three four five");
    expect(finish).toBe("stop");
    expect([...models]).toEqual(["gpt-4o-mini"]);
    expect(usage).toMatchObject({ completion_tokens: expect.any(Number), prompt_tokens: expect.any(Number) });

    // Cost and cache state are known at the end: HTTP trailers.
    const raw = await rawPost(gw.url, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: ask("again"),
      stream: true,
    });
    expect(raw.status).toBe(200);
    expect(raw.text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(raw.trailers["x-orchestrator-cache"]).toBe("miss");
    expect(Number(raw.trailers["x-orchestrator-cost-usd"])).toBeGreaterThan(0);
    // The same in the last chunk, for clients that do not read trailers.
    const events = raw.text.split("\n\n").filter((e) => e.startsWith("data: {"));
    const last = JSON.parse((events.at(-1) as string).slice(6)) as { orchestrator?: unknown };
    expect(last.orchestrator).toEqual({ cost_usd: Number(raw.trailers["x-orchestrator-cost-usd"]), cache: "miss" });
  });

  it("streams tool calls (name, then arguments) with finish_reason tool_calls", async () => {
    const gw = await gateway({
      upstream: { reply: () => ({ toolCalls: [{ name: "lookup", arguments: { q: "orchestrator" } }] }) },
    });
    const stream = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("look it up"),
      stream: true,
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
    });
    let name = "";
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      name += call?.function?.name ?? "";
      args += call?.function?.arguments ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(name).toBe("lookup");
    expect(JSON.parse(args)).toEqual({ q: "orchestrator" });
    expect(finish).toBe("tool_calls");
  });

  it("a stream cut after its first chunk ends with an error event, never [DONE]", async () => {
    const gw = await gateway({ upstream: { reply: () => ({ text: "alpha beta gamma delta epsilon zeta" }) } });
    gw.openaiUpstream.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const raw = await rawPost(gw.url, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: ask("x"),
      stream: true,
    });
    expect(raw.status).toBe(200);
    expect(raw.text).not.toContain("[DONE]");
    const last = raw.text.trim().split("\n\n").at(-1) ?? "";
    const event = JSON.parse(last.slice("data: ".length)) as { error: { type: string; code: string } };
    expect(event.error.type).toBe("api_error");

    // The OpenAI SDK surfaces that event as an error, not as a short answer.
    gw.openaiUpstream.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const stream = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("x"), stream: true });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(text.length).toBeGreaterThan(0);
  });

  it("a failure before the first chunk falls over to the model's configured fallback, or is an error answer with its status", async () => {
    const gw = await gateway({ registry: { fallbacks: { "gpt-4o-mini": ["claude-sonnet-4-6"] } } });
    // Both rate limited (the model and its fallback): a 429 here, with Retry-After.
    gw.openaiUpstream.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 7 });
    gw.anthropicUpstream.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 7 });
    const raw = await rawPost(gw.url, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: ask("x"),
      stream: true,
    });
    expect(raw.status).toBe(429);
    expect(raw.headers["retry-after"]).toBe("7");
    expect(JSON.parse(raw.text).error.type).toBe("rate_limit_error");
    // A 500 is retryable: the registry falls back to the model's configured fallback before anything was sent.
    gw.openaiUpstream.enqueueFault({ type: "status", status: 500 });
    const { data: stream, response } = await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("fall over"), stream: true })
      .withResponse();
    let text = "";
    const models = new Set<string>();
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      models.add(chunk.model);
    }
    expect(text).toBe("Echo: fall over");
    expect(response.headers.get("x-orchestrator-model")).toBe("claude-sonnet-4-6");
    expect([...models]).toEqual(["claude-sonnet-4-6"]);
  });

  it("a client that disconnects mid-stream aborts the upstream call (no request or socket left behind) and the admission is settled with the cost so far", async () => {
    const gate = recordingGate();
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const gw = await gateway({
      server: { gatekeeper: gate },
      upstream: { reply: () => ({ text: words }), chunkDelayMs: 20 },
    });
    // Three clients in a row leave after 5 chunks of a 200-chunk answer (4 s upstream).
    for (let round = 1; round <= 3; round++) {
      const controller = new AbortController();
      const stream = await gw.client.chat.completions.create(
        { model: "gpt-4o-mini", messages: ask("long"), stream: true },
        { signal: controller.signal },
      );
      let chunks = 0;
      await (async () => {
        for await (const _ of stream) if (++chunks === 5) controller.abort();
      })().catch(() => undefined);
      await until(() => gw.openaiUpstream.activeRequests === 0, "the upstream request to end", 2_000);
      await until(() => gate.settled.length === round, "the admission to be settled", 2_000);
    }
    // Every aborted call's upstream socket closes (its close reaches the upstream a moment after the
    // abort). Node's fetch may have opened a spare connection meanwhile, unused and pooled.
    await until(() => gw.openaiUpstream.usedConnections === 0, "the aborted upstream sockets to close", 2_000);
    expect(gw.openaiUpstream.stats.successes).toBe(0);
    for (const outcome of gate.settled) {
      expect(outcome.model).toBe("gpt-4o-mini");
      expect(outcome.outputTokens).toBeGreaterThan(0);
      expect(outcome.costUsd).toBeGreaterThan(0);
    }
  });

  it("past the request deadline the answer is a 504", async () => {
    const gw = await gateway({ server: { requestTimeoutMs: 150 } });
    gw.openaiUpstream.enqueueFault({ type: "latency", ms: 3_000 });
    const error = (await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("slow") })
      .catch((e: unknown) => e)) as { status: number; error: { type: string } };
    expect(error.status).toBe(504);
    expect(error.error.type).toBe("timeout_error");
  });
});
