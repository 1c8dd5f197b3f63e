import Anthropic, { NotFoundError, PermissionDeniedError, RateLimitError } from "@anthropic-ai/sdk";
import { estimateRequestTokens } from "@orchestrator-ts/core";
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAdminHandler } from "./keys/admin";
import { KeyGate } from "./keys/key-gate";
import { type Gateway, rawPost, startGateway } from "./test/gateway";

// Anthropic's token count and betas through the gateway, as Claude Code and the Anthropic SDK use
// them: the real @anthropic-ai/sdk against the gateway, which routes to the loopback upstreams.

const MASTER = "sk-admin-count-tokens-test-0123456789";
const client = (gw: Gateway) => new Anthropic({ apiKey: "sk-gateway-client", baseURL: gw.url, maxRetries: 0 });
const system = "Answer in one word";
const messages = [{ role: "user" as const, content: "What is the capital of Norway?" }];

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(() => {
  gw.anthropicUpstream.requests.length = 0;
  gw.openaiUpstream.requests.length = 0;
});

describe("POST /v1/messages/count_tokens", () => {
  it("an Anthropic model's count is the API's own (its count_tokens, asked with the client's fields)", async () => {
    const { data, response } = await client(gw)
      .messages.countTokens({ model: "claude-sonnet-4-6", system, messages })
      .withResponse();
    // The loopback counts words: 4 in the system prompt, 6 in the question.
    expect(data).toEqual({ input_tokens: 10 });
    expect(response.headers.get("x-orchestrator-token-count")).toBe("exact");
    expect(response.headers.get("x-orchestrator-model")).toBe("claude-sonnet-4-6");
    const upstream = gw.anthropicUpstream.requests;
    expect(upstream.map((r) => r.path)).toEqual(["/v1/messages/count_tokens"]);
    expect(Object.keys(upstream[0]?.body as object).sort()).toEqual(["messages", "model", "system"]);
  });

  it("another model, a route or auto get the gateway's estimate, and no upstream is called", async () => {
    const expected = estimateRequestTokens({
      messages: [{ role: "system", content: system }, ...messages],
    });
    for (const model of ["gpt-4o-mini", "auto"]) {
      const { data, response } = await client(gw).messages.countTokens({ model, system, messages }).withResponse();
      expect(data).toEqual({ input_tokens: expected });
      expect(response.headers.get("x-orchestrator-token-count")).toBe("estimate");
    }
    expect(gw.openaiUpstream.requests).toHaveLength(0);
    expect(gw.anthropicUpstream.requests).toHaveLength(0);
  });

  it("an unknown model is a 404 and a malformed body a 400 naming the field, in Anthropic's error shape", async () => {
    const anthropic = client(gw);
    await expect(anthropic.messages.countTokens({ model: "gpt-9", messages })).rejects.toBeInstanceOf(NotFoundError);
    const bad = await rawPost(gw.url, "/v1/messages/count_tokens", {
      model: "claude-sonnet-4-6",
      messages: [{ role: "user", content: [{ type: "text" }] }],
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringMatching(/^messages\.0\.content\.0\.text/) },
    });
    const wrongMethod = await fetch(`${gw.url}/v1/messages/count_tokens`);
    expect(wrongMethod.status).toBe(405);
    expect(gw.anthropicUpstream.requests).toHaveLength(0);
  });

  it("the key gate admits a count as a call: the key's models and its rpm hold; nothing is held or charged", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    const limited = await startGateway({ server: { gatekeeper: gate, admin: createAdminHandler(gate) } });
    try {
      const created = await fetch(`${limited.url}/admin/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "team", models: ["gpt-4o-mini", "claude-sonnet-4-6"], rpm: 2, budgetUsd: 1 }),
      });
      const { key } = (await created.json()) as { key: string };
      const anthropic = new Anthropic({ apiKey: key, baseURL: limited.url, maxRetries: 0 });
      await expect(anthropic.messages.countTokens({ model: "auto", messages })).rejects.toBeInstanceOf(
        PermissionDeniedError,
      );
      await expect(anthropic.messages.countTokens({ model: "claude-sonnet-4-6", messages })).resolves.toEqual({
        input_tokens: 6,
      });
      await expect(anthropic.messages.countTokens({ model: "gpt-4o-mini", messages })).resolves.toMatchObject({
        input_tokens: expect.any(Number),
      });
      // rpm 2: the third request in the minute is refused, before any upstream is asked.
      await expect(anthropic.messages.countTokens({ model: "claude-sonnet-4-6", messages })).rejects.toBeInstanceOf(
        RateLimitError,
      );
      expect(limited.anthropicUpstream.requests).toHaveLength(1);
      const spend = await fetch(`${limited.url}/admin/spend?by=key`, {
        headers: { authorization: `Bearer ${MASTER}` },
      }).then((r) => r.json() as Promise<{ totalUsd: number; data: { costUsd: number; requests: number }[] }>);
      expect(spend.totalUsd).toBe(0);
      expect(spend.data).toEqual([expect.objectContaining({ costUsd: 0, requests: 2 })]);
    } finally {
      await limited.close();
    }
  });

  it("an Anthropic-compatible upstream without count_tokens gets the estimate, not a 502", async () => {
    // An AnthropicModel in front of a server that has no such endpoint (the loopback OpenAI server: 404).
    const compat = await startGateway({
      setup: (registry) =>
        registry.registerModel(
          new AnthropicModel({ name: "compat-claude", apiKey: "sk-x", baseURL: gw.openaiUpstream.url }),
        ),
    });
    try {
      const { data, response } = await client(compat)
        .messages.countTokens({ model: "compat-claude", messages })
        .withResponse();
      expect(response.headers.get("x-orchestrator-token-count")).toBe("estimate");
      expect(data.input_tokens).toBe(estimateRequestTokens({ messages }));
    } finally {
      await compat.close();
    }
  });
});

describe("anthropic-beta", () => {
  const betas = ["interleaved-thinking-2025-05-14", "context-management-2025-06-27"];

  it("a client's betas reach an Anthropic upstream as its anthropic-beta header (whole, streamed, counted)", async () => {
    const anthropic = client(gw);
    // The SDK's beta API posts to /v1/messages?beta=true with the header, as Claude Code does.
    await anthropic.beta.messages.create({ model: "claude-sonnet-4-6", max_tokens: 100, messages, betas });
    const stream = await anthropic.beta.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages,
      betas,
      stream: true,
    });
    for await (const _ of stream) {
      // drained
    }
    await anthropic.beta.messages.countTokens({ model: "claude-sonnet-4-6", messages, betas });
    const upstream = gw.anthropicUpstream.requests;
    expect(upstream.map((r) => r.path)).toEqual(["/v1/messages", "/v1/messages", "/v1/messages/count_tokens"]);
    for (const request of upstream) {
      // The SDK names its own beta for a count (token-counting-…) after the client's.
      expect(request.headers["anthropic-beta"]).toMatch(new RegExp(`^${betas.join(",")}(,token-counting-[0-9-]+)?$`));
      expect(request.body).not.toHaveProperty("betas");
    }
    expect(upstream[0]?.headers["anthropic-beta"]).toBe(betas.join(","));
  });

  it("a model of another provider is asked without them", async () => {
    await client(gw).beta.messages.create({ model: "gpt-4o-mini", max_tokens: 100, messages, betas });
    const upstream = gw.openaiUpstream.requests;
    expect(upstream).toHaveLength(1);
    expect(upstream[0]?.headers["anthropic-beta"]).toBeUndefined();
    expect(upstream[0]?.body).not.toHaveProperty("betas");
  });

  it("betas in the body that are not beta names are a 400 on betas, and never count against the model's health", async () => {
    const { ModelHealthMonitor } = await import("@orchestrator-ts/health");
    const watched = await startGateway({
      registry: { healthMonitor: new ModelHealthMonitor({ failureThreshold: 1 }) },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await rawPost(watched.url, "/v1/messages", {
          model: "claude-sonnet-4-6",
          max_tokens: 10,
          messages,
          betas: 5,
        });
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.text).error.message).toMatch(/^betas: expected an array of beta names/);
      }
      // Another client's good request is still served: the model's circuit did not open.
      const good = await client(watched).messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages });
      expect(good.model).toBe("claude-sonnet-4-6");
    } finally {
      await watched.close();
    }
  });

  it("a header that names no beta is a 400 on anthropic-beta, before any upstream call", async () => {
    const answer = await rawPost(
      gw.url,
      "/v1/messages",
      { model: "claude-sonnet-4-6", max_tokens: 10, messages },
      { "anthropic-beta": "good-beta, bad beta!" },
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({
      error: {
        type: "invalid_request_error",
        message: expect.stringMatching(/^anthropic-beta: "bad beta!" is not a beta name/),
      },
    });
    expect(gw.anthropicUpstream.requests).toHaveLength(0);
  });
});
