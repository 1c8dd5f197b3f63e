#!/usr/bin/env node
// One closing line for the whole test run, summed over every package's vitest JSON report, after
// the list of skipped tests and why each was skipped (a bare "4 skipped" reads like a problem).
// Usage: node tools/scripts/test-summary.mjs [workspace root]
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? join(import.meta.dirname, "../.."));
const groups = ["packages", "examples"].filter((g) => existsSync(join(root, g)));
const dirs = [
  ...groups.flatMap((g) => readdirSync(join(root, g)).map((d) => join(root, g, d))),
  join(root, "docs"),
  join(root, "tools/bench"),
];
let passed = 0;
let failed = 0;
let skipped = 0;
let files = 0;
const skippedTests = [];
for (const dir of dirs) {
  const report = join(dir, "test-results/vitest.json");
  if (!existsSync(report)) continue;
  const json = JSON.parse(readFileSync(report, "utf8"));
  files++;
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  const pkg = existsSync(join(dir, "package.json"))
    ? JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name
    : relative(root, dir);
  for (const file of json.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (test.status !== "skipped" && test.status !== "pending" && test.status !== "todo") continue;
      // Our convention: a conditionally skipped test says why in its title, "(skipped: OPENAI_API_KEY not set)".
      const match = /\s*\(skipped: ([^)]+)\)\s*$/.exec(test.title ?? "");
      skippedTests.push({
        where: `${pkg} ${relative(dir, file.name ?? "")}`,
        title: match ? test.title.slice(0, match.index) : (test.title ?? test.fullName),
        reason: match ? match[1] : test.status === "todo" ? "todo" : undefined,
      });
    }
  }
}
if (files === 0) {
  console.error("test-summary: no vitest reports found");
  process.exit(1);
}
if (skippedTests.length > 0) {
  const optIn = skippedTests.every((t) => t.reason?.endsWith("not set"));
  console.log(
    optIn
      ? `Skipped: ${skippedTests.length} opt-in live test(s), which call a real service only when its credentials are set:`
      : `Skipped: ${skippedTests.length} test(s):`,
  );
  for (const t of skippedTests)
    console.log(`  - ${t.where}: ${t.title} (${t.reason ?? "no reason given in its title"})`);
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
