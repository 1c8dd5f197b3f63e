// The dashboard in a real browser (Debian's chromium through playwright-core): sign in with the
// master key, send requests through the gateway with the openai SDK, watch the rows and the live
// feed change without reloading; the screenshots in docs/ come from this test.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { CascadeRoute, extractors } from "@orchestrator-ts/registry";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import OpenAI from "openai";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminHandler } from "../keys/admin";
import { KeyGate } from "../keys/key-gate";
import { OPENAI_KEY, ask, startGateway, type Gateway } from "../test/gateway";
import { createDashboard } from "./dashboard";
import type { Dashboard } from "./types";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const MASTER = "sk-master-browser-test-0123456789";
const DOCS = join(dirname(fileURLToPath(import.meta.url)), "../../docs");

let browser: Browser;
let gw: Gateway;
let dashboard: Dashboard;
let cascadeUpstream: OpenAIServer;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`chromium is needed at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const gate = new KeyGate({ masterKey: MASTER });
  // Three models that answer an option letter each ("yi=A mixtral=B gpt-4=C"), for a cascade route.
  cascadeUpstream = await startOpenAIServer({
    apiKey: OPENAI_KEY,
    reply: (r) => ({ text: `The answer is ${new RegExp(`${r.model}=(\\S+)`).exec(r.lastUserText)?.[1] ?? "?"}.` }),
  });
  let made: Dashboard | undefined;
  gw = await startGateway({
    setup: (registry) => {
      registry.registerModel(
        new OpenAIModel({ name: "gpt-4o", apiKey: OPENAI_KEY, baseURL: "http://127.0.0.1:9/v1", timeoutMs: 2_000 }),
      );
      for (const name of ["yi", "mixtral", "gpt-4"])
        registry.registerModel(new OpenAIModel({ name, apiKey: OPENAI_KEY, baseURL: cascadeUpstream.baseURL }));
      registry.addRoute(
        new CascadeRoute({
          name: "mcq",
          stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
          extract: extractors.choiceLetter,
        }),
      );
      made = createDashboard({ registry, masterKey: MASTER, spend: gate });
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
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  dashboard?.close();
  await gw?.close();
  await cascadeUpstream?.close();
});

describe("the dashboard in chromium", () => {
  it("signs in with the master key, then shows requests and decisions live as they are made", async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    let pwned = false;
    page.on("dialog", (d) => {
      pwned = true;
      void d.dismiss();
    });

    await page.goto(`${gw.url}/ui`);
    await expect(page.locator("h1").textContent()).resolves.toContain("Orchestrator dashboard");
    await page.fill("#key", "not-the-master-key");
    await page.click("button[type=submit]");
    await page.waitForSelector("text=That key is not the master key.");
    await page.fill("#key", MASTER);
    await page.click("button[type=submit]");
    await page.waitForSelector("#models-table");
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === "orchestrator_ui")?.httpOnly).toBe(true);
    expect(cookies.some((c) => c.value.includes(MASTER))).toBe(false);
    await page.waitForSelector("#live:text('live')");
    const calls = () => page.locator('tr[data-model="gpt-4o-mini"] [data-col="calls"]').textContent();
    expect(await calls()).toBe("0");

    // Requests from another client, through the gateway, with a budgeted virtual key.
    const created = await fetch(`${gw.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "team-a", budgetUsd: 0.01, budgetPeriod: "day" }),
    });
    const { key } = (await created.json()) as { key: string };
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("Hello") });
    await client.chat.completions.create({ model: "auto", messages: ask("Summarise this") });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("Stream it"),
      stream: true,
    });
    for await (const _ of stream) {
      // drained
    }
    await client.chat.completions.create({ model: "gpt-4o", messages: ask("Down") }).catch(() => undefined);
    await client.chat.completions.create({ model: "mcq", messages: ask("yi=A mixtral=B gpt-4=C") });

    // The feed grows without a reload, and the numbers follow.
    await expect
      .poll(() => page.locator("#feed tr.decision").count(), { timeout: 20_000, interval: 100 })
      .toBeGreaterThanOrEqual(5);
    await expect.poll(async () => Number(await calls()), { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(2);
    await expect
      .poll(async () => Number(await page.locator('[data-total="requests"]').textContent()), {
        timeout: 20_000,
        interval: 100,
      })
      .toBeGreaterThanOrEqual(5);
    const feedText = await page.locator("#feed").textContent();
    expect(feedText).toContain("auto");
    expect(feedText).toContain("stream");
    // The cascade's row: each stage with its models' answers, and the escalation.
    const cascadeRow = await page.locator('#feed tr.decision:has([data-route="mcq"])').textContent();
    expect(cascadeRow).toContain("yi → A");
    expect(cascadeRow).toContain("mixtral → B");
    expect(cascadeRow).toContain("gpt-4 → C");
    expect(cascadeRow).toContain("cascade · escalated ×1");
    // The failed request names the model it was sent to.
    expect(await page.locator("#feed tr.decision", { hasText: "failed:" }).textContent()).toContain("gpt-4o");
    await expect(page.locator("#spend-body").textContent()).resolves.toContain("team-a");

    mkdirSync(DOCS, { recursive: true });
    // The header, totals and the models table: what the page shows first.
    await page.screenshot({ path: join(DOCS, "dashboard-models.png") });
    await page.locator("#feed-section").screenshot({ path: join(DOCS, "dashboard-feed.png") });

    // A model named like markup shows as text and runs nothing.
    gw.registry.registerModel(
      new OpenAIModel({
        name: `<img src=x onerror="alert(1)">`,
        apiKey: OPENAI_KEY,
        baseURL: gw.openaiUpstream.baseURL,
      }),
    );
    await page.reload();
    await page.waitForSelector("#models-table");
    await expect(page.locator("#models-table").textContent()).resolves.toContain(`<img src=x onerror="alert(1)">`);
    expect(await page.locator("#models-table img").count()).toBe(0);
    expect(pwned).toBe(false);
    await page.close();
  }, 120_000);
});
