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

describe("an upstream's refusal of the request (400, 413, 422) is the client's 400, without the upstream's address", () => {
  it("the provider's reason stays; its URL and address do not", async () => {
    for (const [model, upstream] of [
      ["gpt-4o-mini", gw.openaiUpstream],
      ["claude-sonnet-4-6", gw.anthropicUpstream],
    ] as const) {
      for (const status of [400, 413, 422]) {
        upstream.enqueueFault({
          type: "status",
          status,
          message: `cannot decode image (see ${upstream.url}/docs, host 10.0.3.7:8443)`,
        });
        const failed = await gw.client.chat.completions.create({ model, messages: ask("hi") }).then(
          () => undefined,
          (e: unknown) => e as { status: number; message: string },
        );
        upstream.clearFaults();
        expect(failed?.status, `${model} ${status}`).toBe(400);
        expect(failed?.message, `${model} ${status}`).toMatch(/cannot decode image/);
        expect(failed?.message, `${model} ${status}`).not.toMatch(/127\.0\.0\.1|10\.0\.3\.7|8443|http:/);
      }
    }
  });
});

describe("upstreamMessage", () => {
  it("takes out URLs, addresses and the hosts network and TLS errors name, and keeps the rest", () => {
    const cases: [string, string][] = [
      [
        "Connection to https://llm.corp:8443/v1 failed: Connection error. (getaddrinfo ENOTFOUND llm.corp)",
        "Connection to the provider failed: Connection error. (getaddrinfo ENOTFOUND [upstream])",
      ],
      [
        "Could not reach the Anthropic API at http://127.0.0.1:9: Connection error.",
        "Could not reach the Anthropic API at the provider: Connection error.",
      ],
      ["connect ECONNREFUSED 10.0.0.5:8000", "connect ECONNREFUSED [upstream]"],
      ["connect ECONNREFUSED ::1:38187", "connect ECONNREFUSED [upstream]"],
      ["connect ECONNREFUSED [fd00::5]:8000", "connect ECONNREFUSED [upstream]"],
      [
        "connect EADDRNOTAVAIL 10.0.0.1:80 - Local (10.0.0.9:51234)",
        "connect EADDRNOTAVAIL [upstream] - Local ([upstream])",
      ],
      [
        "Host: localhost. is not in the cert's altnames: DNS:upstream.corp.internal, DNS:gpu-7.corp.internal",
        "Host: [upstream] is not in the cert's altnames: DNS: [upstream], DNS: [upstream]",
      ],
      [
        "dial tcp: lookup vllm.internal on 10.96.0.10:53: no such host",
        "dial tcp: lookup [upstream] on [upstream]: no such host",
      ],
      [
        "HTTPConnectionPool(host='10.20.30.40', port=8000): Max retries exceeded",
        "HTTPConnectionPool(host='[upstream]', port=8000): Max retries exceeded",
      ],
      [
        "Connect Timeout Error (attempted address: vllm.internal:8000, timeout: 10000ms)",
        "Connect Timeout Error (attempted address: [upstream], timeout: 10000ms)",
      ],
      // Credentials in a URL go first, whatever characters the password holds.
      ["could not reach http://admin:pa(ss)word@ollama.internal/api/tags", "could not reach the provider"],
      ["failed for http://admin:it's-secret@10.0.0.5:11434/api", "failed for the provider"],
      ["login admin:hunter2@ollama.internal refused", "login ollama.internal refused"],
      // Text that names no upstream is left as it is.
      ["read ECONNRESET while reading the body", "read ECONNRESET while reading the body"],
      ["ETIMEDOUT after 10000 ms at 10:00:00", "ETIMEDOUT after 10000 ms at 10:00:00"],
      [
        "429 Rate limit reached for gpt-4.1-mini (v1.2.3): Limit 30000",
        "429 Rate limit reached for gpt-4.1-mini (v1.2.3): Limit 30000",
      ],
    ];
    for (const [message, shown] of cases) expect(upstreamMessage(message)).toBe(shown);
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
