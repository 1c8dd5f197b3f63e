import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { CallControl } from "./call-scope";
import { AbortError, TimeoutError } from "./errors";
import { Model } from "./model";
import type { GenerateRequest, ModelOutput } from "./types";

// A provider written as core's README describes `stopsCallsItself`: its client (fetch) gets
// `request.signal` for the wait for headers, and it registers `control.onStop` once the body is
// open. Without `registersStopFirst` it must keep getting a signal that the caller's abort and
// the deadline fire, or a request still waiting for its headers would stay open upstream.
class ReadmeModel extends Model {
  protected override readonly honoursAbortSignal = true;
  protected override readonly stopsCallsItself = true;
  constructor(readonly url: string) {
    super({ name: "readme-model", provider: "custom", capabilities: {} });
  }
  protected async doGenerate(request: GenerateRequest, control?: CallControl): Promise<ModelOutput> {
    const response = await fetch(this.url, {
      method: "POST",
      body: "{}",
      ...(request.signal ? { signal: request.signal } : {}),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    control?.onStop(() => void reader.cancel());
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    return { text };
  }
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server that never answers; records after how long each request's connection closed. */
async function silentServer(): Promise<{ url: string; closedAfter: number[] }> {
  const closedAfter: number[] = [];
  const server = createServer((req) => {
    const started = performance.now();
    req.resume();
    req.socket.once("close", () => closedAfter.push(performance.now() - started));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, closedAfter };
}

async function settled(count: number, closedAfter: number[]): Promise<void> {
  for (let i = 0; i < 100 && closedAfter.length < count; i++) await new Promise((r) => setTimeout(r, 10));
}

describe("a provider that stops its calls itself and hands request.signal to its client (core's README)", () => {
  it("the caller's abort and the deadline close its request still waiting for headers, not only the call", async () => {
    const { url, closedAfter } = await silentServer();
    const model = new ReadmeModel(url);
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const aborted = await model
      .generate({ messages: [{ role: "user", content: "hi" }], signal: caller.signal, timeoutMs: 30_000 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(AbortError.isInstance(aborted)).toBe(true);
    await settled(1, closedAfter);
    expect(closedAfter).toHaveLength(1);
    expect(closedAfter[0]).toBeLessThan(100 + 400);

    const timedOut = await model
      .generate({ messages: [{ role: "user", content: "hi" }], signal: new AbortController().signal, timeoutMs: 100 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(TimeoutError.isInstance(timedOut)).toBe(true);
    await settled(2, closedAfter);
    expect(closedAfter).toHaveLength(2);
    expect(closedAfter[1]).toBeLessThan(100 + 400);
  });
});
