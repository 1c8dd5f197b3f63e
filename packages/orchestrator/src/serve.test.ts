import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect } from "node:net";
import {
  type AnthropicServer,
  type OpenAIServer,
  startAnthropicServer,
  startOpenAIServer,
  startRedisServer,
} from "@orchestrator-ts/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { V8_SERVE_FLAG } from "./cli/serve";

// `orchestrator serve` as a user runs it: the committed bin, a YAML file, real processes.
const BIN = resolve(__dirname, "../bin/orchestrator.js");
const HOME = mkdtempSync(join(tmpdir(), "orchestrator-serve-"));
const OPENAI_KEY = "sk-serve-openai-0123456789";
const ANTHROPIC_KEY = "sk-ant-serve-0123456789";
const WORDS = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");

let openai: OpenAIServer;
let anthropic: AnthropicServer;
let config: string;
beforeAll(async () => {
  openai = await startOpenAIServer({
    apiKey: OPENAI_KEY,
    reply: (r) => ({ text: r.lastUserText === "long" ? WORDS : `Echo: ${r.lastUserText}` }),
    chunkDelayMs: 25,
  });
  anthropic = await startAnthropicServer({ apiKey: ANTHROPIC_KEY });
  config = join(HOME, "models.yaml");
  writeFileSync(
    config,
    [
      "models:",
      "  - name: gpt-4o-mini",
      "    provider: openai",
      `    config: { api_key: "\${LOOPBACK_OPENAI_KEY}", base_url: "${openai.baseURL}" }`,
      "  - name: claude-sonnet-4-6",
      "    provider: anthropic",
      `    config: { api_key: "\${LOOPBACK_ANTHROPIC_KEY}", base_url: "${anthropic.baseURL}" }`,
      "routes:",
      "  - name: cheap",
      "    type: selector",
      "    requirements: { providers: [anthropic] }",
      "health: { enabled: false }",
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await Promise.all([openai?.close(), anthropic?.close()]);
});

interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startServe(args: string[], nodeArgs: string[] = [], configFile = config): Promise<Served> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, "serve", "--config", configFile, "--port", "0", ...args], {
    cwd: HOME,
    env: {
      PATH: process.env.PATH ?? "",
      HOME,
      ORCHESTRATOR_HOME: HOME,
      LOOPBACK_OPENAI_KEY: OPENAI_KEY,
      LOOPBACK_ANTHROPIC_KEY: ANTHROPIC_KEY,
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
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`serve printed no URL in 30 s\nstdout: ${stdout}\nstderr: ${stderr}`)),
      30_000,
    );
    const check = () => {
      const match = /serving on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        done(match[1] as string);
      }
    };
    child.stdout.on("data", check);
    void exit.then(({ code }) =>
      fail(new Error(`serve exited early (code ${code})\nstdout: ${stdout}\nstderr: ${stderr}`)),
    );
  });
  return { child, url, stdout: () => stdout, stderr: () => stderr, exit };
}

/** The process still answers gpt-4o-mini through the OpenAI SDK, then exits 0 on SIGTERM. */
async function answersThenExitsOnSigterm(served: Served): Promise<void> {
  const client = new OpenAI({ apiKey: "anything", baseURL: `${served.url}/v1`, maxRetries: 0 });
  const answer = await client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "hi" }],
  });
  expect(answer.choices[0]?.message.content).toBe("Echo: hi");
  served.child.kill("SIGTERM");
  expect(await served.exit).toEqual({ code: 0, signal: null });
}

describe("orchestrator serve (a real process)", () => {
  it("prints its URL, answers the OpenAI SDK (models, routes), and on SIGTERM lets a stream in flight finish, then exits 0", {
    timeout: 60_000,
  }, async () => {
    const served = await startServe([]);
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client = new OpenAI({ apiKey: "anything", baseURL: `${served.url}/v1`, maxRetries: 0 });
      const ids: string[] = [];
      for await (const m of client.models.list()) ids.push(m.id);
      expect(ids).toEqual(["auto", "cheap", "gpt-4o-mini", "claude-sonnet-4-6"]);
      const routed = await client.chat.completions.create({
        model: "cheap",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(routed.model).toBe("claude-sonnet-4-6");
      expect(routed.choices[0]?.message.content).toBe("Echo: hi");
      expect((await fetch(`${served.url}/readyz`)).status).toBe(200);

      // A 40-chunk stream (25 ms apart upstream); SIGTERM lands after its first chunk.
      const stream = await client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "long" }],
        stream: true,
      });
      let text = "";
      let signalled = false;
      let refusedWhileDraining: unknown;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        if (!signalled && text.length > 0) {
          signalled = true;
          served.child.kill("SIGTERM");
          await new Promise((r) => setTimeout(r, 100));
          // No new connections once draining.
          refusedWhileDraining = await fetch(`${served.url}/healthz`).then(
            () => undefined,
            (e: unknown) => e,
          );
        }
      }
      expect(text).toBe(WORDS);
      expect(refusedWhileDraining).toBeInstanceOf(Error);
      const exit = await served.exit;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(served.stderr()).toContain("SIGTERM: draining");
    } finally {
      served.child.kill("SIGKILL");
    }
  });

  it("initialises every model at start-up: one that cannot is printed while the others serve", {
    timeout: 60_000,
  }, async () => {
    const file = join(HOME, "one-without-key.yaml");
    writeFileSync(
      file,
      [
        "models:",
        "  - name: gpt-4o-mini",
        "    provider: openai",
        `    config: { api_key: "\${LOOPBACK_OPENAI_KEY}", base_url: "${openai.baseURL}" }`,
        // OpenAI's own endpoint and no OPENAI_API_KEY in the process's environment.
        "  - name: gpt-4o",
        "    provider: openai",
        "health: { enabled: false }",
        "",
      ].join("\n"),
    );
    const served = await startServe([], [], file);
    try {
      // No request has been made: the operator hears of it from the start.
      const deadline = Date.now() + 20_000;
      while (!served.stderr().includes("not initialised") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 25));
      expect(served.stderr()).toContain(
        "not initialised: gpt-4o (openai): No OpenAI API key: pass `apiKey` or set the OPENAI_API_KEY environment variable.",
      );
      const ready = await fetch(`${served.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready", models: 2, healthy_models: 1 });
      await answersThenExitsOnSigterm(served);
    } finally {
      served.child.kill("SIGKILL");
    }
  });

  it("serves the Responses API and Anthropic's Messages API and token count from the same process", {
    timeout: 60_000,
  }, async () => {
    const served = await startServe([]);
    try {
      const client = new OpenAI({ apiKey: "anything", baseURL: `${served.url}/v1`, maxRetries: 0 });
      const answer = await client.responses.create({ model: "cheap", input: "hi" });
      expect(answer.model).toBe("claude-sonnet-4-6");
      expect(answer.output_text).toBe("Echo: hi");
      const stream = client.responses.stream({ model: "gpt-4o-mini", input: "long" });
      expect((await stream.finalResponse()).output_text).toBe(WORDS);

      const post = (path: string, body: unknown) =>
        fetch(`${served.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify(body),
        });
      const message = await post("/v1/messages", {
        model: "gpt-4o-mini",
        max_tokens: 50,
        messages: [{ role: "user", content: "hi" }],
      });
      expect(message.status).toBe(200);
      expect(await message.json()).toMatchObject({ type: "message", content: [{ type: "text", text: "Echo: hi" }] });
      const counted = await post("/v1/messages/count_tokens", {
        model: "claude-sonnet-4-6",
        messages: [{ role: "user", content: "one two three" }],
      });
      expect(counted.headers.get("x-orchestrator-token-count")).toBe("exact");
      expect(await counted.json()).toEqual({ input_tokens: 3 });
      served.child.kill("SIGTERM");
      expect(await served.exit).toEqual({ code: 0, signal: null });
    } finally {
      served.child.kill("SIGKILL");
    }
  });

  it("--receive-timeout: a client that stops sending its body gets 408 and is let go; the process keeps serving", {
    timeout: 60_000,
  }, async () => {
    const served = await startServe(["--receive-timeout", "1000"]);
    try {
      const url = new URL(served.url);
      const started = performance.now();
      const answer = await new Promise<string>((done, fail) => {
        const socket = connect(Number(url.port), url.hostname);
        let text = "";
        socket.on("data", (d) => {
          text += d.toString();
        });
        socket.on("close", () => done(text));
        socket.on("error", fail);
        socket.write(
          'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"model":',
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(performance.now() - started).toBeLessThan(5_000);
      await answersThenExitsOnSigterm(served);
    } finally {
      served.child.kill("SIGKILL");
    }
  });

  it("--redis shares state through Redis: /readyz is 503 with the reason while Redis is frozen, 200 when it answers; exits 0 on SIGTERM", {
    timeout: 60_000,
  }, async () => {
    const redis = await startRedisServer();
    const served = await startServe(["--redis", redis.url]).catch(async (e: unknown) => {
      await redis.stop();
      throw e;
    });
    try {
      // Ready once its models have initialised (start-up), which can be just after it prints its URL.
      await expect
        .poll(async () => {
          const ready = await fetch(`${served.url}/readyz`);
          return [ready.status, await ready.json()];
        })
        .toEqual([200, { status: "ready", models: 2, healthy_models: 2 }]);
      const client = new OpenAI({ apiKey: "anything", baseURL: `${served.url}/v1`, maxRetries: 0 });
      await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "count me" }] });
      await redis.pause();
      const frozen = await fetch(`${served.url}/readyz`);
      expect(frozen.status).toBe(503);
      expect(((await frozen.json()) as { reasons: string[] }).reasons.join(" ")).toMatch(/Redis is unreachable/);
      await redis.resume();
      await expect.poll(async () => (await fetch(`${served.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      served.child.kill("SIGTERM");
      expect(await served.exit).toEqual({ code: 0, signal: null });
    } finally {
      served.child.kill("SIGKILL");
      await redis.stop();
    }
  });

  it("lowers V8's optimisation budget for the serving process, and keeps a budget node was started with", {
    timeout: 60_000,
  }, async () => {
    // A preload that tells which V8 flags the process sets at run time.
    const preload = join(HOME, "record-v8-flags.mjs");
    writeFileSync(
      preload,
      [
        'import v8 from "node:v8";',
        "const set = v8.setFlagsFromString;",
        "v8.setFlagsFromString = (flag) => {",
        '  process.stderr.write("v8 flag set: " + flag + "\\n");',
        "  return set(flag);",
        "};",
        "",
      ].join("\n"),
    );
    const cases: [string[], string[]][] = [
      [[], [V8_SERVE_FLAG]],
      [["--interrupt-budget=40000"], []],
    ];
    for (const [nodeArgs, expected] of cases) {
      const served = await startServe([], ["--import", preload, ...nodeArgs]);
      try {
        expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
        served.child.kill("SIGTERM");
        expect(await served.exit).toEqual({ code: 0, signal: null });
        expect([...served.stderr().matchAll(/v8 flag set: (\S+)/g)].map((m) => m[1])).toEqual(expected);
      } finally {
        served.child.kill("SIGKILL");
      }
    }
  });

  it("a bad flag is a usage error (exit 2), and --help describes the command", { timeout: 30_000 }, async () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; out: string }>((done) => {
        const child = spawn(process.execPath, [BIN, "serve", ...args], {
          cwd: HOME,
          env: { PATH: process.env.PATH ?? "", HOME, ...env },
        });
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.stderr.on("data", (d) => {
          out += d;
        });
        child.once("exit", (code) => done({ code, out }));
      });
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("orchestrator serve [--config <file>] [--port <n>]");
    const bad = await run(["--port", "eighty"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("--port expects a number");
    const zero = await run(["--receive-timeout", "0"]);
    expect(zero.code).toBe(2);
    expect(zero.out).toContain('--receive-timeout expects milliseconds (1-2147483647), got "0"');
    // A master key that could be guessed is refused before anything listens; the key is not printed.
    const weak = await run(["--port", "0"], { ORCHESTRATOR_MASTER_KEY: "letmein" });
    expect(weak.code).toBe(3);
    expect(weak.out).toContain("masterKey: must be at least 16 characters, got 7");
    expect(weak.out).not.toContain("letmein");
    expect(weak.out).not.toMatch(/listening|http:\/\/127/);
  });
});
