#!/usr/bin/env node
// One closing line for the whole test run, summed over every package's vitest JSON report.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const dirs = [...["packages", "examples"].flatMap((g) => readdirSync(join(root, g)).map((d) => join(root, g, d))), join(root, "docs")];
let passed = 0;
let failed = 0;
let skipped = 0;
let files = 0;
for (const dir of dirs) {
  const report = join(dir, "test-results/vitest.json");
  if (!existsSync(report)) continue;
  const json = JSON.parse(readFileSync(report, "utf8"));
  files++;
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
}
if (files === 0) {
  console.error("test-summary: no vitest reports found");
  process.exit(1);
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
