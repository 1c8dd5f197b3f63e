// `orchestrator dashboard` shows the live decisions of applications that use the library: a
// library script (createOrchestrator with a redis: config, its own node process) makes calls, and
// the spawned dashboard's SSE feed (opened with the master key) shows each of them.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type OpenAIServer,
  type RedisServerHandle,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = resolve(__dirname, "../bin/orchestrator.js");
const DIST = pathToFileURL(resolve(__dirname, "../dist/index.js")).href;
const HOME = mkdtempSync(join(tmpdir(), "orchestrator-dashboard-feed-"));
const OPENAI_KEY = "sk-cli-dashboard-feed-0123456789";
const MASTER = "sk-master-dashboard-feed-0123456789";

let openai: OpenAIServer;
let redis: RedisServerHandle;
let config: string;
beforeAll(async () => {
  [openai, redis] = await Promise.all([
    startOpenAIServer({ apiKey: OPENAI_KEY, models: ["gpt-4o-mini", "gpt-4o"] }),
    startRedisServer(),
  ]);
  config = join(HOME, "models.yaml");
  writeFileSync(
    config,
    [
      "models:",
      "  - name: gpt-4o-mini",
      "    provider: openai",
      `    config: { api_key: "\${LOOPBACK_OPENAI_KEY}", base_url: "${openai.baseURL}" }`,
      "  - name: gpt-4o",
      "    provider: openai",
      `    config: { api_key: "\${LOOPBACK_OPENAI_KEY}", base_url: "${openai.baseURL}" }`,
      "  - name: broken",
      "    provider: openai",
      // Nothing listens on port 9: every call to this model fails.
      `    config: { api_key: "\${LOOPBACK_OPENAI_KEY}", base_url: "http://127.0.0.1:9/v1", max_retries: 0 }`,
      "health: { enabled: false }",
      "execution: { max_retries: 0, max_fallbacks: 0 }",
      "redis:",
      `  url: "${redis.url}"`,
      '  key_prefix: "feedapp:"',
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await Promise.all([openai?.close(), redis?.stop()]);
});

const env = { PATH: process.env.PATH ?? "", HOME, ORCHESTRATOR_HOME: HOME, LOOPBACK_OPENAI_KEY: OPENAI_KEY };

function run(args: string[], extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, { cwd: HOME, env: { ...env, ...extra } });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  let exited = false;
  const exit = new Promise<number | null>((done) =>
    child.once("exit", (code) => {
      exited = true;
      done(code);
    }),
  );
  return { child, exit, exited: () => exited, output: () => ({ stdout, stderr }) };
}

describe("orchestrator dashboard: the live feed of library processes", () => {
  it("shows each call a library script makes (model, route, failure, stream) over SSE, live", {
    timeout: 120_000,
  }, async () => {
    const board = run([BIN, "dashboard", "--config", config, "--port", "0"], { ORCHESTRATOR_MASTER_KEY: MASTER });
    try {
      const url = await new Promise<string>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no URL\n${JSON.stringify(board.output())}`)), 30_000);
        const check = () => {
          const match = /dashboard on (http:\/\/\S+)\/ui/.exec(board.output().stdout);
          if (match) {
            clearTimeout(timer);
            done(match[1] as string);
          }
        };
        board.child.stdout.on("data", check);
        void board.exit.then(() => fail(new Error(`dashboard exited early\n${JSON.stringify(board.output())}`)));
      });
      // The feed needs the master key, like every /ui path.
      expect((await fetch(`${url}/ui/events`)).status).toBe(401);
      const events = await fetch(`${url}/ui/events`, { headers: { authorization: `Bearer ${MASTER}` } });
      expect(events.status).toBe(200);
      const reader = (events.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let seen = "";
      const rows = () =>
        seen
          .split("\n\n")
          .filter((f) => f.startsWith("event: decision"))
          .map((f) => (JSON.parse(f.slice(f.indexOf("data: ") + 6)) as { html: string }).html);
      const reading = (async () => {
        for (;;) {
          const read = await reader.read().catch(() => ({ done: true as const, value: undefined }));
          if (read.done) return;
          seen += decoder.decode(read.value, { stream: true });
        }
      })();

      // The application: a separate node process using the library on the same config.
      const script = join(HOME, "app.mjs");
      writeFileSync(
        script,
        `import { createOrchestrator } from ${JSON.stringify(DIST)};
const app = await createOrchestrator({ config: ${JSON.stringify(config)}, startHealthMonitor: false });
const ask = (content, extra = {}) => ({ messages: [{ role: "user", content }], ...extra });
const first = await app.generate(ask("pick a model"));
let streamed = "";
for await (const chunk of app.stream(ask("stream it", { route: "gpt-4o" }))) if (chunk.type === "text") streamed += chunk.text;
const failed = await app.generate(ask("this one fails", { route: "broken" })).then(() => "answered", (e) => e.code);
await app.close();
console.log(JSON.stringify({ first: first.model, streamed: streamed.length > 0, failed }));
`,
      );
      const app = run([script]);
      expect(await app.exit).toBe(0);
      const result = JSON.parse(app.output().stdout.trim()) as { first: string; streamed: boolean; failed: string };
      expect(result.streamed).toBe(true);
      expect(result.failed).not.toBe("answered");

      // Each call shows up in the feed, live, as the app published it.
      await expect.poll(() => rows().length, { timeout: 20_000, interval: 100 }).toBe(3);
      const [picked, streamedRow, failedRow] = rows() as [string, string, string];
      expect(picked).toContain(">library<");
      expect(picked).toContain(`<td class="name nw">${result.first}`);
      // The selector's choice: its alternatives are named.
      expect(picked).toContain(result.first === "gpt-4o" ? "gpt-4o-mini" : "gpt-4o");
      expect(streamedRow).toContain(`<td class="name nw">gpt-4o`);
      expect(streamedRow).toContain("stream");
      expect(failedRow).toContain(`<td class="name nw">broken`);
      expect(failedRow).toContain(`failed: ${result.failed}`);
      // The process that made the calls is named (host:pid), and no key is in the feed.
      expect(picked).toMatch(new RegExp(`:${app.child.pid}<`));
      for (const secret of [MASTER, OPENAI_KEY]) expect(seen).not.toContain(secret);

      const state = (await (
        await fetch(`${url}/ui/state`, { headers: { authorization: `Bearer ${MASTER}` } })
      ).json()) as {
        feed: { endpoint: string; model?: string; status: number; requested?: string }[];
      };
      expect(state.feed.map((d) => [d.endpoint, d.model, d.status, d.requested])).toEqual([
        ["library", "broken", 500, "broken"],
        ["library", "gpt-4o", 200, "gpt-4o"],
        ["library", result.first, 200, undefined],
      ]);
      // The dashboard is still serving: it did not exit when the app did.
      expect(board.exited()).toBe(false);
      await reader.cancel();
      await reading;
      board.child.kill("SIGTERM");
      expect(await board.exit).toBe(0);
    } finally {
      board.child.kill("SIGKILL");
    }
  });
});
