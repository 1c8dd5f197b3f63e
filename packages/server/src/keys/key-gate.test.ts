import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { budgetPeriodEnd } from "@orchestrator-ts/core/internal";
import { afterEach, describe, expect, it } from "vitest";
import { type Caller, GatewayError } from "../contract";
import { createAdminHandler } from "./admin";
import { KeyGate } from "./key-gate";
import { hashKey } from "./key-material";
import { MemoryKeyStore } from "./memory-key-store";

const MASTER = "sk-admin-test-0123456789abcdef";

/** A real HTTP server in front of the admin handler, authenticating like the gateway's front does. */
async function adminServer(gate: KeyGate): Promise<{ url: string; server: Server }> {
  const admin = createAdminHandler(gate);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const raw = req.headers.authorization?.replace(/^Bearer\s+/i, "");
    let caller: Caller = {};
    if (raw) caller = await gate.authenticate(raw).catch(() => ({}));
    if (!(await admin(req, res, url, caller))) {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function call(base: string, method: string, path: string, key: string | undefined, body?: unknown) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the assertions walk
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    expect(GatewayError.isInstance(error)).toBe(true);
    return error as GatewayError;
  }
  throw new Error("expected a GatewayError");
}

describe("the admin API", () => {
  it("creates a key shown once, lists keys without it, revokes it; the key then gets 401", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    const { url, server } = await adminServer(gate);
    servers.push(server);
    const created = await call(url, "POST", "/admin/keys", MASTER, {
      name: "team-a",
      budgetUsd: 5,
      budgetPeriod: "day",
      rpm: 60,
      tpm: 10_000,
      models: ["auto", "cheap"],
    });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^sk-orc-[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^key_/),
      name: "team-a",
      budgetUsd: 5,
      budgetPeriod: "day",
      rpm: 60,
      tpm: 10_000,
      models: ["auto", "cheap"],
    });

    const caller = await gate.authenticate(key);
    expect(caller).toEqual({ keyId: created.body.id, keyName: "team-a", models: ["auto", "cheap"] });

    const listed = await call(url, "GET", "/admin/keys", MASTER);
    expect(listed.status).toBe(200);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(key);
    expect(text).not.toContain(hashKey(key));
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        id: created.body.id,
        name: "team-a",
        spentUsd: 0,
        period: new Date().toISOString().slice(0, 10),
        resetsAt: budgetPeriodEnd("day", new Date())?.toISOString(),
      }),
    ]);
    expect(
      inspect(gate, { depth: 10 }) + JSON.stringify(gate) + inspect(await gate.store.list(), { depth: 5 }),
    ).not.toContain(key);

    const revoked = await call(url, "DELETE", `/admin/keys/${created.body.id}`, MASTER);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: created.body.id, revoked: true, revokedAt: expect.any(String) });
    const error = await rejection(gate.authenticate(key));
    expect([error.status, error.code]).toEqual([401, "revoked_api_key"]);
    expect(error.message).toContain('"team-a" was revoked');
    expect(`${error.message}${JSON.stringify(error)}${inspect(error)}`).not.toContain(key);
    expect((await call(url, "DELETE", "/admin/keys/key_nope", MASTER)).status).toBe(404);
    // Malformed percent-encoding is an id no key has (it was a 500).
    expect((await call(url, "GET", "/admin/keys/%E0%A4%A", MASTER)).status).toBe(404);
  });

  it("lets only the master key in: none → 401, a virtual key → 403", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    const { url, server } = await adminServer(gate);
    servers.push(server);
    const anon = await call(url, "GET", "/admin/keys", undefined);
    expect(anon.status).toBe(401);
    expect(anon.body.error).toMatchObject({ type: "authentication_error" });
    const { key } = await gate.createKey({ name: "plain" });
    const denied = await call(url, "GET", "/admin/spend", key);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ type: "permission_error", code: "admin_only" });
    expect((await call(url, "POST", "/admin/keys", key, { name: "x" })).status).toBe(403);
  });

  it("answers bad input with 400 naming the field, in OpenAI's error shape", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    const { url, server } = await adminServer(gate);
    servers.push(server);
    const cases: [unknown, string][] = [
      [{}, "name"],
      [{ name: "a", budgetUsd: -1 }, "budgetUsd"],
      [{ name: "a", budgetUsd: 1, budgetPeriod: "week" }, "budgetPeriod"],
      [{ name: "a", rpm: 1.5 }, "rpm"],
      [{ name: "a", tpm: "100" }, "tpm"],
      [{ name: "a", models: ["ok", 3] }, "models[1]"],
      [{ name: "a", metadata: { team: 7 } }, "metadata.team"],
      [{ name: "a", budget: 5 }, "budget"],
      ["[1,", "body"],
    ];
    for (const [body, param] of cases) {
      const res = await call(url, "POST", "/admin/keys", MASTER, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.type).toBe("invalid_request_error");
      if (param !== "body") expect(res.body.error.param).toBe(param);
    }
    const spend = await call(url, "GET", "/admin/spend?by=team", MASTER);
    expect([spend.status, spend.body.error.param]).toEqual([400, "by"]);
    const since = await call(url, "GET", "/admin/spend?since=yesterday", MASTER);
    expect([since.status, since.body.error.param]).toEqual([400, "since"]);
    const big = await fetch(`${url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER}` },
      body: "x".repeat(200_000),
    });
    expect(big.status).toBe(413);
  });
});

describe("the key gate", () => {
  it("refuses requests with no key or an unknown key (401) and models the key may not use (403)", async () => {
    const gate = new KeyGate({ masterKey: MASTER });
    expect((await rejection(gate.authenticate(undefined))).status).toBe(401);
    const unknown = await rejection(gate.authenticate("sk-orc-not-a-key"));
    expect([unknown.status, unknown.type]).toEqual([401, "authentication_error"]);
    expect(unknown.message).not.toContain("sk-orc-not-a-key");
    expect(await gate.authenticate(MASTER)).toMatchObject({ admin: true });
    const { key } = await gate.createKey({ name: "narrow", models: ["cheap"] });
    const caller = await gate.authenticate(key);
    await (await gate.admit(caller, { model: "cheap" })).settle({ costUsd: 0 });
    const forbidden = await rejection(gate.admit(caller, { model: "gpt-4o" }));
    expect([forbidden.status, forbidden.type, forbidden.param]).toEqual([403, "permission_error", "model"]);
    expect(forbidden.message).toContain('"narrow" may not use "gpt-4o"');
  });

  it("holds rpm: the request past the limit gets 429 rate_limit_error with Retry-After", async () => {
    const gate = new KeyGate();
    const { key } = await gate.createKey({ name: "slow", rpm: 3 });
    const caller = await gate.authenticate(key);
    for (let i = 0; i < 3; i++) await (await gate.admit(caller, { model: "auto" })).settle({ costUsd: 0 });
    const error = await rejection(gate.admit(caller, { model: "auto" }));
    expect([error.status, error.type, error.code]).toEqual([429, "rate_limit_error", "rpm_exceeded"]);
    expect(error.retryAfterMs).toBeGreaterThan(55_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(error.message).toContain('"slow" is over its limit of 3 requests per minute');
  });

  it("refuses a master key shorter than 16 characters at once, without showing it", () => {
    // Nothing limits how many keys a client tries on /admin and /v1: a short master key is guessed.
    const error = (() => {
      try {
        new KeyGate({ masterKey: "letmein-2024" });
      } catch (e) {
        return e as Error & { code?: string };
      }
      return undefined;
    })();
    expect(error?.code).toBe("config_error");
    expect(error?.message).toMatch(/masterKey.*at least 16 characters, got 12/);
    expect(error?.message).not.toContain("letmein");
    expect(() => new KeyGate({ masterKey: "a-sixteen-chars!" })).not.toThrow();
  });

  it("holds tpm with the estimate, then counts the real tokens", async () => {
    const gate = new KeyGate();
    const { key } = await gate.createKey({ name: "tokens", tpm: 1_000 });
    const caller = await gate.authenticate(key);
    const first = await gate.admit(caller, { model: "auto", estimatedTokens: 900 });
    expect((await rejection(gate.admit(caller, { model: "auto", estimatedTokens: 200 }))).code).toBe("tpm_exceeded");
    // It used 300 tokens in the end: 700 are free again.
    await first.settle({ costUsd: 0, inputTokens: 100, outputTokens: 200 });
    await (await gate.admit(caller, { model: "auto", estimatedTokens: 600 })).settle({
      costUsd: 0,
      inputTokens: 300,
      outputTokens: 300,
    });
    const over = await rejection(gate.admit(caller, { model: "auto", estimatedTokens: 500 }));
    expect([over.status, over.code]).toEqual([429, "tpm_exceeded"]);
    expect(over.retryAfterMs).toBeGreaterThan(0);
    const huge = await rejection(gate.admit(caller, { model: "auto", estimatedTokens: 5_000 }));
    expect([huge.status, huge.param]).toEqual([400, "max_tokens"]);
  });

  it("without max_tokens a tpm counts the longest answer, or caps the answer to what the tpm leaves", async () => {
    const gate = new KeyGate();
    const { key } = await gate.createKey({ name: "tokens", tpm: 1_000 });
    const caller = await gate.authenticate(key);
    // Models that write at most 300 tokens: 100 + 300 held, and no cap.
    const short = await gate.admit(caller, {
      model: "auto",
      estimatedTokens: 100,
      promptTokens: 100,
      longestAnswerTokens: 300,
    });
    expect(short.maxOutputTokens).toBeUndefined();
    // 600 of the minute are left: a model that may write 4,096 is held for the 500 beyond its prompt, capped to them.
    const long = await gate.admit(caller, {
      model: "auto",
      estimatedTokens: 100,
      promptTokens: 100,
      longestAnswerTokens: 4_096,
    });
    expect(long.maxOutputTokens).toBe(500);
    // All 1,000 are held: nothing more fits until they settle.
    expect((await rejection(gate.admit(caller, { model: "auto", estimatedTokens: 10, promptTokens: 10 }))).code).toBe(
      "tpm_exceeded",
    );
    await short.settle({ costUsd: 0, inputTokens: 100, outputTokens: 50 });
    await long.settle({ costUsd: 0, inputTokens: 100, outputTokens: 200 });
    // 450 used: an unknown longest answer is capped to what the minute leaves, and a prompt over the tpm is a 400.
    const unknown = await gate.admit(caller, { model: "auto", estimatedTokens: 50, promptTokens: 50 });
    expect(unknown.maxOutputTokens).toBe(500);
    await unknown.settle({ costUsd: 0, inputTokens: 50, outputTokens: 1 });
    const huge = await rejection(gate.admit(caller, { model: "auto", estimatedTokens: 1_000, promptTokens: 1_000 }));
    expect([huge.status, huge.code]).toEqual([400, "tokens_exceed_tpm"]);
    // A cap is never more than every reachable model takes as max_tokens (a model that declares no
    // limit, or gpt-4o-mini beside a model that writes more): then the minute holds several at once.
    const safe = await gate.admit(caller, {
      model: "auto",
      estimatedTokens: 10,
      promptTokens: 10,
      safeAnswerTokens: 300,
    });
    expect(safe.maxOutputTokens).toBe(300);
    await safe.settle({ costUsd: 0, inputTokens: 10, outputTokens: 1 });
    // With max_tokens the client's own limit is what counts, and nothing is capped.
    const given = await gate.admit(caller, {
      model: "auto",
      estimatedTokens: 60,
      promptTokens: 10,
      maxOutputTokens: 50,
    });
    expect(given.maxOutputTokens).toBeUndefined();
  });

  it("holds the budget: concurrent holds, settled to the real cost; over it a 429 saying which budget and when it resets", async () => {
    const gate = new KeyGate();
    const { key } = await gate.createKey({ name: "capped", budgetUsd: 0.01, budgetPeriod: "day" });
    const caller = await gate.authenticate(key);
    // Calls in flight each hold their most possible cost, $0.003: three fit in $0.01, a fourth does not.
    const admissions = await Promise.all(
      [1, 2, 3].map(() => gate.admit(caller, { model: "auto", estimatedCostUsd: 0.003 })),
    );
    expect((await rejection(gate.admit(caller, { model: "auto", estimatedCostUsd: 0.003 }))).type).toBe(
      "budget_exceeded",
    );
    // They cost $0.002 each: $0.006 spent, room for one more $0.003 hold.
    for (const a of admissions) await a.settle({ costUsd: 0.002, model: "small", inputTokens: 10, outputTokens: 5 });
    await (await gate.admit(caller, { model: "auto", estimatedCostUsd: 0.003 })).settle({
      costUsd: 0.002,
      model: "small",
    });
    const day = new Date().toISOString().slice(0, 10);
    const resets = budgetPeriodEnd("day", new Date()) as Date;
    const short = await rejection(gate.admit(caller, { model: "auto", estimatedCostUsd: 0.003 }));
    expect(short.message).toBe(
      `The key "capped" has used its daily budget (UTC day ${day}) of $0.01: $0.008 spent: $0.002 is left, less than this request may cost ($0.003). It resets at ${resets.toISOString()}.`,
    );
    // A cheaper request still fits, exactly.
    await (await gate.admit(caller, { model: "auto", estimatedCostUsd: 0.002 })).settle({
      costUsd: 0.002,
      model: "small",
    });
    const error = await rejection(gate.admit(caller, { model: "auto", estimatedCostUsd: 0.0001 }));
    expect([error.status, error.type, error.code]).toEqual([429, "budget_exceeded", "budget_exceeded"]);
    expect(error.message).toBe(
      `The key "capped" has used its daily budget (UTC day ${day}) of $0.01: $0.01 spent. It resets at ${resets.toISOString()}.`,
    );
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(resets.getTime() - Date.now() + 1_000);
    expect(error.headers["x-orchestrator-budget-resets-at"]).toBe(resets.toISOString());
    expect(await gate.store.spent(caller.keyId as string, day)).toEqual({ spentUsd: 0.01, heldUsd: 0 });
  });

  it("a total budget says it does not reset; without an estimate the hold is the key's usual cost", async () => {
    const gate = new KeyGate();
    const { key } = await gate.createKey({ name: "once", budgetUsd: 1, budgetPeriod: "total" });
    const caller = await gate.authenticate(key);
    await (await gate.admit(caller, { model: "auto" })).settle({ costUsd: 0.4 });
    // $0.4 spent; a call in flight holds the usual $0.4; a third would need $0.4 of the $0.2 left.
    const a = await gate.admit(caller, { model: "auto" });
    const refused = await rejection(gate.admit(caller, { model: "auto" }));
    expect(refused.message).toBe(
      'The key "once" has used its total budget of $1.00: $0.40 spent and $0.40 held by calls in flight: $0.20 is left, less than this request may cost ($0.40). It does not reset: raise it or use another key.',
    );
    expect(refused.retryAfterMs).toBeUndefined();
    await a.settle({ costUsd: 0.4 });
    expect((await gate.listKeys())[0]).toMatchObject({ period: "total", spentUsd: 0.8, heldUsd: 0 });
  });

  it("records spend by key, model and user", async () => {
    const gate = new KeyGate();
    const one = await gate.authenticate((await gate.createKey({ name: "one" })).key);
    const two = await gate.authenticate((await gate.createKey({ name: "two" })).key);
    await (await gate.admit({ ...one, user: "ana" }, { model: "auto" })).settle({
      costUsd: 0.003,
      model: "large",
      inputTokens: 10,
      outputTokens: 20,
    });
    await (await gate.admit({ ...one, user: "bo" }, { model: "auto" })).settle({
      costUsd: 0.001,
      model: "small",
      inputTokens: 1,
      outputTokens: 2,
    });
    await (await gate.admit({ ...two, user: "ana" }, { model: "auto" })).settle({
      costUsd: 0.001,
      model: "small",
      inputTokens: 1,
      outputTokens: 2,
    });
    const since = new Date(Date.now() - 60_000);
    expect(await gate.spend({ by: "key", since })).toEqual([
      { name: one.keyId, costUsd: 0.004, requests: 2, inputTokens: 11, outputTokens: 22 },
      { name: two.keyId, costUsd: 0.001, requests: 1, inputTokens: 1, outputTokens: 2 },
    ]);
    expect((await gate.spend({ by: "model", since })).map((r) => [r.name, r.costUsd, r.requests])).toEqual([
      ["large", 0.003, 1],
      ["small", 0.002, 2],
    ]);
    expect((await gate.spend({ by: "user", since })).map((r) => [r.name, r.costUsd])).toEqual([
      ["ana", 0.004],
      ["bo", 0.001],
    ]);
    expect(await gate.spend({ by: "key", since: new Date(Date.now() + 2 * 3_600_000) })).toEqual([]);
  });

  it("accepts static keys from the config, counted like any other and not revocable through the API", async () => {
    const value = "sk-static-0123456789abcdef";
    const { Secret } = await import("@orchestrator-ts/core");
    const store = new MemoryKeyStore();
    const gate = new KeyGate({ store, keys: [{ name: "ci", key: new Secret(value), rpm: 1, models: ["auto"] }] });
    const caller = await gate.authenticate(value);
    expect(caller).toEqual({ keyId: "cfg_ci", keyName: "ci", models: ["auto"] });
    await (await gate.admit(caller, { model: "auto" })).settle({ costUsd: 0 });
    expect((await rejection(gate.admit(caller, { model: "auto" }))).code).toBe("rpm_exceeded");
    expect(inspect(gate, { depth: 10 }) + JSON.stringify(await gate.listKeys())).not.toContain(value);
    expect(gate.isStaticKey("cfg_ci")).toBe(true);
  });
});
