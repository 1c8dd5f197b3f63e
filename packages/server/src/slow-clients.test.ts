import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "./contract";
import { type Gateway, ask, startGateway } from "./test/gateway";

// A client that trickles its request holds a connection and the body buffered so far: the server
// gives it `receiveTimeoutMs` to send the whole request, then answers 408 and closes.
let gw: Gateway;
const records: RequestRecord[] = [];
beforeAll(async () => {
  gw = await startGateway({
    server: { receiveTimeoutMs: 1_000, observers: [{ onRequest: (record) => records.push(record) }] },
  });
});
afterAll(async () => {
  await gw.close();
});

/**
 * Writes `first` on a raw connection and, once an answer to it has begun (when given), `then` —
 * and nothing more; resolves with all it reads until the server closes it.
 */
function rawExchange(first: string, then?: string, at = gw.url): Promise<{ answer: string; afterMs: number }> {
  const url = new URL(at);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = "";
    let next = then;
    socket.on("data", (d) => {
      answer += d.toString();
      if (next !== undefined && /\r\n\r\n[\s\S]*ok/.test(answer)) {
        socket.write(next);
        next = undefined;
      }
    });
    socket.on("close", () => resolve({ answer, afterMs: performance.now() - started }));
    socket.on("error", reject);
    socket.write(first);
  });
}

const HEALTH = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
const STALLED = JSON.stringify({ model: "gpt-4o-mini", messages: ask("hello") });
/** A request whose body stops after 10 of its bytes. */
const STALLED_BODY = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${STALLED.length}\r\n\r\n${STALLED.slice(0, 10)}`;

describe("slow and oversized requests", () => {
  it("a body that stops arriving → 408 and the connection closed within the bound; the server keeps serving", async () => {
    const { answer, afterMs } = await rawExchange(STALLED_BODY);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeGreaterThanOrEqual(900);
    expect(afterMs).toBeLessThan(3_500);
    const ok = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("still here") });
    expect(ok.choices[0]?.message.content).toBe("Echo: still here");
    // Observers and /metrics see what the client got.
    expect(records.some((r) => r.status === 408 && r.errorCode === "request_timeout")).toBe(true);
  });

  it("on a reused keep-alive connection too (an SDK's or a load balancer's): 408 after the first answer, not a bare close", async () => {
    const { answer } = await rawExchange(HEALTH, STALLED_BODY);
    expect(answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 408 /);
    const garbage = await rawExchange(HEALTH, "NOT HTTP AT ALL\r\n\r\n");
    expect(garbage.answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 400 /);
  });

  it("headers that never end → 408 too", async () => {
    const { answer, afterMs } = await rawExchange("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-slow: ");
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeLessThan(3_500);
  });

  it("headers over Node's limit → 431, not a generic 400", async () => {
    const { answer } = await rawExchange(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
  });

  it("an answer that takes longer than the bound is not cut: it bounds receiving the request only", async () => {
    gw.openaiUpstream.enqueueFault({ type: "latency", ms: 1_600 });
    const stream = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("slow answer"),
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Echo: slow answer");
  });

  it("refuses a bound that is not a positive number of milliseconds", async () => {
    const { createServer } = await import("./server");
    for (const receiveTimeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32 + 1_000])
      expect(() => createServer({ orchestrator: { registry: gw.registry }, receiveTimeoutMs })).toThrow(
        /receiveTimeoutMs must be a positive number of milliseconds up to 2147483647/,
      );
  });

  it("while the server drains, the bound still holds: a trickling client gets 408 and does not hold close() to its deadline", async () => {
    const { createServer } = await import("./server");
    const draining = createServer({
      orchestrator: { registry: gw.registry },
      port: 0,
      receiveTimeoutMs: 1_000,
      drainTimeoutMs: 10_000,
    });
    const exchange = rawExchange(STALLED_BODY, undefined, await draining.listen());
    await new Promise((wait) => setTimeout(wait, 200));
    const started = performance.now();
    await draining.close();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect((await exchange).answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});
