import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { KeyGate, type OrchestratorServer, createAdminHandler, createServer } from "@orchestrator-ts/server";
import { freePort } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CLI = resolve(__dirname, "../dist/cli/cli.js");
const MASTER = "sk-admin-cli-test-0123456789";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, "keys", ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

let server: OrchestratorServer;
let gate: KeyGate;
let env: Record<string, string>;

beforeAll(async () => {
  gate = new KeyGate({ masterKey: MASTER });
  server = createServer({
    orchestrator: { registry: new ModelRegistry() },
    port: 0,
    gatekeeper: gate,
    admin: createAdminHandler(gate),
  });
  const url = await server.listen();
  env = { ORCHESTRATOR_URL: url, ORCHESTRATOR_MASTER_KEY: MASTER };
});
afterAll(async () => {
  await server?.close();
});

describe("orchestrator keys (the built bin against a running gateway)", () => {
  it("creates a key (shown once), lists it with its limits, reports spend, revokes it", async () => {
    const created = await run(
      [
        "create",
        "--name",
        "team-a",
        "--budget",
        "5",
        "--period",
        "day",
        "--rpm",
        "60",
        "--model",
        "auto",
        "--model",
        "cheap",
      ],
      env,
    );
    expect(created.stderr).toContain("cannot be shown again");
    expect(created.code).toBe(0);
    const key = /key: (sk-orc-\S+)/.exec(created.stdout)?.[1] as string;
    const id = /created (key_\S+) \(team-a\)/.exec(created.stdout)?.[1] as string;
    expect(key).toBeDefined();
    expect(id).toBeDefined();
    expect((await gate.authenticate(key)).keyName).toBe("team-a");

    const listed = await run(["list"], env);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^id\s+name\s+status\s+budget USD\s+period\s+spent USD\s+rpm\s+tpm\s+models$/);
    const row = lines.find((l) => l.startsWith(id)) as string;
    expect(row.split(/\s{2,}/)).toEqual([
      id,
      "team-a",
      "active",
      "5.0000",
      new Date().toISOString().slice(0, 10),
      "0",
      "60",
      "–",
      "auto,cheap",
    ]);
    expect(listed.stdout).not.toContain(key);

    const caller = await gate.authenticate(key);
    await (await gate.admit({ ...caller, user: "ana" }, { model: "auto" })).settle({
      costUsd: 0.25,
      model: "small",
      inputTokens: 100,
      outputTokens: 50,
    });
    const spend = await run(["spend", "--by", "user", "--since", "1h", "--json"], env);
    expect(spend.code).toBe(0);
    expect(JSON.parse(spend.stdout)).toMatchObject({
      by: "user",
      totalUsd: 0.25,
      data: [{ name: "ana", costUsd: 0.25, requests: 1, inputTokens: 100, outputTokens: 50 }],
    });
    const table = await run(["spend"], env);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+0\\.2500\\s+1\\s+100\\s+50$`, "m"));

    const revoked = await run(["revoke", id], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked ${id} \\(team-a\\) at \\d{4}-`));
    const json = JSON.parse((await run(["list", "--json"], env)).stdout) as { id: string; revokedAt?: string }[];
    expect(json.find((k) => k.id === id)?.revokedAt).toBeDefined();
    await expect(gate.authenticate(key)).rejects.toMatchObject({ status: 401 });
  });

  it("says what is wrong: a refused field (exit 1), no master key or a bad flag (exit 2), no gateway there (exit 1)", async () => {
    const bad = await run(["create", "--name", "x", "--period", "week", "--budget", "1"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: 400 budgetPeriod: must be one of day, month, total/);
    const wrongMaster = await run(["list"], { ...env, ORCHESTRATOR_MASTER_KEY: "sk-wrong-master-key-000000" });
    expect(wrongMaster.code).toBe(1);
    expect(wrongMaster.stderr).toMatch(/^error: 401 /);
    const noMaster = await run(["list"], { ORCHESTRATOR_URL: env.ORCHESTRATOR_URL as string });
    expect(noMaster.code).toBe(2);
    expect(noMaster.stderr).toContain("ORCHESTRATOR_MASTER_KEY");
    const badFlag = await run(["create", "--name", "x", "--rpm", "many"], env);
    expect([badFlag.code, badFlag.stderr]).toEqual([2, expect.stringContaining('--rpm expects a number, got "many"')]);
    const port = await freePort();
    const nobody = await run(["list", "--url", `http://127.0.0.1:${port}`], env);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    const help = await run(["--help"], env);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining("keys create --name <name>")]);
  });
});
