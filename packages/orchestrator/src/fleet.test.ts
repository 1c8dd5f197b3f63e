// A fleet: three `orchestrator serve` processes on one redis-server, as several gateway replicas
// behind a load balancer would run. They share keys, budgets and rate limits (the key gate's
// RedisKeyStore), health state and the bandit's statistics (the config's redis: section).
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type OpenAIServer,
  type RedisServerHandle,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = resolve(__dirname, "../bin/orchestrator.js");
const HOME = mkdtempSync(join(tmpdir(), "orchestrator-fleet-"));
const UPSTREAM_KEY = "sk-fleet-upstream-0123456789";
const MASTER = "sk-admin-fleet-0123456789abcdef";

let redis: RedisServerHandle;
let alphaUp: OpenAIServer;
let betaUp: OpenAIServer;
const fleet: { child: ChildProcessWithoutNullStreams; url: string; stderr: () => string }[] = [];

async function startServe(
  config: string,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, "serve", "--config", config, "--port", "0"], {
    cwd: HOME,
    env: {
      PATH: process.env.PATH ?? "",
      HOME,
      ORCHESTRATOR_HOME: HOME,
      UPSTREAM_KEY,
      FLEET_REDIS_URL: redis.url,
      ORCHESTRATOR_MASTER_KEY: MASTER,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve printed no URL in 60 s\nstderr: ${stderr}`)), 60_000);
    child.stdout.on("data", () => {
      const match = /serving on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        done(match[1] as string);
      }
    });
    child.once("exit", (code) => fail(new Error(`serve exited early (code ${code})\nstderr: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

beforeAll(async () => {
  [redis, alphaUp, betaUp] = await Promise.all([
    startRedisServer(),
    startOpenAIServer({ apiKey: UPSTREAM_KEY }),
    startOpenAIServer({ apiKey: UPSTREAM_KEY }),
  ]);
  const config = join(HOME, "models.yaml");
  writeFileSync(
    config,
    `models:
  - name: alpha
    provider: openai
    config: { api_key: "\${UPSTREAM_KEY}", base_url: "${alphaUp.baseURL}" }
    capabilities: { input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }
  - name: beta
    provider: openai
    config: { api_key: "\${UPSTREAM_KEY}", base_url: "${betaUp.baseURL}" }
    capabilities: { input_cost_per_token: 0.000003, output_cost_per_token: 0.000006 }
# auto: the cheapest healthy model (alpha, while it is healthy).
selector: { type: cost }
routes:
  - name: learned
    type: selector
    selector: { type: ucb, exploration_factor: 0.01, min_trials: 1 }
health: { enabled: true, failure_threshold: 2, check_interval: 1h }
execution: { max_retries: 0 }
redis: { url: "\${FLEET_REDIS_URL}", key_prefix: "fleet:" }
`,
  );
  fleet.push(...(await Promise.all([1, 2, 3].map(() => startServe(config)))));
}, 120_000);

afterAll(async () => {
  await Promise.all(
    fleet.map(
      (p) =>
        new Promise<void>((done) => {
          if (p.child.exitCode !== null) return done();
          p.child.once("exit", () => done());
          p.child.kill("SIGTERM");
        }),
    ),
  );
  await Promise.all([redis?.stop(), alphaUp?.close(), betaUp?.close()]);
});

const client = (i: number, apiKey: string) => new OpenAI({ apiKey, baseURL: `${fleet[i]?.url}/v1`, maxRetries: 0 });
const ask = (content: string) => [{ role: "user" as const, content }];

async function admin(
  i: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${fleet[i]?.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function newKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const made = await admin(0, "POST", "/admin/keys", body);
  expect(made.status).toBe(201);
  return made.body as { id: string; key: string };
}

type Outcome = { status: number; cost?: number; model?: string; selectionId?: string; message?: string; type?: string };

/** One chat completion through process `i` with `max_tokens: 16`, or none (`maxTokens: null`: the OpenAI SDK's default). */
async function call(
  i: number,
  key: string,
  model: string,
  content: string,
  maxTokens: number | null = 16,
): Promise<Outcome> {
  try {
    const { response } = await client(i, key)
      .chat.completions.create({
        model,
        messages: ask(content),
        ...(maxTokens === null ? {} : { max_tokens: maxTokens }),
      })
      .withResponse();
    return {
      status: 200,
      cost: Number(response.headers.get("x-orchestrator-cost-usd")),
      model: response.headers.get("x-orchestrator-model") ?? "",
      selectionId: response.headers.get("x-orchestrator-selection-id") ?? "",
    };
  } catch (error) {
    const e = error as { status?: number; error?: { message?: string; type?: string } };
    return { status: e.status ?? 0, message: e.error?.message ?? String(error), type: e.error?.type ?? "" };
  }
}

describe("a fleet of three `orchestrator serve` processes on one redis-server", () => {
  it("holds a key's rpm exactly across the three under concurrent load", { timeout: 60_000 }, async () => {
    // A key for a model none of them serves could never be used: refused when it is made.
    const unusable = await admin(1, "POST", "/admin/keys", { name: "typo", models: ["alpah"] });
    expect([unusable.status, (unusable.body.error as { param?: string }).param]).toEqual([400, "models"]);
    expect((unusable.body.error as { message: string }).message).toContain('unknown model or route "alpah"');
    const { key } = await newKey({ name: "fleet-rpm", rpm: 15 });
    const outcomes = await Promise.all(Array.from({ length: 45 }, (_, n) => call(n % 3, key, "alpha", `rpm ${n}`)));
    expect(outcomes.filter((o) => o.status === 200)).toHaveLength(15);
    const refused = outcomes.filter((o) => o.status !== 200);
    expect(refused).toHaveLength(30);
    for (const o of refused)
      expect([o.status, o.type, o.message]).toEqual([
        429,
        "rate_limit_error",
        expect.stringContaining('"fleet-rpm" is over its limit of 15 requests per minute'),
      ]);
  });

  it("holds a key's budget across the three: every answer charged at its real cost, nothing spent past the budget", {
    timeout: 60_000,
  }, async () => {
    // What one call costs (the same prompt and answer every time), through a key without limits.
    const probe = await newKey({ name: "fleet-probe" });
    const one = await call(0, probe.key, "alpha", "budget");
    expect(one.status).toBe(200);
    const cost = one.cost as number;
    expect(cost).toBeGreaterThan(0);
    const { id, key } = await newKey({ name: "fleet-budget", budgetUsd: 12 * cost, budgetPeriod: "day" });
    // Three waves of 30 concurrent calls over the three processes, then one at a time until refused.
    const outcomes: Outcome[] = [];
    for (let wave = 0; wave < 3; wave++)
      outcomes.push(...(await Promise.all(Array.from({ length: 30 }, (_, n) => call(n % 3, key, "alpha", "budget")))));
    for (let n = 0; n < 30; n++) {
      const o = await call(n % 3, key, "alpha", "budget");
      outcomes.push(o);
      if (o.status !== 200) break;
    }
    const served = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status !== 200);
    for (const o of refused) expect([o.status, o.type]).toEqual([429, "budget_exceeded"]);
    const last = refused.at(-1)?.message ?? "";
    const day = new Date().toISOString().slice(0, 10);
    expect(last).toMatch(
      new RegExp(
        `^The key "fleet-budget" has used its daily budget \\(UTC day ${day}\\) of \\$[0-9.]+: \\$[0-9.]+ spent: \\$[0-9.]+ is left, less than this request may cost \\(\\$([0-9.]+)\\)\\. It resets at \\d{4}-\\d\\d-\\d\\dT00:00:00\\.000Z\\.$`,
      ),
    );
    const hold = Number(/may cost \(\$([0-9.]+)\)/.exec(last)?.[1]);
    // Every process charged the same counters: the key's spend is the sum of what was served.
    const listed = (await admin(1, "GET", "/admin/keys")).body.data as {
      id: string;
      spentUsd: number;
      heldUsd: number;
    }[];
    const mine = listed.find((k) => k.id === id) as { spentUsd: number; heldUsd: number };
    const sum = served.reduce((s, o) => s + (o.cost as number), 0);
    expect(mine.spentUsd).toBeCloseTo(sum, 9);
    expect(mine.heldUsd).toBe(0);
    // Never past the budget, and used up as far as one more call's hold allows.
    expect(mine.spentUsd).toBeLessThanOrEqual(12 * cost + 1e-12);
    expect(12 * cost - mine.spentUsd).toBeLessThan(hold);
    expect(served.length).toBeGreaterThanOrEqual(Math.floor((12 * cost - hold) / cost));
    const spend = (await admin(2, "GET", "/admin/spend?by=key&since=1h")).body.data as {
      name: string;
      costUsd: number;
      requests: number;
    }[];
    expect(spend.find((r) => r.name === id)).toMatchObject({ requests: served.length });
  });

  it("a call without max_tokens holds the longest answer its model allows: concurrent calls cannot spend past the budget, and one that could never fit is a 400 saying to set max_tokens", {
    timeout: 60_000,
  }, async () => {
    const probe = await newKey({ name: "fleet-probe-uncapped" });
    const one = await call(0, probe.key, "alpha", "uncapped", null);
    expect(one.status).toBe(200);
    const cost = one.cost as number;
    // Before, the hold was the prompt alone: all thirty passed and spent 30 times the cost of one, 2.5 times the budget.
    const { key } = await newKey({ name: "fleet-uncapped", budgetUsd: 12 * cost, budgetPeriod: "day" });
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, n) => call(n % 3, key, "alpha", "uncapped", null)),
    );
    // What was answered is what was spent (each answer costs \`cost\`): never past the budget.
    expect(outcomes.filter((o) => o.status === 200).length * cost).toBeLessThanOrEqual(12 * cost);
    for (const o of outcomes) {
      expect([o.status, o.type]).toEqual([400, "invalid_request_error"]);
      expect(o.message).toMatch(
        /^This request may cost up to \$[0-9.]+, more than the whole daily budget of the key "fleet-uncapped" \(\$[0-9.]+\): set max_tokens \(the hold otherwise covers the longest answer the model allows\) or shorten the prompt\.$/,
      );
    }
    // With max_tokens the same key is served.
    expect((await call(1, key, "alpha", "uncapped", 16)).status).toBe(200);
  });

  it("feedback sent to one process moves the others' choices", { timeout: 90_000 }, async () => {
    const { key } = await newKey({ name: "fleet-feedback" });
    const rate = async (model: string, quality: number, times: number) => {
      for (let n = 0; n < times; n++) {
        const o = await call(0, key, model, `rate ${model} ${n}`);
        expect(o.status).toBe(200);
        const res = await fetch(`${fleet[0]?.url}/v1/feedback`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ selection_id: o.selectionId, quality }),
        });
        expect(res.status).toBe(200);
      }
    };
    const choices = async () => {
      const picked: string[] = [];
      for (const i of [1, 2, 1, 2, 1, 2])
        picked.push((await call(i, key, "learned", `choose ${picked.length}`)).model as string);
      return picked;
    };
    // Process 0's users rate beta's answers good and alpha's bad: the others pick beta.
    await rate("beta", 1, 8);
    await rate("alpha", 0, 8);
    await expect
      .poll(async () => (await choices()).filter((m) => m === "beta").length, { timeout: 20_000, interval: 500 })
      .toBe(6);
    // Then the other way round, more strongly: the others move to alpha.
    await rate("alpha", 1, 30);
    await rate("beta", 0, 30);
    await expect
      .poll(async () => (await choices()).filter((m) => m === "alpha").length, { timeout: 20_000, interval: 500 })
      .toBe(6);
  });
  // Last: alpha stays unhealthy afterwards.
  it("a model that fails in one process is avoided by the others", { timeout: 60_000 }, async () => {
    const { key } = await newKey({ name: "fleet-health" });
    // Before: auto is the cheapest model, alpha, everywhere.
    for (const i of [0, 1, 2]) expect((await call(i, key, "auto", `before ${i}`)).model).toBe("alpha");
    // alpha fails twice in process 0 (failure_threshold: 2).
    alphaUp.enqueueFaults([
      { type: "status", status: 500 },
      { type: "status", status: 500 },
    ]);
    for (let n = 0; n < 2; n++) expect((await call(0, key, "alpha", `fail ${n}`)).status).toBeGreaterThanOrEqual(500);
    const alphaCalls = alphaUp.stats.inferenceRequests;
    // The others now route auto to beta without trying alpha themselves.
    await expect
      .poll(async () => (await call(1, key, "auto", "after 1")).model, { timeout: 10_000, interval: 200 })
      .toBe("beta");
    for (const i of [1, 2, 2, 1]) expect((await call(i, key, "auto", `after ${i}`)).model).toBe("beta");
    expect(alphaUp.stats.inferenceRequests).toBe(alphaCalls);
  });
});
