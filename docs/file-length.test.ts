import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// tools/scripts/check-file-length.mjs runs in every package's lint: no source file over 500 lines
// (tests and src/test/ helpers aside), and it names the file and its length.
const ROOT = resolve(import.meta.dirname, "..");
const SCRIPT = join(ROOT, "tools/scripts/check-file-length.mjs");
const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`).join("\n") + "\n";

describe("no source file longer than 500 lines", () => {
  it("the checker fails on a 501-line source file and names it with its length; tests and test helpers are exempt", () => {
    const dir = mkdtempSync(join(tmpdir(), "file-length-"));
    try {
      mkdirSync(join(dir, "src/test"), { recursive: true });
      mkdirSync(join(dir, "src/deep"), { recursive: true });
      writeFileSync(join(dir, "src/fine.ts"), lines(500));
      writeFileSync(join(dir, "src/long.test.ts"), lines(900));
      writeFileSync(join(dir, "src/test/helpers.ts"), lines(900));
      const ok = spawnSync(process.execPath, [SCRIPT, dir], { encoding: "utf8" });
      expect(ok.stderr).toBe("");
      expect(ok.status).toBe(0);

      writeFileSync(join(dir, "src/deep/too-long.ts"), lines(501));
      const run = spawnSync(process.execPath, [SCRIPT, dir], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/src\/deep\/too-long\.ts: 501 lines, more than 500/);
      expect(run.stderr).not.toContain("fine.ts");
      expect(run.stderr).not.toContain("helpers.ts");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("every package passes", () => {
    const failed: string[] = [];
    for (const name of readdirSync(join(ROOT, "packages"))) {
      const run = spawnSync(process.execPath, [SCRIPT, join(ROOT, "packages", name)], { encoding: "utf8" });
      if (run.status !== 0) failed.push(run.stderr.trim());
    }
    expect(failed, failed.join("\n")).toEqual([]);
  }, 60_000);
});
