// What the dashboard's feed says about requests that did not simply succeed: failures (which
// model was chosen, what went wrong), the wording of counts, and a live client that does not read.
import { connect } from "node:net";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { CascadeRoute, type ModelRegistry, extractors } from "@orchestrator-ts/registry";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "../test/gateway";
import { createDashboard } from "./dashboard";
import type { Dashboard, DashboardOptions } from "./types";

const MASTER = "sk-master-dashboard-feed-0123456789";
const bearer = { authorization: `Bearer ${MASTER}` };
let gw: Gateway | undefined;
let dashboard: Dashboard | undefined;

afterEach(async () => {
  dashboard?.close();
  await gw?.close();
  gw = undefined;
  dashboard = undefined;
});

async function start(
  options: Partial<DashboardOptions> = {},
  registry: NonNullable<Parameters<typeof startGateway>[0]>["registry"] = {},
  setup: (registry: ModelRegistry) => void = () => undefined,
): Promise<{ gw: Gateway; dashboard: Dashboard }> {
  let made: Dashboard | undefined;
  gw = await startGateway({
    registry,
    setup: (r) => {
      setup(r);
      made = createDashboard({ registry: r, masterKey: MASTER, ...options });
    },
    server: {
      get observers() {
        return made ? [made] : [];
      },
      get extraRoutes() {
        return made ? made.routes : [];
      },
    },
  });
  dashboard = made as Dashboard;
  return { gw, dashboard };
}

async function state(g: Gateway): Promise<Awaited<ReturnType<Dashboard["state"]>>> {
  return (await fetch(`${g.url}/ui/state`, { headers: bearer })).json() as Promise<
    Awaited<ReturnType<Dashboard["state"]>>
  >;
}

describe("the feed's failed requests", () => {
  it("name the model that was chosen and the error, plain and streamed, in the JSON and in the row", async () => {
    const { gw } = await start({}, { maxFallbacks: 0 });
    const chosen: string[] = [];
    gw.registry.on("selection", (e) => {
      if (e.selectionId !== undefined) chosen.push(e.model);
    });
    const fail = { type: "status" as const, status: 500 };
    gw.openaiUpstream.enqueueFaults([fail, fail]);
    gw.anthropicUpstream.enqueueFaults([fail, fail]);
    await expect(gw.client.chat.completions.create({ model: "auto", messages: ask("plain") })).rejects.toThrow();
    await expect(
      (async () => {
        for await (const _ of await gw.client.chat.completions.create({
          model: "auto",
          messages: ask("streamed"),
          stream: true,
        })) {
          // never reached: the stream fails before its first chunk
        }
      })(),
    ).rejects.toThrow();
    expect(chosen).toHaveLength(2);

    const { feed } = await state(gw);
    expect(feed).toHaveLength(2);
    // Newest first.
    const [streamed, plain] = feed;
    expect(plain).toMatchObject({ status: 502, model: chosen[0], errorCode: expect.any(String) });
    expect(streamed).toMatchObject({ status: 502, model: chosen[1], errorCode: expect.any(String) });
    // The streamed call's selection is known: its alternatives are shown too.
    expect(streamed?.alternatives.map((a) => a.model)).toHaveLength(1);

    const html = await (await fetch(`${gw.url}/ui`, { headers: bearer })).text();
    const rows = html.match(/<tr class="decision"[\s\S]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(2);
    for (const [i, row] of rows.entries()) {
      const model = i === 0 ? chosen[1] : chosen[0];
      expect(row).toContain(`<td class="name nw">${model}`);
      expect(row).toContain(`failed: ${feed[i]?.errorCode}`);
    }
  });
});

describe("the page's wording", () => {
  it("says 1 trial, 2 trials", async () => {
    const { gw } = await start();
    await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("one") });
    let html = await (await fetch(`${gw.url}/ui`, { headers: bearer })).text();
    expect(html).toContain(">1 trial<");
    expect(html).toContain(">0 trials<");
    expect(html).not.toMatch(/\b1 trials\b/);
    await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("two") });
    html = await (await fetch(`${gw.url}/ui`, { headers: bearer })).text();
    expect(html).toContain(">2 trials<");
  });
});

describe("the live feed and a client that does not read", () => {
  it("cuts the slow client once its unsent backlog passes 256 KiB; a reading client gets every decision", async () => {
    const { gw, dashboard } = await start();
    const port = new URL(gw.url).port;
    // A client that asks for the feed and never reads a byte of it.
    const slow = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => slow.once("connect", () => resolve()));
    slow.write(`GET /ui/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${MASTER}\r\n\r\n`);
    slow.pause();
    let slowClosed = false;
    slow.once("close", () => {
      slowClosed = true;
    });
    slow.on("error", () => undefined);
    // A client that reads everything.
    const fast = await fetch(`${gw.url}/ui/events`, { headers: bearer });
    const reader = (fast.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = 0;
    let tail = "";
    const reading = (async () => {
      for (;;) {
        const read = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (read.done) return;
        const events = (tail + decoder.decode(read.value, { stream: true })).split("\n\n");
        tail = events.pop() ?? "";
        for (const event of events) if (event.startsWith("event: decision\n")) received++;
      }
    })();
    await expect.poll(() => dashboard.clients, { timeout: 5_000 }).toBe(2);

    // 20,000 decisions of ~1.2 KB each (about 24 MB of frames), fed as the server's observer is.
    const rounds = 200;
    const perRound = 100; // ~120 KB a round: well under what the socket takes before a backlog builds
    const name = "m".repeat(1_000);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < perRound; i++)
        dashboard.onRequest({
          endpoint: "openai.chat",
          status: 200,
          requested: `${name}-${r}-${i}`,
          model: "gpt-4o-mini",
          stream: false,
          latencyMs: 1,
        });
      // The next round only once the reader has this one: a client that keeps up never has a backlog to be
      // cut for, however loaded the machine (with a fixed pause, a starved reader fell 256 KiB behind in CI).
      const sent = (r + 1) * perRound;
      await expect.poll(() => received, { timeout: 20_000, interval: 2 }).toBe(sent);
    }
    const total = rounds * perRound;
    expect(received).toBe(total);
    // The slow client was dropped; the reader is still there.
    await expect.poll(() => dashboard.clients, { timeout: 5_000 }).toBe(1);

    // What the slow client could still read is what the kernel held plus the server's bounded
    // backlog, far less than what was sent: the server did not keep the rest for it.
    slow.resume();
    let slowBytes = 0;
    slow.on("data", (chunk: Buffer) => {
      slowBytes += chunk.length;
    });
    await expect.poll(() => slowClosed, { timeout: 10_000 }).toBe(true);
    const frameBytes = 1_100;
    expect(slowBytes).toBeGreaterThan(256 * 1024);
    expect(slowBytes).toBeLessThan((total * frameBytes) / 2);
    await reader.cancel();
    await reading;
  }, 60_000);
});

describe("a cascade in the feed", () => {
  const NAMES = ["yi", "mixtral", "gpt-4"] as const;
  const servers: OpenAIServer[] = [];
  beforeAll(async () => {
    for (const name of NAMES)
      servers.push(
        await startOpenAIServer({
          apiKey: `sk-${name}`,
          // "yi=A mixtral=B gpt-4=C": each model answers its own letter.
          reply: (r) => ({ text: `The answer is ${new RegExp(`${name}=(\\S+)`).exec(r.lastUserText)?.[1] ?? "?"}.` }),
        }),
      );
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const cascade = (registry: ModelRegistry) => {
    for (const [i, name] of NAMES.entries())
      registry.registerModel(
        new OpenAIModel({ name, apiKey: `sk-${name}`, baseURL: (servers[i] as OpenAIServer).baseURL, maxRetries: 0 }),
      );
    registry.addRoute(
      new CascadeRoute({
        name: "mcq",
        stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
        extract: extractors.choiceLetter,
      }),
    );
  };

  it("shows which stages ran, each model's extracted answer, and whether it escalated, live and in the state", async () => {
    const { gw } = await start({}, {}, cascade);
    const events = await fetch(`${gw.url}/ui/events`, { headers: bearer });
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let seen = "";

    await gw.client.chat.completions.create({ model: "mcq", messages: ask("yi=A mixtral=B gpt-4=C") });
    let streamed = "";
    for await (const chunk of await gw.client.chat.completions.create({
      model: "mcq",
      messages: ask("yi=D mixtral=D gpt-4=A"),
      stream: true,
    }))
      streamed += chunk.choices[0]?.delta?.content ?? "";
    expect(streamed).toBe("The answer is D.");

    const { feed } = await state(gw);
    const [agreed, escalated] = feed;
    expect(escalated).toMatchObject({
      requested: "mcq",
      model: "gpt-4",
      cascade: {
        route: "mcq",
        escalated: true,
        accepted: true,
        answer: "C",
        stages: [
          {
            stage: 0,
            decision: "escalated",
            answers: [
              { model: "yi", answer: "A", ok: true },
              { model: "mixtral", answer: "B", ok: true },
            ],
          },
          { stage: 1, decision: "accepted", answers: [{ model: "gpt-4", answer: "C", ok: true }] },
        ],
      },
    });
    expect(agreed?.cascade).toMatchObject({
      escalated: false,
      stages: [{ stage: 0, decision: "accepted", answers: [{ answer: "D" }, { answer: "D" }] }],
    });

    // The live feed's row says the same.
    while (!/mcq[\s\S]*mcq/.test(seen)) {
      const read = await reader.read();
      if (read.done) break;
      seen += decoder.decode(read.value, { stream: true });
    }
    await reader.cancel();
    const rows = seen
      .split("\n\n")
      .filter((f) => f.startsWith("event: decision"))
      .map((f) => (JSON.parse(f.slice(f.indexOf("data: ") + 6)) as { html: string }).html);
    expect(rows).toHaveLength(2);
    const first = rows[0] as string;
    expect(first).toContain('data-route="mcq"');
    expect(first).toMatch(
      /stage 1<\/span> <span class="ans">yi → <b>A<\/b><\/span> · <span class="ans">mixtral → <b>B<\/b>/,
    );
    expect(first).toMatch(/stage 2<\/span> <span class="ans">gpt-4 → <b>C<\/b>/);
    expect(first).toContain("cascade · escalated ×1");
    expect(first).toContain(">escalated<");
    expect(rows[1]).toContain("cascade · stage 1");
    expect(rows[1]).not.toContain("stage 2");
  });
});
