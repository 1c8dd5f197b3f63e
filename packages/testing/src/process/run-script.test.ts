import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScript } from "./run-script";

const dir = mkdtempSync(join(tmpdir(), "run-script-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe("runScript", () => {
  it("resolves with the exit code, both streams, and exactly the environment it was given", async () => {
    const file = script(
      "prints.mjs",
      'console.log("out", process.env.ONLY ?? "-", process.env.HOME ?? "-");\nconsole.error("err");\nprocess.exitCode = 3;\n',
    );
    const result = await runScript({ file }, { env: { ONLY: "yes", PATH: process.env.PATH } });
    expect(result).toMatchObject({ code: 3, signal: null, timedOut: false, stdout: "out yes -\n", stderr: "err\n" });
  });

  it("kills a script that does not end by itself and says so", async () => {
    const file = script("hangs.mjs", "setInterval(() => {}, 1000);\n");
    const result = await runScript({ file }, { timeoutMs: 300 });
    expect(result).toMatchObject({ code: null, signal: "SIGKILL", timedOut: true });
  });
});
