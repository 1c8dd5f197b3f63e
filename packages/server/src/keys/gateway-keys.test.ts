import { RedisKeyStore } from "@orchestrator-ts/redis";
import { type ModelRegistry, SelectorRoute } from "@orchestrator-ts/registry";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "../test/gateway";
import { createAdminHandler } from "./admin";
import { KeyGate } from "./key-gate";

const MASTER = "sk-admin-gateway-test-0123456789";
const open: Gateway[] = [];
let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});
afterAll(async () => {
  await redis?.stop();
});

async function gateway(
  gate: KeyGate,
  upstream?: NonNullable<Parameters<typeof startGateway>[0]>["upstream"],
): Promise<Gateway> {
  // The admin API checks a new key's models against the registry, which startGateway makes (setup hands it over).
  let registry: ModelRegistry | undefined;
  const names = {
    listModels: () => registry?.listModels() ?? [],
    listRoutes: () => registry?.listRoutes() ?? [],
  };
  const gw = await startGateway({
    server: { gatekeeper: gate, admin: createAdminHandler(gate, { registry: names }) },
    setup: (r) => {
      registry = r;
      r.addRoute(new SelectorRoute({ name: "cheap", requirements: { providers: ["openai"] } }));
    },
    ...(upstream ? { upstream } : {}),
  });
  open.push(gw);
  return gw;
}

const client = (gw: Gateway, apiKey: string) => new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });

async function createKey(gw: Gateway, body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await fetch(`${gw.url}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; key: string };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => Promise.reject(new Error("expected a failure")),
    (e: unknown) =>
      e as { status: number; error: { type: string; code: string; message: string; param?: string }; headers: Headers },
  );

describe("the key gate behind the gateway (the real openai SDK)", () => {
  it("no key, an unknown key, a revoked key → 401; a model the key may not use → 403; in OpenAI's error shape", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    const gw = await gateway(gate);
    const { id, key } = await createKey(gw, { name: "narrow", models: ["gpt-4o-mini"] });
    const answer = await client(gw, key).chat.completions.create({ model: "gpt-4o-mini", messages: ask("hi") });
    expect(answer.choices[0]?.message.content).toBe("Echo: hi");

    const unknown = await failure(
      client(gw, "sk-orc-unknown").chat.completions.create({ model: "gpt-4o-mini", messages: ask("hi") }),
    );
    expect([unknown.status, unknown.error.type, unknown.error.code]).toEqual([
      401,
      "authentication_error",
      "invalid_api_key",
    ]);
    const none = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: ask("hi") }),
    });
    expect(none.status).toBe(401);
    const forbidden = await failure(client(gw, key).chat.completions.create({ model: "auto", messages: ask("hi") }));
    expect([forbidden.status, forbidden.error.type, forbidden.error.param]).toEqual([403, "permission_error", "model"]);
    expect(forbidden.error.message).toContain('"narrow" may not use "auto"');

    await fetch(`${gw.url}/admin/keys/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${MASTER}` } });
    const revoked = await failure(
      client(gw, key).chat.completions.create({ model: "gpt-4o-mini", messages: ask("hi") }),
    );
    expect([revoked.status, revoked.error.code]).toEqual([401, "revoked_api_key"]);
    // The admin API is for the master key only.
    const asKey = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(asKey.status).toBe(401);
  });

  it("POST /admin/keys refuses models that name nothing the gateway serves: a 400 naming them and what is known", async () => {
    const gw = await gateway(new KeyGate({ masterKey: MASTER }));
    const post = (models: string[]) =>
      fetch(`${gw.url}/admin/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "typo", models }),
      });
    const res = await post(["gpt-4o-mini", "no-such-model", "gpt4o"]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toEqual({
      type: "invalid_request_error",
      code: "invalid_value",
      param: "models",
      message:
        'models: unknown model or route "no-such-model", "gpt4o": the key could never be used (known: auto, gpt-4o-mini, claude-sonnet-4-6, cheap)',
    });
    const listed = (await (
      await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).json()) as { data: unknown[] };
    expect(listed.data).toEqual([]);
    // Models, routes and auto are all known.
    expect((await post(["auto", "cheap", "claude-sonnet-4-6"])).status).toBe(201);
  });

  it("only the key an answer went to may rate it: another key's feedback is a 404 and leaves it to its owner", async () => {
    const gw = await gateway(new KeyGate({ masterKey: MASTER }));
    const alice = client(gw, (await createKey(gw, { name: "alice" })).key);
    const mallory = (await createKey(gw, { name: "mallory" })).key;
    const rate = (key: string, selection_id: string) =>
      fetch(`${gw.url}/v1/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ selection_id, quality: 0 }),
      });
    const whole = await alice.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("rate me") })
      .withResponse();
    const streamed = await alice.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("rate me too"), stream: true })
      .withResponse();
    for await (const _ of streamed.data) {
      // drain
    }
    for (const { response } of [whole, streamed]) {
      const id = response.headers.get("x-orchestrator-selection-id") as string;
      expect(id).toBeTruthy();
      const stolen = await rate(mallory, id);
      expect(stolen.status).toBe(404);
      expect(((await stolen.json()) as { error: { code: string } }).error.code).toBe("selection_not_found");
      const own = await rate((alice as unknown as { apiKey: string }).apiKey, id);
      expect(own.status).toBe(200);
    }
  });

  it("a key that names models gets answers from those only, also through auto and its stream; a key of routes only may reach any model", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    const gw = await gateway(gate);
    const { key } = await createKey(gw, { name: "claude-only", models: ["auto", "claude-sonnet-4-6"] });
    const answered = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const whole = await client(gw, key).chat.completions.create({ model: "auto", messages: ask(`hi ${i}`) });
      answered.add(whole.model);
      const stream = await client(gw, key).chat.completions.create({
        model: "auto",
        messages: ask(`hey ${i}`),
        stream: true,
      });
      for await (const chunk of stream) answered.add(chunk.model);
    }
    expect([...answered]).toEqual(["claude-sonnet-4-6"]);
    const forbidden = await failure(
      client(gw, key).chat.completions.create({ model: "gpt-4o-mini", messages: ask("hi") }),
    );
    expect([forbidden.status, forbidden.error.code]).toEqual([403, "model_not_allowed"]);

    const { key: anyModel } = await createKey(gw, { name: "auto-only", models: ["auto"] });
    const reached = new Set<string>();
    for (let i = 0; i < 40 && reached.size < 2; i++)
      reached.add(
        (await client(gw, anyModel).chat.completions.create({ model: "auto", messages: ask(`x ${i}`) })).model,
      );
    expect([...reached].sort()).toEqual(["claude-sonnet-4-6", "gpt-4o-mini"]);
  });

  it("charges the key the real cost of each call, streams included, also when the client leaves mid-stream; over budget a 429 says which budget and when it resets", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const gw = await gateway(gate, {
      reply: (req) => ({ text: JSON.stringify(req).includes("long") ? words : "short answer" }),
      chunkDelayMs: 5,
    });
    const { id, key } = await createKey(gw, { name: "metered", budgetUsd: 1, budgetPeriod: "day" });
    const sdk = client(gw, key);
    const { response } = await sdk.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("one") })
      .withResponse();
    const first = Number(response.headers.get("x-orchestrator-cost-usd"));
    expect(first).toBeGreaterThan(0);
    const stream = await sdk.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("two"),
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream);
    const controller = new AbortController();
    const cut = await sdk.chat.completions.create(
      { model: "gpt-4o-mini", messages: ask("long"), stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    await (async () => {
      for await (const _ of cut) if (++chunks === 5) controller.abort();
    })().catch(() => undefined);
    const day = new Date().toISOString().slice(0, 10);
    let spent = 0;
    for (
      let i = 0;
      i < 100 && (await gate.store.spend({ by: "key", since: new Date(Date.now() - 60_000) }))[0]?.requests !== 3;
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const [row] = await gate.store.spend({ by: "key", since: new Date(Date.now() - 60_000) });
    expect(row).toMatchObject({ name: id, requests: 3 });
    spent = (await gate.store.spent(id, day)).spentUsd;
    // The plain call and the whole stream cost the same (same prompt size, same answer); the cut stream something.
    expect(spent).toBeGreaterThan(2 * first);

    // Spend the rest of the budget in one go: a key with $1 left of $1 over its limit.
    const admission = await gate.admit(await gate.authenticate(key), { model: "gpt-4o-mini" });
    await admission.settle({ costUsd: 1, model: "gpt-4o-mini" });
    const over = await failure(sdk.chat.completions.create({ model: "gpt-4o-mini", messages: ask("more") }));
    expect([over.status, over.error.type, over.error.code]).toEqual([429, "budget_exceeded", "budget_exceeded"]);
    expect(over.error.message).toMatch(
      new RegExp(
        `^The key "metered" has used its daily budget \\(UTC day ${day}\\) of \\$1\\.00: \\$1\\.\\d+ spent\\. It resets at ${day.slice(0, 8)}\\d\\dT00:00:00\\.000Z\\.$`,
      ),
    );
    const retryAfter = Number(over.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
  });

  it("a key's tpm holds for requests without max_tokens: their answers are capped to what the minute leaves", async () => {
    // 600-word answers, asked 10 at once by clients that set no max_tokens, on a key of 500 tokens a minute.
    const words = Array.from({ length: 600 }, (_, i) => `w${i}`).join(" ");
    const gate = new KeyGate({ masterKey: MASTER });
    const gw = await gateway(gate, { reply: () => ({ text: words }), latencyMs: 100 });
    const { key } = await createKey(gw, { name: "tpm500", tpm: 500 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        client(gw, key)
          .chat.completions.create({ model: "gpt-4o-mini", messages: ask("tell me a story") })
          .then(
            (answer) => ({
              status: 200,
              tokens: answer.usage?.total_tokens ?? 0,
              finish: answer.choices[0]?.finish_reason,
            }),
            (error: { status: number }) => ({ status: error.status, tokens: 0, finish: undefined }),
          ),
      ),
    );
    const served = results.filter((r) => r.status === 200);
    // Before: all 10 answered in full (with 300 words: 3,040 tokens in the minute). Now what was served fits in the 500.
    expect(served.length).toBeGreaterThan(0);
    expect(served.reduce((sum, r) => sum + r.tokens, 0)).toBeLessThanOrEqual(500);
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 429)).toBe(true);
    // The first answer was cut at its cap (the model was asked for no more), as max_tokens would cut it.
    expect(served[0]?.finish).toBe("length");
    const asked = gw.openaiUpstream.requests.map((r) => (r.body as { max_tokens?: number }).max_tokens);
    expect(asked.length).toBe(served.length);
    for (const max of asked) expect(max).toBeLessThan(500);
  });

  it("a key that may use only auto or a route gets the same tpm cap as a key without a list", async () => {
    // Listing `auto` names no model, so the key may reach any: its cap is one every model takes.
    const gate = new KeyGate({ masterKey: MASTER });
    const gw = await gateway(gate);
    const { key } = await createKey(gw, { name: "auto-only", tpm: 30_000, models: ["auto"] });
    await client(gw, key).chat.completions.create({ model: "auto", messages: ask("hi") });
    const sent = [...gw.openaiUpstream.requests, ...gw.anthropicUpstream.requests].map(
      (r) => (r.body as { max_tokens?: number }).max_tokens,
    );
    // Before: the reachable models were looked up among the key's list and none was found: the cap
    // was the whole minute (29,990 tokens), a 400 from gpt-4o-mini's real API.
    expect(sent).toEqual([16_384]);
  });

  it("a tpm cap is one every reachable model takes, and leaves room for a thinking budget", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    const gw = await gateway(gate);
    // auto reaches gpt-4o-mini (16,384) and Claude: a cap sized for the minute (29,990) would be a 400 for gpt-4o-mini.
    const { key } = await createKey(gw, { name: "wide", tpm: 30_000 });
    await client(gw, key).chat.completions.create({ model: "auto", messages: ask("hi") });
    const sent = [...gw.openaiUpstream.requests, ...gw.anthropicUpstream.requests].map(
      (r) => (r.body as { max_tokens?: number }).max_tokens,
    );
    expect(sent).toEqual([16_384]);
    // Thinking on Claude: its budget is part of what the minute holds (max_tokens = answer + budget).
    const { key: thinking } = await createKey(gw, { name: "thinking", tpm: 3_000 });
    const body = (effort: string) => ({
      model: "claude-sonnet-4-6",
      messages: ask("think"),
      reasoning_effort: effort,
    });
    await client(gw, thinking).chat.completions.create(body("low") as never);
    const claude = gw.anthropicUpstream.requests.at(-1)?.body as {
      max_tokens: number;
      thinking: { budget_tokens: number };
    };
    expect(claude.thinking.budget_tokens).toBe(1_024);
    expect(claude.max_tokens).toBeLessThanOrEqual(3_000);
    // A budget larger than the whole minute cannot be held: a 400 that says so.
    const high = await failure(client(gw, thinking).chat.completions.create(body("high") as never));
    expect([high.status, high.error.code]).toEqual([400, "tokens_exceed_tpm"]);
    expect(high.error.message).toMatch(/reasoning budget/);
  });

  it("two gateways sharing one Redis hold a key's rpm exactly under concurrent load; either one lists and revokes keys for both", async () => {
    // Two processes' worth of gate, each with its own Redis connection.
    const gates = [1, 2].map(() => new KeyGate({ masterKey: MASTER, store: new RedisKeyStore({ url: redis.url }) }));
    const [a, b] = [await gateway(gates[0] as KeyGate), await gateway(gates[1] as KeyGate)];
    const { id, key } = await createKey(a, { name: "shared", rpm: 12 });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        client(i % 2 === 0 ? a : b, key)
          .chat.completions.create({ model: "gpt-4o-mini", messages: ask(`n${i}`) })
          .then(
            () => 200,
            (e: { status: number }) => e.status,
          ),
      ),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(12);
    expect(results.filter((s) => s === 429)).toHaveLength(28);
    const listed = (await (
      await fetch(`${b.url}/admin/keys`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).json()) as { data: { id: string }[] };
    expect(listed.data.map((k) => k.id)).toContain(id);
    await fetch(`${b.url}/admin/keys/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${MASTER}` } });
    const revoked = await failure(client(a, key).chat.completions.create({ model: "gpt-4o-mini", messages: ask("x") }));
    expect(revoked.status).toBe(401);
    await Promise.all(gates.map((g) => g.store.close()));
  });
});
