import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "./test/gateway";

// A client that trickles its request holds a connection and the body buffered so far: the server
// gives it `receiveTimeoutMs` to send the whole request, then answers 408 and closes.
let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway({ server: { receiveTimeoutMs: 1_000 } });
});
afterAll(async () => {
  await gw.close();
});

/** Writes `text` on a raw connection (and nothing more) and resolves with all it reads until the server closes it. */
function rawExchange(text: string): Promise<{ answer: string; afterMs: number }> {
  const url = new URL(gw.url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = "";
    socket.on("data", (d) => {
      answer += d.toString();
    });
    socket.on("close", () => resolve({ answer, afterMs: performance.now() - started }));
    socket.on("error", reject);
    socket.write(text);
  });
}

describe("slow and oversized requests", () => {
  it("a body that stops arriving → 408 and the connection closed within the bound; the server keeps serving", async () => {
    const body = JSON.stringify({ model: "gpt-4o-mini", messages: ask("hello") });
    const { answer, afterMs } = await rawExchange(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeGreaterThanOrEqual(900);
    expect(afterMs).toBeLessThan(3_500);
    const ok = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("still here") });
    expect(ok.choices[0]?.message.content).toBe("Echo: still here");
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
    expect(() => createServer({ orchestrator: { registry: gw.registry }, receiveTimeoutMs: 0 })).toThrow(
      /receiveTimeoutMs must be a positive number/,
    );
  });
});
