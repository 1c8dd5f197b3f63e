import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_EVENT_BYTES, ProviderError, fetchWithLineLimit, limitLines } from "./index";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function streamOf(pieces: (string | Uint8Array)[], onCancel?: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[i++];
      if (piece === undefined) controller.close();
      else controller.enqueue(typeof piece === "string" ? encoder.encode(piece) : piece);
    },
    cancel() {
      onCancel?.();
    },
  });
}

async function reads(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(decoder.decode(value));
  }
}

async function failure(stream: ReadableStream<Uint8Array>): Promise<unknown> {
  try {
    await reads(stream);
  } catch (error) {
    return error;
  }
  throw new Error("expected the stream to fail");
}

describe("limitLines", () => {
  it("hands over the same bytes, every read ending at a line end (LF, CR, CRLF split between reads)", async () => {
    const pieces = ['data: {"a"', ":1}\n\nda", "ta: x\r", "\ndata: y\r\r", "event: e\rdata: z\n\n", "tail without end"];
    const out = await reads(limitLines(streamOf(pieces)));
    expect(out.join("")).toBe(pieces.join(""));
    expect(out).toEqual([
      'data: {"a":1}\n\n',
      "data: x\r",
      "\ndata: y\r\r",
      "event: e\rdata: z\n\n",
      "tail without end",
    ]);
  });

  it("passes a read that already ends at a line end through as it is (no copy)", async () => {
    const chunk = encoder.encode("data: 1\n\ndata: 2\n\n");
    const reader = limitLines(streamOf([chunk])).getReader();
    expect((await reader.read()).value).toBe(chunk);
  });

  it("a line past the bound → a non-retryable ProviderError; the source is cancelled, the rest never read", async () => {
    let cancelled = false;
    let pulled = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(120));
      },
      cancel() {
        cancelled = true;
      },
    });
    const error = await failure(limitLines(source, { provider: "ollama", model: "llama" }));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toBe(
      `The provider's stream sent an event larger than ${DEFAULT_MAX_EVENT_BYTES} bytes (maxEventBytes); the stream was cancelled.`,
    );
    expect((error as ProviderError).retryable).toBe(false);
    expect((error as ProviderError).model).toBe("llama");
    expect(cancelled).toBe(true);
    // The source reads one chunk ahead (its default high-water mark).
    expect(pulled).toBeLessThanOrEqual(DEFAULT_MAX_EVENT_BYTES + 2 * 64 * 1024);
  });

  it("SSE: an event of many short lines past the bound fails; events under it, separated by blank lines, pass", async () => {
    const line = `data: ${"y".repeat(90)}\n`;
    expect(await failure(limitLines(streamOf(Array(20).fill(line)), { maxEventBytes: 1_000 }))).toBeInstanceOf(
      ProviderError,
    );
    const ok = Array.from({ length: 40 }, (_, i) => (i % 5 === 4 ? `${line}\n` : line));
    expect((await reads(limitLines(streamOf(ok), { maxEventBytes: 1_000 }))).join("")).toBe(ok.join(""));
  });

  it("NDJSON framing: every line is an event", async () => {
    const line = `{"message":"${"z".repeat(500)}"}\n`;
    const lines = Array(50).fill(line);
    expect((await reads(limitLines(streamOf(lines), { maxEventBytes: 1_000, framing: "lines" }))).join("")).toBe(
      lines.join(""),
    );
    expect(
      await failure(
        limitLines(streamOf([line.repeat(3).replace(/\n/g, "")]), { maxEventBytes: 1_000, framing: "lines" }),
      ),
    ).toBeInstanceOf(ProviderError);
  });

  it("a long line in many small reads takes linear time and arrives as one read", async () => {
    const size = 8 * 1024 * 1024;
    let sent = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > size) return controller.close();
        const piece = new Uint8Array(16 * 1024).fill(120);
        sent += piece.length;
        if (sent > size) piece[piece.length - 1] = 10;
        controller.enqueue(piece);
      },
    });
    const started = performance.now();
    const reader = limitLines(source, { maxEventBytes: 16 * 1024 * 1024 }).getReader();
    const first = await reader.read();
    // ~0.1 s idle; an SDK parser rescanning the line on each read takes ~20 s for this.
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(first.value?.length).toBe(sent);
  });
});

describe("fetchWithLineLimit", () => {
  it("limits streamed answers and leaves JSON bodies and errors alone", async () => {
    const big = "x".repeat(5_000);
    const server = createServer((req, res) => {
      if (req.url === "/json") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ big }));
      else if (req.url === "/error") res.writeHead(500, { "content-type": "text/plain" }).end(big);
      else res.writeHead(200, { "content-type": "text/event-stream" }).end(`data: ${big}\n\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const limited = fetchWithLineLimit(fetch, { maxEventBytes: 1_000 });
      expect(((await (await limited(`${url}/json`)).json()) as { big: string }).big).toBe(big);
      expect(await (await limited(`${url}/error`)).text()).toBe(big);
      const streamed = await limited(`${url}/sse`);
      expect(streamed.url).toBe(`${url}/sse`);
      expect(streamed.headers.get("content-type")).toBe("text/event-stream");
      expect(await streamed.text().catch((error: unknown) => error)).toBeInstanceOf(ProviderError);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
