import { connect } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "./test/gateway";

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway({ server: { bodyLimitBytes: 64 * 1024 } });
});
afterAll(async () => {
  await gw?.close();
});

async function post(body: string | Uint8Array, path = "/v1/chat/completions", headers: Record<string, string> = {}) {
  const response = await fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: JSON.parse(text) as { error: { message: string; type: string; param: string | null; code: string } },
  };
}

describe("bad input never crashes the server: 4xx in OpenAI's error shape, with the field path", () => {
  it("malformed JSON is a 400", async () => {
    const r = await post('{"model": "auto", "messages": [');
    expect(r.status).toBe(400);
    expect(r.json.error.type).toBe("invalid_request_error");
    expect(r.json.error.code).toBe("invalid_json");
    expect(r.json.error.message).toMatch(/not valid JSON/);
  });

  it("JSON nested deeper than 128 levels is a 400 before anything reads it: it never reaches the registry (whose provider call overflowed the stack and counted against the model's health)", async () => {
    const sent = gw.openaiUpstream.stats.inferenceRequests;
    // ~30 KB: small, but deep enough to overflow the stack of every recursive step after the parser.
    const deep = `${"[".repeat(5_000)}1${"]".repeat(5_000)}`;
    const body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"metadata":{"deep":${deep}}}`;
    for (let i = 0; i < 6; i++) {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(r.json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
      expect(r.json.error.message).toBe("The request body nests objects or arrays deeper than 128 levels.");
    }
    // Brackets and braces inside strings (escaped quotes too) are text, not nesting.
    const text = `${"[{".repeat(200)} \\" " ${"}]".repeat(200)}`;
    const stringy = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask(text) });
    expect(stringy.choices[0]?.message.content).toContain("[{[{");
    expect(gw.openaiUpstream.stats.inferenceRequests).toBe(sent + 1);
  });

  it("a request the provider refuses as invalid is the client's 400, which the official SDK does not retry (a 502 it retried twice)", async () => {
    const sent = gw.openaiUpstream.stats.inferenceRequests;
    gw.openaiUpstream.enqueueFaults(
      Array.from({ length: 3 }, () => ({
        type: "status" as const,
        status: 400,
        message: "Invalid 'messages[0].content[0].image_url': the image could not be decoded",
      })),
    );
    const client = new OpenAI({ apiKey: "sk-gateway-client", baseURL: `${gw.url}/v1` }); // the SDK's default retries
    const error = await client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("x") }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      type: "invalid_request_error",
      code: "upstream_invalid_request",
      message: expect.stringMatching(
        /^The model's provider refused the request \(400\): .*the image could not be decoded/,
      ),
    });
    expect(gw.openaiUpstream.stats.inferenceRequests).toBe(sent + 1);
    gw.openaiUpstream.clearFaults();
  });

  it("a wrong field type is a 400 naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ model: 42, messages: ask("x") }, "model"],
      [{ model: "auto" }, "messages"],
      [{ model: "auto", messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
      [{ model: "auto", messages: [{ role: "user", content: 7 }] }, "messages[0].content"],
      [{ model: "auto", messages: ask("x"), temperature: "hot" }, "temperature"],
      // Was taken as "not streamed" (a 200), where /v1/responses and /v1/messages said 400.
      [{ model: "auto", messages: ask("x"), stream: "yes" }, "stream"],
      [{ model: "auto", messages: ask("x"), stream: true, stream_options: "usage" }, "stream_options"],
      [{ model: "auto", messages: ask("x"), parallel_tool_calls: "no" }, "parallel_tool_calls"],
      [{ model: "auto", messages: ask("x"), tools: [{ type: "function" }] }, "tools[0]"],
      [{ model: "auto", messages: ask("x"), orchestrator: { max_cost: "cheap" } }, "orchestrator.max_cost"],
      [{ model: "auto", messages: ask("x"), orchestrator: { budget: 1 } }, "orchestrator.budget"],
      [
        { model: "auto", messages: ask("x"), orchestrator: { capabilities: ["vision", "visoin"] } },
        "orchestrator.capabilities[1]",
      ],
      [
        { model: "auto", messages: ask("x"), orchestrator: { capabilities: "json_mode, tools" } },
        "orchestrator.capabilities",
      ],
    ];
    for (const [body, param] of cases) {
      const r = await post(JSON.stringify(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.param, JSON.stringify(body)).toBe(param);
    }
    const header = await post(JSON.stringify({ model: "auto", messages: ask("x") }), undefined, {
      "x-orchestrator-max-cost": "lots",
    });
    expect([header.status, header.json.error.param]).toEqual([400, "x-orchestrator-max-cost"]);
    // An unknown capability in the header is named by the header, with the closest known name.
    const caps = await post(JSON.stringify({ model: "auto", messages: ask("x") }), undefined, {
      "x-orchestrator-capabilities": "textGeneration, functionCaling",
    });
    expect([caps.status, caps.json.error.param]).toEqual([400, "x-orchestrator-capabilities"]);
    expect(caps.json.error.message).toContain('unknown capability "functionCaling". Did you mean "functionCalling"');
    // A JSON value that is not an object, and an empty body.
    expect((await post("[1,2]")).status).toBe(400);
    expect((await post("")).status).toBe(400);
  });

  it("a body over the limit is a 413, refused from content-length without reading it", async () => {
    const big = JSON.stringify({ model: "auto", messages: ask("x".repeat(100 * 1024)) });
    const r = await post(big);
    expect(r.status).toBe(413);
    expect(r.json.error.type).toBe("request_too_large");
    expect(r.headers.get("connection")).toBe("close");
  });

  it("a chunked body (no content-length) is cut off once it passes the limit", async () => {
    const url = new URL(gw.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
      socket.write(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
      );
      const piece = "a".repeat(16 * 1024);
      // 1 MiB offered, 64 KiB allowed: the server answers and closes long before the end.
      let sent = 0;
      const pump = () => {
        while (sent < 64 && !socket.destroyed) {
          sent++;
          if (!socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`)) {
            socket.once("drain", pump);
            return;
          }
        }
      };
      pump();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
  });

  it("unknown paths and methods, garbage HTTP; the server keeps serving", async () => {
    expect((await fetch(`${gw.url}/v1/nothing`)).status).toBe(404);
    const wrongMethod = await fetch(`${gw.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    const url = new URL(gw.url);
    const garbage = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", () => resolve(text));
      socket.write("NOT HTTP AT ALL\r\n\r\n");
    });
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    const ok = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("still here") });
    expect(ok.choices[0]?.message.content).toBe("Echo: still here");
  });
});
