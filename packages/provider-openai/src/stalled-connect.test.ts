import { type ChildProcess, spawn } from "node:child_process";
import { type Server, type ServerResponse, createServer } from "node:http";
import net, { type AddressInfo } from "node:net";
import { AbortError, TimeoutError } from "@orchestrator-ts/core";
import { collectAll } from "@orchestrator-ts/testing";
import { afterAll, describe, expect, it } from "vitest";
import { OpenAIModel, type OpenAIModelOptions } from "./openai-model";

// A call's deadline and its caller's abort end the call on time whatever the upstream does: also
// when its TCP connection never completes (undici acts on an abort only once it has a connection),
// and when the base URL redirects to a server that never answers.

const DEADLINE_MS = 300;
// How late an ended call may report it on a busy two-core machine (the bug was seconds).
const SLACK_MS = 250;
const ask = (content: string) => ({ messages: [{ role: "user" as const, content }] });
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

/**
 * A base URL whose connections never complete: a listener with a backlog of one in a stopped
 * process, its accept queue filled, so that a new connection's handshake is never answered.
 */
async function unconnectable(): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "-e",
      "require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},function(){process.stdout.write(String(this.address().port))})",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const port = await new Promise<number>((resolve) => child.stdout?.once("data", (d) => resolve(Number(String(d)))));
  child.kill("SIGSTOP");
  const fillers: net.Socket[] = [];
  cleanup.push(() => {
    for (const socket of fillers) socket.destroy();
    kill();
  });
  for (;;) {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    fillers.push(socket);
    const connected = await Promise.race([
      new Promise((resolve) => socket.once("connect", () => resolve(true))),
      new Promise((resolve) => setTimeout(() => resolve(false), 200)),
    ]);
    if (!connected) break;
    if (fillers.length > 16) throw new Error("the listener keeps accepting connections");
  }
  return `http://127.0.0.1:${port}/v1`;
}

/** A base URL that redirects every chat request, after `hopMs`, to a path that never answers. */
async function redirectingToSilence(hopMs: number): Promise<string> {
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    if (!req.url?.startsWith("/v1/")) {
      held.push(res);
      return;
    }
    setTimeout(() => {
      const { port } = server.address() as AddressInfo;
      res.writeHead(307, { location: `http://127.0.0.1:${port}/silent/chat/completions`, "content-length": 0 }).end();
    }, hopMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

function model(baseURL: string, options: Partial<OpenAIModelOptions> = {}): OpenAIModel {
  const m = new OpenAIModel({
    name: "m",
    model: "gpt-4o-mini",
    apiKey: "sk-test",
    baseURL,
    timeoutMs: DEADLINE_MS,
    ...options,
  });
  cleanup.push(() => m.cleanup());
  return m;
}

/** How the call ended and after how long. */
async function ended(call: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

describe("a call ends at its deadline or on abort, whatever the upstream does", () => {
  it("a connection that never completes: the deadline ends the call on time, with or without a caller's signal, sent directly or through the SDK", async () => {
    const baseURL = await unconnectable();
    const direct = model(baseURL);
    // With SDK retries the request goes through the SDK (and its fetch, our undici transport).
    const throughSdk = model(baseURL, { maxRetries: 1 });
    // Initialised first (the SDK's import), which the deadline does not cover: the clock below is the
    // deadline's alone. On a loaded CI machine the first call's import once took ~250 ms.
    await Promise.all([direct.initialize(), throughSdk.initialize()]);
    const calls: [string, () => Promise<unknown>][] = [
      ["direct, no signal", () => direct.generate(ask("a"))],
      [
        "direct, a caller's signal (as the gateway)",
        () => direct.generate({ ...ask("b"), signal: new AbortController().signal }),
      ],
      ["direct, streamed", () => collectAll(direct.stream({ ...ask("c"), signal: new AbortController().signal }))],
      [
        "through the SDK, a caller's signal",
        () => throughSdk.generate({ ...ask("d"), signal: new AbortController().signal }),
      ],
    ];
    for (const [name, call] of calls) {
      const { error, ms } = await ended(call());
      expect(error, name).toBeInstanceOf(TimeoutError);
      expect(ms, name).toBeLessThan(DEADLINE_MS + SLACK_MS);
    }
  });

  it("a connection that never completes: the caller's abort ends the call at once", async () => {
    const baseURL = await unconnectable();
    const m = model(baseURL, { timeoutMs: 60_000 });
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const { error, ms } = await ended(m.generate({ ...ask("e"), signal: caller.signal }));
    expect(error).toBeInstanceOf(AbortError);
    expect(ms).toBeLessThan(100 + SLACK_MS);
  });

  it("a base URL that redirects to a server that never answers: the deadline ends the call on time, also without a caller's signal", async () => {
    for (const [name, call] of [
      ["generate", (m: OpenAIModel) => m.generate(ask("f"))],
      ["stream", (m: OpenAIModel) => collectAll(m.stream(ask("g")))],
    ] as const) {
      // The first hop takes most of the deadline: the request after it must not get a deadline of its own
      // (which would end the call ~500 ms late).
      const m = model(await redirectingToSilence(500), { timeoutMs: 600 });
      const { error, ms } = await ended(call(m));
      expect(error, name).toBeInstanceOf(TimeoutError);
      expect(ms, name).toBeLessThan(600 + SLACK_MS);
    }
  });
});
