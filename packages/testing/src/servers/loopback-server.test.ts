import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { errorKindForStatus, type LoopbackHandler, type LoopbackServer } from "./handler";
import { startLoopbackServer } from "./loopback-server";
import { startOpenAIServer } from "./openai-server";

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A minimal third-party protocol: `POST /echo` answers `{ text }` or an NDJSON stream. */
const echoProtocol: LoopbackHandler = {
  protocol: "echo",
  toolCallIdPrefix: "t_",
  mapFinishReason: (reason) => reason,
  renderError: (spec) => ({ status: spec.status, body: { problem: spec.kind, detail: spec.message ?? null } }),
  routes: [
    {
      method: "POST",
      path: "/echo",
      inference: true,
      handle: async (ctx) => {
        const prompt = typeof ctx.body["prompt"] === "string" ? ctx.body["prompt"] : "";
        const reply = await ctx.resolveReply({
          protocol: "echo",
          path: ctx.url.pathname,
          model: "echo",
          messages: [{ role: "user", content: prompt }],
          lastUserText: prompt,
          tools: [],
          stream: ctx.body["stream"] === true,
          maxTokens: undefined,
          jsonMode: false,
          body: ctx.body,
        });
        if (ctx.body["stream"] !== true) {
          await ctx.sendJson(200, { text: reply.text, usage: reply.usage });
          return;
        }
        const frames = reply.chunks.map((c) => `${JSON.stringify({ delta: c })}\n`);
        frames.push(`${JSON.stringify({ done: true })}\n`);
        await ctx.sendStream({
          contentType: "application/x-ndjson",
          frames,
          terminalFrames: 1,
          malformedFrame: "{oops\n",
        });
      },
    },
    { method: "GET", path: "/ping", handle: (ctx) => ctx.sendText(200, "pong") },
  ],
};

async function post(server: LoopbackServer, body: unknown): Promise<Response> {
  return fetch(`${server.url}/echo`, { method: "POST", body: JSON.stringify(body) });
}

describe("startLoopbackServer", () => {
  it("serves a custom protocol and records method, path, headers and parsed body", async () => {
    const server = await startLoopbackServer(echoProtocol);
    servers.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const response = await post(server, { prompt: "one two" });
    expect(await response.json()).toEqual({ text: "Echo: one two", usage: { inputTokens: 2, outputTokens: 3 } });
    const recorded = server.requests[0];
    expect(recorded).toMatchObject({ method: "POST", path: "/echo", body: { prompt: "one two" }, fault: undefined });
    expect(recorded?.headers["content-type"]).toContain("text/plain");
    const missing = await fetch(`${server.url}/nope?x=1`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ problem: "not-found" });
    expect(server.requests[1]).toMatchObject({ path: "/nope", query: "?x=1" });
  });

  it("applies queued faults one per inference request, in order, with null as a normal reply", async () => {
    const server = await startLoopbackServer(echoProtocol);
    servers.push(server);
    server.enqueueFaults([{ type: "status", status: 500 }, null, { type: "status", status: 429, retryAfterMs: 2500 }]);
    expect(server.pendingFaults).toBe(3);
    // Health routes do not consume faults by default.
    expect(await (await fetch(`${server.url}/ping`)).text()).toBe("pong");
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(server, { prompt: "x" })).status);
    expect(statuses).toEqual([500, 200, 429, 200]);
    // retry-after rounds milliseconds up to whole seconds; no retry-after-ms for this protocol.
    server.enqueueFault({ type: "status", status: 429, retryAfterMs: 2500 });
    const limited = await post(server, {});
    expect(limited.headers.get("retry-after")).toBe("3");
    expect(limited.headers.get("retry-after-ms")).toBeNull();
    expect(await limited.json()).toEqual({ problem: "rate-limit", detail: null });
    const stats = server.stats;
    expect(stats.requests).toBe(6);
    expect(stats.inferenceRequests).toBe(5);
    expect(stats.faults.status).toBe(3);
    expect(stats.successes).toBe(3); // ping + two normal replies
  });

  it("a status fault can replace the body and add headers", async () => {
    const server = await startLoopbackServer(echoProtocol);
    servers.push(server);
    server.enqueueFault({
      type: "status",
      status: 418,
      body: { custom: true },
      headers: { "x-should-retry": "false" },
    });
    const response = await post(server, {});
    expect(response.status).toBe(418);
    expect(response.headers.get("x-should-retry")).toBe("false");
    expect(await response.json()).toEqual({ custom: true });
  });

  it("faultTargets all lets faults hit health routes too", async () => {
    const server = await startLoopbackServer(echoProtocol, { faultTargets: "all" });
    servers.push(server);
    server.enqueueFault({ type: "status", status: 503 });
    expect((await fetch(`${server.url}/ping`)).status).toBe(503);
  });

  it("paces streams with chunkDelayMs and applies latencyMs to every response", async () => {
    const server = await startLoopbackServer(echoProtocol, { chunkDelayMs: 30, latencyMs: 40 });
    servers.push(server);
    const started = performance.now();
    const response = await post(server, { prompt: "a b c", stream: true });
    const text = await response.text();
    const elapsed = performance.now() - started;
    expect(text.trim().split("\n")).toHaveLength(5);
    // 40 ms latency + 4 gaps of 30 ms between 5 frames.
    expect(elapsed).toBeGreaterThanOrEqual(150);
  });

  it("cut-stream never sends the terminator, even when afterChunks exceeds the frames", async () => {
    const server = await startLoopbackServer(echoProtocol);
    servers.push(server);
    server.enqueueFault({ type: "cut-stream", afterChunks: 100 });
    const text = await (await post(server, { prompt: "a", stream: true })).text();
    expect(text).not.toContain('"done"');
    expect(text.trim().split("\n")).toHaveLength(2);
    server.enqueueFault({ type: "malformed-chunk", afterChunks: 1 });
    const malformed = await (await post(server, { prompt: "a", stream: true })).text();
    expect(malformed.split("\n")[1]).toBe("{oops");
    expect(malformed).toContain('"done"');
    expect(server.stats.successes).toBe(0);
  });

  it("scripted replies can be swapped at runtime", async () => {
    const server = await startLoopbackServer(echoProtocol, { reply: () => ({ text: "first" }) });
    servers.push(server);
    expect(await (await post(server, {})).json()).toMatchObject({ text: "first" });
    server.setReply(({ lastUserText }) => ({ text: lastUserText.toUpperCase(), usage: null }));
    expect(await (await post(server, { prompt: "loud" })).json()).toEqual({ text: "LOUD", usage: null });
    server.setReply(undefined);
    expect(await (await post(server, { prompt: "x" })).json()).toMatchObject({ text: "Echo: x" });
  });

  it("resetStats zeroes the counters", async () => {
    const server = await startLoopbackServer(echoProtocol);
    servers.push(server);
    await post(server, {});
    server.resetStats();
    expect(server.stats).toMatchObject({ requests: 0, successes: 0, inferenceRequests: 0 });
  });

  it("maps statuses to error kinds", () => {
    expect([429, 401, 403, 404, 529, 503, 500, 502, 400, 422].map(errorKindForStatus)).toEqual([
      "rate-limit",
      "authentication",
      "permission",
      "not-found",
      "overloaded",
      "unavailable",
      "server-error",
      "server-error",
      "bad-request",
      "bad-request",
    ]);
  });

  it("1,000 SDK calls under seeded random faults: every outcome accounted for, reproducibly", async () => {
    const server = await startOpenAIServer();
    servers.push(server);
    const client = new OpenAI({ apiKey: "k", baseURL: server.baseURL, maxRetries: 0 });
    const run = async (seed: number) => {
      server.resetStats();
      server.setFaultRates({ rateLimit: 0.05, serverError: 0.05, drop: 0.03, cutStream: 0.05 }, seed);
      const outcomes: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const stream = i % 2 === 1;
        try {
          if (stream) {
            let text = "";
            let finished = false;
            const chunks = await client.chat.completions.create({
              model: "m",
              messages: [{ role: "user", content: `call ${i}` }],
              stream: true,
            });
            for await (const chunk of chunks) {
              text += chunk.choices[0]?.delta.content ?? "";
              if (chunk.choices[0]?.finish_reason) finished = true;
            }
            outcomes.push(finished && text === `Echo: call ${i}` ? "ok" : "incomplete");
          } else {
            const completion = await client.chat.completions.create({
              model: "m",
              messages: [{ role: "user", content: `call ${i}` }],
            });
            outcomes.push(completion.choices[0]?.message.content === `Echo: call ${i}` ? "ok" : "wrong");
          }
        } catch (error) {
          outcomes.push(error instanceof OpenAI.APIError ? `error:${error.status ?? "connection"}` : "error:other");
        }
      }
      return { outcomes, stats: server.stats };
    };
    const first = await run(7);
    const count = (kind: string) => first.outcomes.filter((o) => o === kind).length;
    expect(first.outcomes).toHaveLength(1000);
    expect(first.outcomes).not.toContain("wrong");
    expect(count("ok")).toBe(first.stats.successes);
    expect(count("error:429")).toBeGreaterThan(20);
    expect(count("error:500")).toBeGreaterThan(20);
    expect(count("error:connection")).toBeGreaterThan(first.stats.faults.drop - 1);
    expect(count("incomplete")).toBeGreaterThan(0);
    const { faults } = first.stats;
    expect(faults.status + faults.drop + faults["cut-stream"] + first.stats.successes).toBe(1000);
    // Same seed, same run.
    const second = await run(7);
    expect(second.outcomes).toEqual(first.outcomes);
    server.clearFaults();
    expect(server.pendingFaults).toBe(0);
  }, 60_000);
});
