import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AbortError, TimeoutError } from "@orchestrator-ts/core";
import { type OpenAIServer, rejectionOf, runScript, startOpenAIServer } from "@orchestrator-ts/testing";
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAIModel } from "./openai-model";

// OpenAIModel's default transport (undici's request API under the openai SDK) must behave like the
// fetch it replaces wherever an application relies on fetch: redirects, an installed dispatcher.
const KEY = "sk-test-transport-0123456789";
let upstream: OpenAIServer;
beforeAll(async () => {
  upstream = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await upstream.close();
});

const ask = { messages: [{ role: "user" as const, content: "hello there" }] };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("OpenAIModel's default transport", () => {
  it("follows a redirect as fetch does (a 307 keeps the method, the body and, on the same origin, the key)", async () => {
    const hops: string[] = [];
    const server = createServer((req, res) => {
      hops.push(`${req.method} ${req.url} ${req.headers.authorization === `Bearer ${KEY}` ? "with key" : "no key"}`);
      let body = "";
      req.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      req.on("end", () => {
        if (req.url?.startsWith("/old/")) {
          res.writeHead(307, { location: req.url.slice(4) }).end();
          return;
        }
        const asked = (JSON.parse(body) as { messages: { content: string }[] }).messages[0]?.content;
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: "chatcmpl-moved",
            object: "chat.completion",
            created: 1,
            model: "gpt-4o-mini",
            choices: [{ index: 0, message: { role: "assistant", content: `moved: ${asked}` }, finish_reason: "stop" }],
            usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 },
          }),
        );
      });
    });
    const url = await listen(server);
    const model = new OpenAIModel({ name: "gpt-4o-mini", apiKey: KEY, baseURL: `${url}/old/v1` });
    try {
      expect((await model.generate(ask)).text).toBe("moved: hello there");
      // The redirect is handed to Node's fetch, which asks the old address once more and follows it.
      expect(hops).toEqual([
        "POST /old/v1/chat/completions with key",
        "POST /old/v1/chat/completions with key",
        "POST /v1/chat/completions with key",
      ]);
      // Once redirected, the model's later requests go to fetch straight away: the old address once, then the new.
      hops.length = 0;
      expect((await model.generate(ask)).text).toBe("moved: hello there");
      expect(hops).toEqual(["POST /old/v1/chat/completions with key", "POST /v1/chat/completions with key"]);
    } finally {
      await model.cleanup();
      server.close();
    }
  });

  it("sends through a dispatcher the application installed with setGlobalDispatcher (a proxy, say)", async () => {
    const seen: string[] = [];
    class RecordingAgent extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
        seen.push(`${options.method} ${options.path}`);
        return super.dispatch(options, handler);
      }
    }
    const previous = getGlobalDispatcher();
    const installed = new RecordingAgent();
    setGlobalDispatcher(installed);
    const model = new OpenAIModel({ name: "gpt-4o-mini", apiKey: KEY, baseURL: upstream.baseURL });
    try {
      expect((await model.generate(ask)).text).toBe("Echo: hello there");
      expect(seen).toEqual(["POST /v1/chat/completions"]);
    } finally {
      setGlobalDispatcher(previous);
      await installed.close();
      await model.cleanup();
    }
  });

  it("through an installed dispatcher, the caller's abort and the deadline close the pending request upstream, not only the call", async () => {
    // A server that never answers: it records when each request's connection closes.
    const closedAfter: number[] = [];
    const server = createServer((req) => {
      const started = performance.now();
      req.resume();
      req.socket.once("close", () => closedAfter.push(performance.now() - started));
    });
    const url = await listen(server);
    const previous = getGlobalDispatcher();
    // An application's own dispatcher (a proxy agent, say): the model's requests then go through the SDK and fetch.
    class ProxyLikeAgent extends Agent {}
    const installed = new ProxyLikeAgent();
    setGlobalDispatcher(installed);
    const model = new OpenAIModel({ name: "gpt-4o-mini", apiKey: KEY, baseURL: `${url}/v1`, timeoutMs: 60_000 });
    const waitFor = async (count: number) => {
      for (let i = 0; i < 100 && closedAfter.length < count; i++) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      const caller = new AbortController();
      setTimeout(() => caller.abort(), 150);
      const aborted = await rejectionOf(model.generate({ ...ask, signal: caller.signal }));
      expect(aborted).toBeInstanceOf(AbortError);
      await waitFor(1);
      expect(closedAfter).toHaveLength(1);
      expect(closedAfter[0]).toBeLessThan(150 + 400);
      const timedOut = await rejectionOf(
        model.generate({ ...ask, signal: new AbortController().signal, timeoutMs: 150 }),
      );
      expect(timedOut).toBeInstanceOf(TimeoutError);
      await waitFor(2);
      expect(closedAfter).toHaveLength(2);
      expect(closedAfter[1]).toBeLessThan(150 + 400);
    } finally {
      setGlobalDispatcher(previous);
      await installed.destroy();
      await model.cleanup();
      server.closeAllConnections();
      server.close();
    }
  });

  it("asks for no content coding, so a body is never compressed where nothing would inflate it", async () => {
    const model = new OpenAIModel({ name: "gpt-4o-mini", apiKey: KEY, baseURL: upstream.baseURL });
    try {
      upstream.requests.length = 0;
      await model.generate(ask);
      expect(upstream.requests.at(-1)?.headers["accept-encoding"]).toBe("identity");
    } finally {
      await model.cleanup();
    }
  });

  // Importing undici puts its own Agent in Node's global-dispatcher slot when the slot is empty, and
  // every fetch of the process would then run on our copy of undici. Checked in fresh processes: in
  // this one, the test file's own import of undici has filled the slot already.
  for (const [kind, load] of [
    ["ESM", `const mod = await import("@orchestrator-ts/provider-openai");`],
    [
      "CommonJS",
      `const mod = (await import("node:module")).createRequire(import.meta.url + "/")("@orchestrator-ts/provider-openai");`,
    ],
  ] as const) {
    it(`leaves the application's fetch on Node's own dispatcher (${kind}: import, a model on the undici transport, a call through it)`, async () => {
      const script = `
        const slot = Symbol.for("undici.globalDispatcher.1");
        ${load}
        const seen = [globalThis[slot]];
        const model = new mod.OpenAIModel({ name: "gpt-4o-mini", apiKey: ${JSON.stringify(KEY)}, baseURL: ${JSON.stringify(upstream.baseURL)} });
        seen.push(globalThis[slot]);
        const answer = await model.generate({ messages: [{ role: "user", content: "hi" }] });
        seen.push(globalThis[slot]);
        await fetch(${JSON.stringify(`${upstream.baseURL}/models`)}, { headers: { authorization: "Bearer ${KEY}" } });
        seen.push(globalThis[slot]);
        await model.cleanup();
        // Only now our copy of undici is loaded here (it finds the slot taken and leaves it).
        const { Agent } = (await import("node:module")).createRequire(import.meta.url + "/")("undici");
        console.log(JSON.stringify({ text: answer.text.length > 0, ours: seen.map((d) => d instanceof Agent), empty: seen.map((d) => d === undefined) }));
      `;
      const run = await runScript({ script }, { cwd: process.cwd(), nodeArgs: [] });
      expect(run.stderr).toBe("");
      const seen = JSON.parse(run.stdout) as { text: boolean; ours: boolean[]; empty: boolean[] };
      expect(seen.text).toBe(true);
      // Never our undici's Agent: empty after the import and after a model is made; Node's built-in
      // dispatcher once Node's fetch (or its Headers) has been used.
      expect(seen.ours).toEqual([false, false, false, false]);
      expect(seen.empty.slice(0, 2)).toEqual([true, true]);
      expect(seen.empty[3]).toBe(false);
      expect(run.code).toBe(0);
    });
  }
});
