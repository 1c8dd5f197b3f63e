// `orchestrator dashboard --config …`: a real process that shows what an application using the
// library (here: this test process) shares through Redis, at /ui only, to the master key only.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type OpenAIServer,
  type RedisServerHandle,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrchestrator } from "./orchestrator";

const BIN = resolve(__dirname, "../bin/orchestrator.js");
const HOME = mkdtempSync(join(tmpdir(), "orchestrator-dashboard-"));
const OPENAI_KEY = "sk-cli-dashboard-0123456789";
const MASTER = "sk-master-cli-dashboard-0123456789";

let openai: OpenAIServer;
let redis: RedisServerHandle;
let config: string;
beforeAll(async () => {
  [openai, redis] = await Promise.all([
    startOpenAIServer({ apiKey: OPENAI_KEY, models: ["gpt-4o-mini"] }),
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
      "health: { enabled: false }",
      "redis:",
      `  url: "${redis.url}"`,
      '  key_prefix: "app:"',
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await Promise.all([openai?.close(), redis?.stop()]);
});

function start(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [BIN, "dashboard", "--config", config, "--port", "0", ...args], {
    cwd: HOME,
    env: { PATH: process.env.PATH ?? "", HOME, ORCHESTRATOR_HOME: HOME, LOOPBACK_OPENAI_KEY: OPENAI_KEY, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exit = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const url = new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`dashboard printed no URL in 30 s\nstdout: ${stdout}\nstderr: ${stderr}`)),
      30_000,
    );
    child.stdout.on("data", () => {
      const match = /dashboard on (http:\/\/\S+)\/ui/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        done(match[1] as string);
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      fail(new Error(`dashboard exited (code ${code})\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
  return { child, exit, url, output: () => ({ stdout, stderr }) };
}

describe("orchestrator dashboard", () => {
  it("shows the statistics an application shares through Redis, to the master key, at /ui only; SIGTERM exits 0", {
    timeout: 90_000,
  }, async () => {
    // The application: the library, in this process, on the same config.
    const app = await createOrchestrator({
      config,
      env: { LOOPBACK_OPENAI_KEY: OPENAI_KEY },
      startHealthMonitor: false,
    });
    try {
      for (let i = 0; i < 3; i++) await app.generate({ messages: [{ role: "user", content: `question ${i}` }] });
    } finally {
      await app.close();
    }
    // A RouterBench-style CSV for the replay's quality-vs-cost curve.
    const data = join(HOME, "bench");
    mkdirSync(data, { recursive: true });
    const header = "sample_id,prompt,eval_name,small,big,small|total_cost,big|total_cost,oracle_model_to_route_to";
    const line = (i: number) =>
      i % 2 === 0
        ? `${i},"['easy ${i}']",easy,1.0,1.0,0.001,0.01,small`
        : `${i},"['hard ${i}']",hard,0.0,1.0,0.001,0.01,big`;
    writeFileSync(join(data, "toy_train.csv"), [header, ...Array.from({ length: 60 }, (_, i) => line(i))].join("\n"));
    writeFileSync(
      join(data, "toy_test.csv"),
      [header, ...Array.from({ length: 40 }, (_, i) => line(i + 100))].join("\n"),
    );
    const run = start({ ORCHESTRATOR_MASTER_KEY: MASTER }, ["--replay", data]);
    try {
      const url = await run.url;
      expect((await fetch(`${url}/ui`)).status).toBe(401);
      expect(
        (
          await fetch(`${url}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${MASTER}` },
            body: "{}",
          })
        ).status,
      ).toBe(404);
      const model = async () =>
        (
          (await (await fetch(`${url}/ui/state`, { headers: { authorization: `Bearer ${MASTER}` } })).json()) as {
            models: { name: string; trials: number; meanReward?: number }[];
          }
        ).models.find((m) => m.name === "gpt-4o-mini");
      // Trials come from Redis (this dashboard process made no call itself), once its stats store has read them.
      await expect.poll(async () => (await model())?.trials, { timeout: 20_000, interval: 200 }).toBe(3);
      expect((await model())?.meanReward).toBeGreaterThan(0);
      const page = await (await fetch(`${url}/ui`, { headers: { authorization: `Bearer ${MASTER}` } })).text();
      expect(page).toContain("gpt-4o-mini");
      for (const secret of [MASTER, OPENAI_KEY]) expect(page).not.toContain(secret);
      expect(page).toContain('src="/ui/replay.svg"');
      const curve = await fetch(`${url}/ui/replay.svg`, { headers: { authorization: `Bearer ${MASTER}` } });
      expect(curve.headers.get("content-type")).toBe("image/svg+xml");
      const svg = await curve.text();
      expect(svg).toMatch(/^<svg /);
      expect(svg).toContain(">small</text>");
      expect((await fetch(`${url}/ui/replay.svg`)).status).toBe(401);
      run.child.kill("SIGTERM");
      expect(await run.exit).toBe(0);
    } finally {
      run.child.kill("SIGKILL");
    }
  });

  it("refuses to start without a master key, saying which variable to set", { timeout: 60_000 }, async () => {
    const run = start({});
    run.url.catch(() => undefined);
    expect(await run.exit).toBe(2);
    expect(run.output().stderr).toContain("ORCHESTRATOR_MASTER_KEY");
  });
});
