// Test helpers. @orchestrator-ts/testing has its own, but it depends on this package: importing it here would make a cycle.
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** What `promise` rejects with; rejects itself (failing the test) when `promise` resolves instead. */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => Promise.reject(new Error(`expected a rejection, got ${String(value)}`)),
    (error: unknown) => error,
  );
}

/** What the tiny server received, and where it listens. */
export interface TinyServer {
  url: string;
  bodies: unknown[];
  close(): Promise<void>;
}

/** A node:http server on a loopback port answering every request with `answer(body, res)`: enough for the real SDK to talk to. */
export async function tinyServer(
  answer: (body: Record<string, unknown>, res: ServerResponse) => void,
): Promise<TinyServer> {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (piece: string) => {
      raw += piece;
    });
    req.on("end", () => {
      const body = JSON.parse(raw || "{}") as Record<string, unknown>;
      bodies.push(body);
      answer(body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
