import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// tools/scripts/check-import-cycles.mjs runs in every package's lint: it must find a circle
// (type-only imports included) and name its files, and the tree must have none.
const ROOT = resolve(import.meta.dirname, "..");
const SCRIPT = join(ROOT, "tools/scripts/check-import-cycles.mjs");

describe("no import circle between files", () => {
  it("the checker fails on a circle and prints the chain of files", () => {
    const dir = mkdtempSync(join(tmpdir(), "cycles-"));
    try {
      const src = join(dir, "packages/a/src");
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, "one.ts"), 'import { two } from "./two";\nexport const one = () => two;\n');
      writeFileSync(
        join(src, "two.ts"),
        'import type { Three } from "./three";\nexport const two = (t?: Three) => t;\n',
      );
      writeFileSync(join(src, "three.ts"), 'export type { one } from "./one";\nexport interface Three {}\n');
      writeFileSync(join(src, "free.ts"), 'import { one } from "./one";\nexport const free = one;\n');
      const run = spawnSync(process.execPath, [SCRIPT, dir], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("1 import circle(s)");
      expect(run.stderr).toContain(
        "packages/a/src/one.ts → packages/a/src/two.ts → packages/a/src/three.ts → packages/a/src/one.ts",
      );
      // One package at a time, as lint runs it.
      expect(
        spawnSync(process.execPath, [SCRIPT, dir, "--only", join(dir, "packages/a")], { encoding: "utf8" }).status,
      ).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the repository has none", () => {
    expect(execFileSync(process.execPath, [SCRIPT, ROOT], { encoding: "utf8" })).toMatch(/no import circle/);
  });
});
