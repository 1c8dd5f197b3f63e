import { createServer as createNetServer } from "node:net";
import Anthropic, { InternalServerError } from "@anthropic-ai/sdk";
import { NoEligibleModelError } from "@orchestrator-ts/core";
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAIErrorBody, toGatewayError, upstreamMessage } from "./errors";
import { type Gateway, ask, startGateway } from "./test/gateway";

// Where the gateway's models live is the operator's business: an upstream failure tells the client
// what went wrong, never the provider's URL, host or address.

async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let gw: Gateway;
let port: number;
beforeAll(async () => {
  port = await closedPort();
  gw = await startGateway({
    setup: (registry) => {
      registry.registerModel(
        new OpenAIModel({
          name: "lost",
          apiKey: "sk-x",
          baseURL: "http://vllm-7.internal.invalid:8001/v1",
          timeoutMs: 5_000,
        }),
      );
      registry.registerModel(
        new AnthropicModel({ name: "gone", apiKey: "sk-x", baseURL: `http://127.0.0.1:${port}`, timeoutMs: 5_000 }),
      );
    },
  });
});
afterAll(async () => {
  await gw?.close();
});

describe("an upstream that cannot be reached is a 502 that names no upstream", () => {
  it("an unknown host (OpenAI's wire) and a refused connection (Anthropic's wire)", async () => {
    const openai = new OpenAI({ apiKey: "sk-gateway-client", baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const lost = await openai.chat.completions.create({ model: "lost", messages: ask("hi") }).then(
      () => undefined,
      (e: unknown) => e as { status: number; message: string },
    );
    expect(lost?.status).toBe(502);
    expect(lost?.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(lost?.message).not.toMatch(/vllm-7|internal\.invalid|8001/);

    const anthropic = new Anthropic({ apiKey: "sk-gateway-client", baseURL: gw.url, maxRetries: 0 });
    const gone = await anthropic.messages.create({ model: "gone", max_tokens: 10, messages: ask("hi") }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(gone).toBeInstanceOf(InternalServerError);
    const message = (gone as InternalServerError).message;
    expect(message).toMatch(/Could not reach the Anthropic API at the provider/);
    expect(message).not.toMatch(new RegExp(`127\\.0\\.0\\.1|${port}`));
  });
});

describe("upstreamMessage", () => {
  it("takes out URLs and the host or address a network error names, and keeps the rest", () => {
    expect(
      upstreamMessage(
        "Connection to https://llm.corp:8443/v1 failed: Connection error. (getaddrinfo ENOTFOUND llm.corp)",
      ),
    ).toBe("Connection to the provider failed: Connection error. (getaddrinfo ENOTFOUND)");
    expect(upstreamMessage("connect ECONNREFUSED 10.0.0.5:8000")).toBe("connect ECONNREFUSED");
    expect(upstreamMessage("connect ECONNREFUSED [fd00::5]:8000")).toBe("connect ECONNREFUSED");
    expect(upstreamMessage("429 Rate limit reached for gpt-4o-mini")).toBe("429 Rate limit reached for gpt-4o-mini");
  });

  it("a 503's exclusion reasons (a health check's failure) name no upstream either", () => {
    const error = new NoEligibleModelError([
      {
        model: "lost",
        code: "unhealthy",
        reason: "unavailable (unhealthy): Connection to http://10.1.2.3:8001/v1 failed",
      },
    ]);
    const body = openAIErrorBody(toGatewayError(error));
    expect(body).not.toMatch(/10\.1\.2\.3|8001/);
    expect(JSON.parse(body).error.excluded[0]).toEqual({
      model: "lost",
      code: "unhealthy",
      reason: "unavailable (unhealthy): Connection to the provider failed",
    });
  });
});
