// What the dashboard's feed says about requests that did not simply succeed: failures (which
// model was chosen, what went wrong), and the wording of counts.
import { afterEach, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "../test/gateway";
import { type Dashboard, type DashboardOptions, createDashboard } from "./dashboard";

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
  registry: Parameters<typeof startGateway>[0]["registry"] = {},
): Promise<{ gw: Gateway; dashboard: Dashboard }> {
  let made: Dashboard | undefined;
  gw = await startGateway({
    registry,
    setup: (r) => {
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
