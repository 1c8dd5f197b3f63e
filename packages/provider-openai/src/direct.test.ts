import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { OrchestratorError, ProviderError, type StreamChunk } from "@orchestrator-ts/core";
import {
  type Fault,
  collectAll,
  freePort,
  type OpenAIServer,
  rejectionOf,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DONE_GRACE_MS } from "@orchestrator-ts/openai-format";
import { MAX_ERROR_BODY_BYTES } from "./direct";
import { OpenAIModel, type OpenAIModelOptions } from "./openai-model";

// Chat requests go out without the openai SDK's request machinery when nothing it adds is asked
// for (no fetch of the user's, no SDK retries). Whatever path a request takes, a user must see the
// same thing: what the server receives, and every error the SDK path would give.
const KEY = "sk-test-direct-0123456789abcdef";
let server: OpenAIServer;
const made: OpenAIModel[] = [];

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await Promise.all(made.map((m) => m.cleanup()));
  await server.close();
});
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
});

function model(options: Partial<OpenAIModelOptions> = {}): OpenAIModel {
  const m = new OpenAIModel({ name: "gpt-4o-mini", apiKey: KEY, baseURL: server.baseURL, ...options });
  made.push(m);
  return m;
}
// The same model whose every request goes through the SDK: a fetch of the caller's own.
const throughSdk = (options: Partial<OpenAIModelOptions> = {}) => model({ ...options, fetch: globalThis.fetch });
const ask = (content: string) => ({ messages: [{ role: "user" as const, content }] });

/** A server that answers every request with an event stream, written by `answer`. */
function sseServer(answer: (res: import("node:http").ServerResponse) => void) {
  return createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    answer(res);
  });
}
async function listening(server: import("node:http").Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}
/** "Hello there" in two chunks, the finish reason, then [DONE]. */
function chatEvents(): string {
  const event = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return `${event({ role: "assistant", content: "Hello" })}${event({ content: " there" })}${event({}, "stop")}data: [DONE]\n\n`;
}
const textOf = (chunks: StreamChunk[]) => chunks.map((c) => (c.type === "text" ? c.text : "")).join("");

describe("OpenAIModel: chat requests without the SDK's request machinery", () => {
  it("sends what the SDK sends (key, organization, project, the model's headers, JSON) — and not through the SDK", async () => {
    const options = { organization: "org-direct", project: "proj-direct", defaultHeaders: { "X-Team": "search" } };
    const direct = await model(options).generate(ask("hello"));
    const sent = server.requests.at(-1);
    const viaSdk = await throughSdk(options).generate(ask("hello"));
    const sdkSent = server.requests.at(-1);
    expect(direct.text).toBe(viaSdk.text);
    expect(direct.usage).toEqual(viaSdk.usage);
    for (const name of ["authorization", "openai-organization", "openai-project", "x-team", "content-type", "accept"])
      expect([name, sent?.headers[name]]).toEqual([name, sdkSent?.headers[name]]);
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.body).toEqual(sdkSent?.body);
    // The SDK marks every request it sends; these were not its.
    expect(sdkSent?.headers["x-stainless-retry-count"]).toBe("0");
    expect(sent?.headers["x-stainless-retry-count"]).toBeUndefined();
    // With the SDK's own retries asked for, requests go through it.
    await model({ maxRetries: 1 }).generate(ask("hello"));
    expect(server.requests.at(-1)?.headers["x-stainless-retry-count"]).toBe("0");
  });

  it("streams the same chunks as through the SDK", async () => {
    const direct = await collectAll(model().stream(ask("count to five please")));
    const viaSdk = await collectAll(throughSdk().stream(ask("count to five please")));
    const shape = (chunks: typeof direct) =>
      chunks.map((c) => (c.type === "finish" ? { ...c, latencyMs: 0, timeToFirstChunkMs: 0, responseId: "" } : c));
    expect(shape(direct)).toEqual(shape(viaSdk));
    expect(server.requests.at(-2)?.body).toEqual(server.requests.at(-1)?.body);
  });

  it("fails exactly as through the SDK: every status, a dropped connection, a cut or garbled stream", async () => {
    const faults: Fault[] = [
      { type: "status", status: 429, retryAfterMs: 1_250 },
      { type: "status", status: 400, message: "bad field messages[0]" },
      { type: "status", status: 401 },
      { type: "status", status: 403 },
      { type: "status", status: 404 },
      { type: "status", status: 500, headers: { "x-request-id": "req_direct_1" } },
      { type: "status", status: 503, body: "upstream unavailable (not JSON)" },
      { type: "context-length" },
      { type: "drop" },
      { type: "cut-stream", afterChunks: 2, mode: "destroy" },
      { type: "malformed-chunk", afterChunks: 1 },
    ];
    const seen = (error: unknown) => {
      const e = error as OrchestratorError & { retryAfterMs?: number; status?: number };
      return {
        class: e.constructor.name,
        code: e.code,
        message: e.message,
        retryable: e.retryable,
        retryAfterMs: e.retryAfterMs,
        status: e.status,
      };
    };
    for (const fault of faults) {
      for (const call of ["generate", "stream"] as const) {
        const outcome = async (m: OpenAIModel) => {
          server.enqueueFault(fault);
          const error = await rejectionOf(
            call === "generate" ? m.generate(ask("x")) : collectAll(m.stream(ask("a few words"))),
          );
          expect(OrchestratorError.isInstance(error), `${fault.type} ${call}: ${inspect(error)}`).toBe(true);
          return seen(error);
        };
        expect([fault, call, await outcome(model())]).toEqual([fault, call, await outcome(throughSdk())]);
      }
    }
  });

  it("an unreachable server: the same retryable error as through the SDK", async () => {
    const port = await freePort();
    const baseURL = `http://127.0.0.1:${port}/v1`;
    const direct = await rejectionOf(model({ baseURL }).generate(ask("x")));
    const viaSdk = await rejectionOf(throughSdk({ baseURL }).generate(ask("x")));
    expect((direct as Error).message).toBe((viaSdk as Error).message);
    expect((direct as OrchestratorError).retryable).toBe(true);
  });

  it("reads OPENAI_ORG_ID / OPENAI_PROJECT_ID for OpenAI only, never sending them to a preset's service", async () => {
    const saved = { org: process.env.OPENAI_ORG_ID, project: process.env.OPENAI_PROJECT_ID };
    process.env.OPENAI_ORG_ID = "org-from-env";
    process.env.OPENAI_PROJECT_ID = "proj-from-env";
    try {
      for (const make of [model, throughSdk]) {
        await make().generate(ask("x"));
        expect(server.requests.at(-1)?.headers["openai-organization"]).toBe("org-from-env");
        expect(server.requests.at(-1)?.headers["openai-project"]).toBe("proj-from-env");
        await make({ preset: "groq", apiKey: KEY, baseURL: server.baseURL }).generate(ask("x"));
        expect(server.requests.at(-1)?.headers["openai-organization"]).toBeUndefined();
        expect(server.requests.at(-1)?.headers["openai-project"]).toBeUndefined();
      }
    } finally {
      for (const [name, value] of [
        ["OPENAI_ORG_ID", saved.org],
        ["OPENAI_PROJECT_ID", saved.project],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
  });

  it("a stream ends soon after [DONE] though the server keeps the response open (not at the deadline), and lets its socket go", {
    timeout: 20_000,
  }, async () => {
    const sockets = new Set<import("node:net").Socket>();
    const lingering = sseServer((res) => {
      res.write(chatEvents());
      // …and the response is never ended.
    });
    lingering.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    const baseURL = await listening(lingering);
    try {
      for (const m of [model({ baseURL, timeoutMs: 20_000 }), throughSdk({ baseURL, timeoutMs: 20_000 })]) {
        const started = performance.now();
        const chunks = await collectAll(m.stream(ask("hi")));
        expect(performance.now() - started).toBeLessThan(DONE_GRACE_MS + 3_000);
        expect(textOf(chunks)).toBe("Hello there");
        expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: { unified: "stop" } });
      }
      // Not one socket per stream held open for good: the body was cancelled.
      await expect.poll(() => sockets.size, { timeout: 5_000 }).toBe(0);
    } finally {
      lingering.closeAllConnections();
      await new Promise<void>((done) => lingering.close(() => done()));
    }
  });

  it("a stream whose body ends a little after [DONE] keeps its connection for the next request", async () => {
    let connections = 0;
    const late = sseServer((res) => {
      res.write(chatEvents());
      setTimeout(() => res.end(), 20);
    });
    late.on("connection", () => connections++);
    const baseURL = await listening(late);
    try {
      const m = model({ baseURL });
      for (let i = 0; i < 10; i++) expect(textOf(await collectAll(m.stream(ask("hi"))))).toBe("Hello there");
      // Done only once the body has ended: the connection is free for the next request, not one per
      // stream. (undici frees it just after the body's end, so the second request may open a second
      // one, as before [DONE] ended streams; from then on the two take turns.)
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      late.closeAllConnections();
      await new Promise<void>((done) => late.close(() => done()));
    }
  });

  it("an error response whose body never ends → the status's error at once, its message bounded (never read without end)", async () => {
    let written = 0;
    const endless = createServer((req, res) => {
      req.resume();
      res.writeHead(500, { "content-type": "text/html" });
      const more = () => {
        if (res.destroyed) return;
        written += 16_384;
        if (res.write("<p>".padEnd(16_384, "x"))) setImmediate(more);
        else res.once("drain", more);
      };
      more();
    });
    await new Promise<void>((done) => endless.listen(0, "127.0.0.1", done));
    try {
      const baseURL = `http://127.0.0.1:${(endless.address() as AddressInfo).port}/v1`;
      const started = performance.now();
      const error = await rejectionOf(model({ baseURL, timeoutMs: 10_000 }).generate(ask("x")));
      expect(ProviderError.isInstance(error), inspect(error)).toBe(true);
      expect((error as ProviderError & { status?: number }).status).toBe(500);
      expect((error as Error).message.length).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES + 100);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(written).toBeLessThan(64 * MAX_ERROR_BODY_BYTES);
    } finally {
      endless.closeAllConnections();
      await new Promise((done) => endless.close(done));
    }
  });

  it("at the deadline the upstream request is closed at once, also when the caller passed no signal (not a second later)", async () => {
    // A server that takes requests and never answers: each request's connection is seen closing.
    const closed: Promise<number>[] = [];
    const stalled = createServer((req) => {
      req.resume();
      closed.push(new Promise((resolve) => req.socket.once("close", () => resolve(performance.now()))));
    });
    await new Promise<void>((done) => stalled.listen(0, "127.0.0.1", done));
    const baseURL = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/v1`;
    try {
      const m = model({ baseURL, timeoutMs: 300 });
      for (const [i, call] of [
        () => m.generate(ask("no signal")),
        () => collectAll(m.stream(ask("no signal, streamed"))),
        () => m.generate({ ...ask("with a signal"), signal: new AbortController().signal }),
      ].entries()) {
        const error = await rejectionOf(call());
        const failedAt = performance.now();
        expect((error as OrchestratorError).code).toBe("timeout_error");
        expect(closed).toHaveLength(i + 1);
        // Before, a call without a signal was only raced: its request stayed open until undici's
        // own header timeout, a second past the deadline.
        expect(await closed[i]).toBeLessThan(failedAt + 150);
      }
    } finally {
      stalled.closeAllConnections();
      await new Promise((done) => stalled.close(done));
    }
  });

  it("an answer that comes just before the deadline is the answer (undici's coarse header timer never fires first)", async () => {
    // undici's header timer ticks every ~0.5 s while other requests are in flight and may fire early.
    const late = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d;
      });
      req.on("end", () => {
        if (body.includes("background")) return; // in flight all along, as in any busy process
        setTimeout(() => {
          res.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
              id: "chatcmpl-late",
              object: "chat.completion",
              created: 1,
              model: "gpt-4o-mini",
              choices: [{ index: 0, message: { role: "assistant", content: "just in time" }, finish_reason: "stop" }],
            }),
          );
        }, 1_550);
      });
    });
    await new Promise<void>((done) => late.listen(0, "127.0.0.1", done));
    const baseURL = `http://127.0.0.1:${(late.address() as AddressInfo).port}/v1`;
    const m = model({ baseURL, timeoutMs: 1_990 });
    const background = new AbortController();
    const pending = m.generate({ ...ask("background"), timeoutMs: 60_000, signal: background.signal }).catch(() => "");
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          new Promise((wait) => setTimeout(wait, i * 90)).then(() =>
            m.generate(ask("hi")).then(
              (r) => r.text,
              (e: Error) => e.message,
            ),
          ),
        ),
      );
      expect(outcomes).toEqual(Array(6).fill("just in time"));
    } finally {
      background.abort();
      await pending;
      late.closeAllConnections();
      await new Promise((done) => late.close(done));
    }
  });

  it("headers as the SDK makes them: values trimmed (a key file's newline), its JSON content type wins, OPENAI_CUSTOM_HEADERS sent", async () => {
    await model({
      apiKey: `${KEY}\n`,
      defaultHeaders: { "Content-Type": "text/plain", "X-Tab": "\tpadded " },
    }).generate(ask("x"));
    const sent = server.requests.at(-1)?.headers;
    expect(sent?.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.["content-type"]).toBe("application/json");
    expect(sent?.["x-tab"]).toBe("padded");
    process.env.OPENAI_CUSTOM_HEADERS = "X-From-Env: tenant-42";
    try {
      await model().generate(ask("x"));
      expect(server.requests.at(-1)?.headers["x-from-env"]).toBe("tenant-42");
    } finally {
      delete process.env.OPENAI_CUSTOM_HEADERS;
    }
    // A value no header may hold fails as through the SDK (not as a retryable connection failure).
    const bad = { defaultHeaders: { "X-Bad": "two\nlines" } };
    const direct = await rejectionOf(model(bad).generate(ask("x")));
    const viaSdk = await rejectionOf(throughSdk(bad).generate(ask("x")));
    expect([(direct as Error).message, (direct as OrchestratorError).retryable]).toEqual([
      (viaSdk as Error).message,
      (viaSdk as OrchestratorError).retryable,
    ]);
  });
});
