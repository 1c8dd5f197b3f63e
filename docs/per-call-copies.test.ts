import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// tools/scripts/check-per-call-copies.mjs runs in every package's lint over the files every call runs
// through: a copy that spreads an object and then adds properties takes V8's slow path on Node 20.
const ROOT = resolve(import.meta.dirname, "..");
const SCRIPT = join(ROOT, "tools/scripts/check-per-call-copies.mjs");

describe("per-call copies are not spreads followed by properties", () => {
  it("fails on `{ ...result, selectionId }` and names the file and line; withFields and a trailing spread pass", () => {
    const dir = mkdtempSync(join(tmpdir(), "per-call-copies-"));
    try {
      const fine = join(dir, "fine.ts");
      writeFileSync(
        fine,
        [
          "declare const withFields: (a: object, b: object) => object;",
          "export const a = (result: object, id: string) => withFields(result, { selectionId: id });",
          "export const b = (rest: object) => ({ type: 'finish', ...rest });",
          "export const c = (x: object, y: object) => ({ ...x, ...y });",
          "",
        ].join("\n"),
      );
      const ok = spawnSync(process.execPath, [SCRIPT, "--files", fine], { encoding: "utf8" });
      expect(ok.stderr).toBe("");
      expect(ok.status).toBe(0);

      const slow = join(dir, "slow.ts");
      writeFileSync(slow, "export const f = (result: object, id: string) =>\n  ({ ...result, selectionId: id });\n");
      const run = spawnSync(process.execPath, [SCRIPT, "--files", fine, slow], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/slow\.ts:2: \{ \.\.\.result, selectionId: id \}/);
      expect(run.stderr).toContain("withFields");
      expect(run.stderr).not.toContain("fine.ts");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("every file it watches exists, so a rename cannot switch the check off", () => {
    const run = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { PER_CALL } from ${JSON.stringify(SCRIPT)}; console.log(JSON.stringify(PER_CALL));`,
      ],
      { encoding: "utf8" },
    );
    const files = JSON.parse(run.stdout) as string[];
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(existsSync(join(ROOT, file)), file).toBe(true);
  });
});
