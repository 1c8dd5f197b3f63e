import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withServe } from "./test/serve-process";

// `orchestrator serve` serves the dashboard at /ui when a master key is set (a real process, the committed bin).
const HOME = mkdtempSync(join(tmpdir(), "orchestrator-serve-dashboard-"));
const OPENAI_KEY = "sk-serve-dashboard-0123456789";
const MASTER = "sk-master-serve-dashboard-0123456789";

let openai: OpenAIServer;
let config: string;
beforeAll(async () => {
  openai = await startOpenAIServer({ apiKey: OPENAI_KEY });
  config = join(HOME, "models.yaml");
  writeFileSync(
    config,
    [
      "models:",
      "  - name: gpt-4o-mini",
      "    provider: openai",
      `    config: { api_key: "\${LOOPBACK_OPENAI_KEY}", base_url: "${openai.baseURL}" }`,
      "health: { enabled: false }",
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await openai?.close();
});

describe("orchestrator serve: the dashboard at /ui", () => {
  it("serves /ui to the master key only, shows the calls made through the gateway, and ends its live stream on SIGTERM", {
    timeout: 60_000,
  }, async () => {
    await withServe(
      { config, home: HOME, args: [], env: { LOOPBACK_OPENAI_KEY: OPENAI_KEY, ORCHESTRATOR_MASTER_KEY: MASTER } },
      async (url) => {
        const refused = await fetch(`${url}/ui`);
        expect(refused.status).toBe(401);
        expect(await refused.text()).toContain("Sign in with the master key");
        const client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
        await client.chat.completions.create({
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "show me" }],
        });
        const state = (await (
          await fetch(`${url}/ui/state`, { headers: { authorization: `Bearer ${MASTER}` } })
        ).json()) as { totals: { requests: number }; feed: { model?: string }[] };
        expect(state.totals.requests).toBe(1);
        expect(state.feed[0]?.model).toBe("gpt-4o-mini");
        const page = await (await fetch(`${url}/ui`, { headers: { authorization: `Bearer ${MASTER}` } })).text();
        expect(page).toContain("gpt-4o-mini");
        for (const secret of [MASTER, OPENAI_KEY]) expect(page).not.toContain(secret);
        // A live client stays connected; SIGTERM (in withServe) must still exit 0.
        const events = await fetch(`${url}/ui/events`, { headers: { authorization: `Bearer ${MASTER}` } });
        expect(events.status).toBe(200);
        void events.body?.getReader().read();
      },
    );
  });

  it("has no /ui without a master key", { timeout: 60_000 }, async () => {
    await withServe({ config, home: HOME, args: [], env: { LOOPBACK_OPENAI_KEY: OPENAI_KEY } }, async (url) => {
      expect((await fetch(`${url}/ui`)).status).toBe(404);
    });
  });
});
