import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import type { KeyAdmissionCheck, VirtualKeyRecord } from "@orchestrator-ts/core";
import { type RedisServerHandle, startRedisServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisKeyStore } from "./key-store";

let redis: RedisServerHandle;
const open: RedisKeyStore[] = [];

/** One store per simulated gateway process: each has its own connection. */
function stores(n: number): RedisKeyStore[] {
  const made = Array.from({ length: n }, () => new RedisKeyStore({ url: redis.url }));
  open.push(...made);
  return made;
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await redis?.stop();
});

function record(name: string): VirtualKeyRecord {
  return { id: `key_${randomUUID().slice(0, 8)}`, name, createdAt: new Date().toISOString(), source: "api" };
}

const check = (keyId: string, more: Partial<KeyAdmissionCheck> = {}): KeyAdmissionCheck => ({
  keyId,
  holdId: randomUUID(),
  tokens: 0,
  ...more,
});

describe("RedisKeyStore", () => {
  it("keeps keys by hash only; a key made by one process is found, listed and revoked by the others", async () => {
    const [a, b] = stores(2) as [RedisKeyStore, RedisKeyStore];
    const r = {
      ...record("shared"),
      budgetUsd: 0.000123456789,
      budgetPeriod: "month" as const,
      models: ["auto"],
      metadata: { team: "x" },
    };
    await a.create(r, "ab".repeat(32));
    expect(await b.findByHash("ab".repeat(32))).toEqual(r);
    expect(await b.findByHash("cd".repeat(32))).toBeUndefined();
    expect(await expect(b.create({ ...record("dup") }, "ab".repeat(32))).rejects.toThrow(/exists already/));
    expect((await b.list()).map((x) => x.id)).toContain(r.id);
    const revoked = await b.revoke(r.id, "2026-12-03T00:00:00.000Z");
    expect(revoked?.revokedAt).toBe("2026-12-03T00:00:00.000Z");
    expect((await a.findByHash("ab".repeat(32)))?.revokedAt).toBe("2026-12-03T00:00:00.000Z");
    expect(await a.revoke("key_none", "x")).toBeUndefined();
    expect(inspect(a)).not.toMatch(/password/);
  });

  it("rpm holds exactly across four processes admitting at once", async () => {
    const four = stores(4);
    const r = record("rpm");
    await (four[0] as RedisKeyStore).create(r, randomUUID().replace(/-/g, "").padEnd(64, "0"));
    const verdicts = await Promise.all(
      Array.from({ length: 80 }, (_, i) => (four[i % 4] as RedisKeyStore).admit(check(r.id, { rpm: 25 }))),
    );
    expect(verdicts.filter((v) => v.ok)).toHaveLength(25);
    const refused = verdicts.find((v) => !v.ok);
    expect(refused).toMatchObject({ ok: false, reason: "rpm", used: 25 });
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(55_000);
  });

  it("a budget holds across four processes: holds before the call, the real cost after, no overspend", async () => {
    const four = stores(4);
    const r = record("budget");
    // 10 calls of $0.001 fit a $0.01 budget; 40 are tried at once, in waves as calls settle.
    let admitted = 0;
    let spent = 0;
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const store = four[i % 4] as RedisKeyStore;
        const holdId = randomUUID();
        const v = await store.admit(check(r.id, { holdId, budgetUsd: 0.01, period: "2026-12", holdUsd: 0.001 }));
        if (!v.ok) {
          expect(v.reason).toBe("budget");
          return;
        }
        admitted++;
        await new Promise((res) => setTimeout(res, 5));
        spent += 0.001;
        await store.settle({ keyId: r.id, holdId, period: "2026-12", costUsd: 0.001, model: "m", user: "u" });
      }),
    );
    expect(admitted).toBe(10);
    expect(await (four[1] as RedisKeyStore).spent(r.id, "2026-12")).toEqual({ spentUsd: 0.01, heldUsd: 0 });
    const after = await (four[2] as RedisKeyStore).admit(
      check(r.id, { budgetUsd: 0.01, period: "2026-12", holdUsd: 0.001 }),
    );
    expect(after).toEqual({ ok: false, reason: "budget", spentUsd: 0.01, heldUsd: 0, neededUsd: 0.001 });
    // Another period starts from nothing.
    expect(
      (await (four[3] as RedisKeyStore).admit(check(r.id, { budgetUsd: 0.01, period: "2027-01", holdUsd: 0.001 }))).ok,
    ).toBe(true);
    expect(spent).toBeCloseTo(0.01, 12);
  });

  it("tpm counts the estimate, then the real tokens; the same admission resent counts once", async () => {
    const [a, b] = stores(2) as [RedisKeyStore, RedisKeyStore];
    const r = record("tpm");
    const first = check(r.id, { tpm: 1_000, tokens: 900 });
    expect((await a.admit(first)).ok).toBe(true);
    expect((await a.admit(first)).ok).toBe(true);
    expect(await b.admit(check(r.id, { tpm: 1_000, tokens: 200 }))).toMatchObject({
      ok: false,
      reason: "tpm",
      used: 900,
    });
    await a.settle({ keyId: r.id, holdId: first.holdId, costUsd: 0, tokens: 300 });
    expect((await b.admit(check(r.id, { tpm: 1_000, tokens: 700 }))).ok).toBe(true);
    expect(await a.admit(check(r.id, { tpm: 1_000, tokens: 1 }))).toMatchObject({
      ok: false,
      reason: "tpm",
      used: 1_000,
    });
  });

  it("a hold whose process died lapses after holdTtlMs", async () => {
    const [short] = [new RedisKeyStore({ url: redis.url, holdTtlMs: 200 })];
    open.push(short);
    const r = record("lapse");
    expect((await short.admit(check(r.id, { budgetUsd: 1, period: "total", holdUsd: 1 }))).ok).toBe(true);
    expect((await short.admit(check(r.id, { budgetUsd: 1, period: "total", holdUsd: 1 }))).ok).toBe(false);
    await new Promise((res) => setTimeout(res, 300));
    expect((await short.admit(check(r.id, { budgetUsd: 1, period: "total", holdUsd: 1 }))).ok).toBe(true);
  });

  it("records spend by key, model and user, per hour, readable from any process", async () => {
    const [a, b] = stores(2) as [RedisKeyStore, RedisKeyStore];
    const k = record("spender");
    const user = `user-${randomUUID().slice(0, 6)}`;
    const model = `model-${randomUUID().slice(0, 6)}`;
    for (const s of [a, b, a]) {
      const holdId = randomUUID();
      await s.admit(check(k.id, { holdId }));
      await s.settle({ keyId: k.id, holdId, costUsd: 0.002, inputTokens: 10, outputTokens: 4, model, user });
    }
    const since = new Date(Date.now() - 60_000);
    expect((await b.spend({ by: "key", since })).find((r) => r.name === k.id)).toEqual({
      name: k.id,
      costUsd: 0.006,
      requests: 3,
      inputTokens: 30,
      outputTokens: 12,
    });
    expect((await a.spend({ by: "model", since })).find((r) => r.name === model)?.costUsd).toBe(0.006);
    expect((await a.spend({ by: "user", since })).find((r) => r.name === user)?.requests).toBe(3);
  });

  it("fails at once with RedisUnavailableError while Redis is down (the gate answers 503, nothing waits)", async () => {
    const store = new RedisKeyStore({ url: "redis://127.0.0.1:1", operationTimeoutMs: 300 });
    open.push(store);
    const started = performance.now();
    await expect(store.admit(check("key_x", { rpm: 1 }))).rejects.toThrow();
    await expect(store.admit(check("key_x", { rpm: 1 }))).rejects.toMatchObject({ code: "redis_unavailable" });
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
