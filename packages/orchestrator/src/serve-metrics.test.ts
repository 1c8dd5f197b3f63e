import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withServe } from "./test/serve-process";

// `orchestrator serve` exposes Prometheus metrics on GET /metrics (a real process, the committed bin).
const HOME = mkdtempSync(join(tmpdir(), "orchestrator-serve-metrics-"));
const OPENAI_KEY = "sk-serve-metrics-0123456789";

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

describe("orchestrator serve: GET /metrics", () => {
  it("serves Prometheus text that counts the calls made through the gateway, with no key in it", {
    timeout: 60_000,
  }, async () => {
    await withServe({ config, home: HOME, args: [], env: { LOOPBACK_OPENAI_KEY: OPENAI_KEY } }, async (url) => {
      const client = new OpenAI({ apiKey: "sk-client-not-a-label-42", baseURL: `${url}/v1`, maxRetries: 0 });
      await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "count me" }] });
      await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "and me" }] });
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const text = await res.text();
      expect(text).toContain('orchestrator_requests_total{endpoint="openai.chat",status="200",model="gpt-4o-mini"} 2');
      expect(text).toContain('orchestrator_selections_total{model="gpt-4o-mini",fallback="false"} 2');
      expect(text).toContain('orchestrator_model_circuit_state{model="gpt-4o-mini"} 0');
      for (const secret of [OPENAI_KEY, "sk-client-not-a-label-42", "count me"]) expect(text).not.toContain(secret);
    });
  });

  it("--no-metrics leaves /metrics out", { timeout: 60_000 }, async () => {
    await withServe(
      { config, home: HOME, args: ["--no-metrics"], env: { LOOPBACK_OPENAI_KEY: OPENAI_KEY } },
      async (url) => {
        expect((await fetch(`${url}/metrics`)).status).toBe(404);
        expect((await fetch(`${url}/healthz`)).status).toBe(200);
      },
    );
  });
});

describe("orchestrator serve under a process manager", () => {
  it("exits 0 on SIGTERM even though the manager keeps an IPC channel to it open (as PM2's fork mode does)", {
    timeout: 60_000,
  }, async () => {
    await withServe(
      {
        config,
        home: HOME,
        args: [],
        env: {
          LOOPBACK_OPENAI_KEY: OPENAI_KEY,
          NODE_OPTIONS: `--import ${pathToFileURL(join(__dirname, "test/process-manager-preload.mjs")).href}`,
        },
        ipc: true,
      },
      async (url) => {
        const client = new OpenAI({ apiKey: "anything", baseURL: `${url}/v1`, maxRetries: 0 });
        await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
      },
    );
  });
});
