// The dashboard over HTTP: who may open it (Bearer master key, the login cookie), what it shows
// after real requests through the gateway, escaping, and its live stream's lifecycle.
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { afterEach, describe, expect, it } from "vitest";
import { KeyGate } from "../keys/key-gate";
import { createAdminHandler } from "../keys/admin";
import { OPENAI_KEY, ask, startGateway, type Gateway } from "../test/gateway";
import { createDashboard } from "./dashboard";
import type { Dashboard } from "./types";

const MASTER = "sk-master-dashboard-test-0123456789";
let gw: Gateway | undefined;
let dashboard: Dashboard | undefined;

afterEach(async () => {
  dashboard?.close();
  await gw?.close();
  gw = undefined;
  dashboard = undefined;
});

async function start(
  options: Partial<Parameters<typeof createDashboard>[0]> = {},
): Promise<{ gw: Gateway; dashboard: Dashboard; gate: KeyGate }> {
  const gate = new KeyGate({ masterKey: MASTER });
  let made: Dashboard | undefined;
  gw = await startGateway({
    setup: (registry) => {
      made = createDashboard({ registry, masterKey: MASTER, spend: gate, ...options });
    },
    server: {
      gatekeeper: gate,
      admin: createAdminHandler(gate),
      get observers() {
        return made ? [made] : [];
      },
      get extraRoutes() {
        return made ? made.routes : [];
      },
    },
  });
  dashboard = made as Dashboard;
  return { gw, dashboard, gate };
}

const bearer = { authorization: `Bearer ${MASTER}` };

describe("dashboard access", () => {
  it("refuses every /ui path without the master key: the page gets the login form, JSON and SSE get 401", async () => {
    const { gw } = await start();
    const page = await fetch(`${gw.url}/ui`);
    expect(page.status).toBe(401);
    expect(page.headers.get("content-type")).toContain("text/html");
    const text = await page.text();
    expect(text).toContain('<form method="post" action="/ui/login"');
    expect(text).not.toContain("gpt-4o-mini");
    for (const path of ["/ui/state", "/ui/events", "/ui/replay.svg"]) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    }
    const wrong = await fetch(`${gw.url}/ui`, { headers: { authorization: "Bearer sk-not-the-master-key" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("That key is not the master key.");
    // A virtual key of the gate is no master key either.
    const created = await fetch(`${gw.url}/admin/keys`, {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json" },
      body: JSON.stringify({ name: "team-a" }),
    });
    const { key } = (await created.json()) as { key: string };
    expect((await fetch(`${gw.url}/ui/state`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
  });

  it("opens with the master key as Bearer, and through the login form's cookie (HttpOnly, SameSite=Strict, never the key)", async () => {
    const { gw } = await start();
    const page = await fetch(`${gw.url}/ui`, { headers: bearer });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'nonce-/);
    expect(await page.text()).toContain("gpt-4o-mini");

    const bad = await fetch(`${gw.url}/ui/login`, {
      method: "POST",
      body: new URLSearchParams({ key: "wrong-key" }),
      redirect: "manual",
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("set-cookie")).toBeNull();
    expect(await bad.text()).toContain("That key is not the master key.");

    const good = await fetch(`${gw.url}/ui/login`, {
      method: "POST",
      body: new URLSearchParams({ key: MASTER }),
      redirect: "manual",
    });
    expect(good.status).toBe(303);
    expect(good.headers.get("location")).toBe("/ui");
    const cookie = good.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(MASTER);
    const session = cookie.split(";")[0] as string;
    const opened = await fetch(`${gw.url}/ui/state`, { headers: { cookie: session } });
    expect(opened.status).toBe(200);

    // A forged or altered token is refused.
    const [name, value] = session.split("=") as [string, string];
    const forged = `${name}=${String(Number(value.split(".")[0]) + 1)}.${value.split(".")[1]}`;
    expect((await fetch(`${gw.url}/ui/state`, { headers: { cookie: forged } })).status).toBe(401);

    const out = await fetch(`${gw.url}/ui/logout`, {
      method: "POST",
      headers: { cookie: session },
      redirect: "manual",
    });
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
  });

  it("cannot be made without a master key", () => {
    const saved = process.env.ORCHESTRATOR_MASTER_KEY;
    delete process.env.ORCHESTRATOR_MASTER_KEY;
    try {
      expect(() => createDashboard({ registry: {} as never })).toThrow(/needs a master key/);
    } finally {
      if (saved !== undefined) process.env.ORCHESTRATOR_MASTER_KEY = saved;
    }
  });
});

describe("dashboard content", () => {
  it("shows the requests sent through the gateway: totals, models, decisions with their alternatives, spend per key", async () => {
    const { gw } = await start();
    const created = await fetch(`${gw.url}/admin/keys`, {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json" },
      body: JSON.stringify({ name: "team-a", budgetUsd: 5, budgetPeriod: "day" }),
    });
    const { key } = (await created.json()) as { key: string };
    const OpenAI = (await import("openai")).default;
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("Hello") });
    await client.chat.completions.create({ model: "auto", messages: ask("Pick one") });
    await client.chat.completions.create({ model: "auto", messages: ask("Pick again") });
    await expect(client.chat.completions.create({ model: "no-such-model", messages: ask("x") })).rejects.toThrow();

    const res = await fetch(`${gw.url}/ui/state`, { headers: bearer });
    const state = (await res.json()) as Awaited<ReturnType<Dashboard["state"]>>;
    expect(state.totals.requests).toBe(4);
    expect(state.totals.errors).toBe(1);
    expect(state.totals.costUsd).toBeGreaterThan(0);
    const mini = state.models.find((m) => m.name === "gpt-4o-mini");
    expect(mini?.calls).toBeGreaterThanOrEqual(1);
    expect(mini?.health).toBeDefined();
    expect(state.feed).toHaveLength(4);
    const auto = state.feed.find((d) => d.requested === "auto");
    expect(auto?.model).toBeDefined();
    // The other model was a candidate: its score, or why it has none yet (still being explored).
    const other = auto?.model === "gpt-4o-mini" ? "claude-sonnet-4-6" : "gpt-4o-mini";
    expect(auto?.alternatives).toEqual([expect.objectContaining({ model: other })]);
    const alternative = auto?.alternatives[0];
    expect(typeof alternative?.score === "number" || typeof alternative?.note === "string").toBe(true);
    expect(state.feed[0]?.errorCode).toBe("model_not_found");
    expect(state.feed.every((d) => d.keyName === "team-a")).toBe(true);
    const team = state.spend?.keys.find((k) => k.name === "team-a");
    expect(team?.budgetUsd).toBe(5);
    expect(team?.spentUsd).toBeGreaterThan(0);
    expect(state.spend?.models.some((m) => m.name === "gpt-4o-mini" && m.costUsd > 0)).toBe(true);
    // No key reaches the page or its data.
    const html = await (await fetch(`${gw.url}/ui`, { headers: bearer })).text();
    for (const secret of [MASTER, key, OPENAI_KEY]) {
      expect(html).not.toContain(secret);
      expect(JSON.stringify(state)).not.toContain(secret);
    }
  });

  it("shows a model's rate-limit headroom where limits are configured", async () => {
    const { gw } = await start();
    gw.registry.registerModel(
      new OpenAIModel({
        name: "limited",
        model: "gpt-4o-mini",
        apiKey: OPENAI_KEY,
        baseURL: gw.openaiUpstream.baseURL,
        constraints: { maxConcurrentRequests: 4, maxRequestsPerMinute: 1 },
      }),
    );
    const models = async () =>
      (
        (await (await fetch(`${gw.url}/ui/state`, { headers: bearer })).json()) as {
          models: { name: string; headroom?: string }[];
        }
      ).models;
    expect((await models()).find((m) => m.name === "gpt-4o-mini")?.headroom).toBeUndefined();
    expect((await models()).find((m) => m.name === "limited")?.headroom).toBe("4 of 4 slots free · 1 rpm");
    const OpenAI = (await import("openai")).default;
    await new OpenAI({ apiKey: MASTER, baseURL: `${gw.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: "limited",
      messages: ask("one"),
    });
    expect((await models()).find((m) => m.name === "limited")?.headroom).toBe("4 of 4 slots free · 1 rpm · saturated");
  });

  it("escapes every value: a model named like markup is shown as text", async () => {
    const { gw } = await start();
    const evil = `<img src=x onerror="alert(1)">`;
    gw.registry.registerModel(new OpenAIModel({ name: evil, apiKey: OPENAI_KEY, baseURL: gw.openaiUpstream.baseURL }));
    const html = await (await fetch(`${gw.url}/ui`, { headers: bearer })).text();
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });
});

describe("dashboard live feed", () => {
  it("streams each decision as it happens, sends heartbeats, and ends the stream when the server closes", async () => {
    const started = await start({ heartbeatMs: 100 });
    const res = await fetch(`${started.gw.url}/ui/events`, { headers: bearer });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const until = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        // Ended by the server: either a clean end or a cut connection, never a hang.
        const read = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (read.done) return false;
        const value = read.value;
        seen += decoder.decode(value);
      }
      return true;
    };
    expect(await until(/: heartbeat/)).toBe(true);
    await started.gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("Hello") })
      .catch(() => undefined);
    const OpenAI = (await import("openai")).default;
    await new OpenAI({ apiKey: MASTER, baseURL: `${started.gw.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("Hello"),
    });
    expect(await until(/event: decision\ndata: .*gpt-4o-mini/)).toBe(true);
    expect(dashboard?.clients).toBe(1);
    const closed = started.gw.close();
    gw = undefined;
    // The stream ends (done) rather than hanging.
    expect(await until(/this never arrives/)).toBe(false);
    await closed;
  });
});
