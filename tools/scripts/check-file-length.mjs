#!/usr/bin/env node
// No source file of a package longer than MAX_LINES: a file that long holds more than one idea, and a
// newcomer reads one file at a time. Counts every non-test file under <package>/src (tests, `*.test.ts`,
// and test helpers under `src/test/` are exempt). Run from a package folder, as lint does, or with a path.
//   node tools/scripts/check-file-length.mjs [packageDir]
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

export const MAX_LINES = 500;

// Files known to be over while their split is under way elsewhere. Each entry names who splits it; the
// check fails once an entry is no longer over, so this list cannot outlive the split.
const PENDING = new Map([]);

const root = resolve(import.meta.dirname, "../..");
const dir = resolve(process.argv[2] ?? process.cwd());
const src = join(dir, "src");

function sources(folder) {
  const out = [];
  let names;
  try {
    names = readdirSync(folder);
  } catch {
    return out;
  }
  for (const name of names) {
    const full = join(folder, name);
    if (statSync(full).isDirectory()) {
      if (name !== "test" && name !== "node_modules" && name !== "dist") out.push(...sources(full));
    } else if (/\.(ts|mts|cts|tsx|mjs|js)$/.test(name) && !/\.test\.[cm]?tsx?$/.test(name) && !name.endsWith(".d.ts"))
      out.push(full);
  }
  return out;
}

function lineCount(text) {
  if (text === "") return 0;
  const n = text.split("\n").length;
  return text.endsWith("\n") ? n - 1 : n;
}

const problems = [];
const notes = [];
for (const file of sources(src)) {
  const lines = lineCount(readFileSync(file, "utf8"));
  const name = relative(root, file).split(sep).join("/");
  const pending = PENDING.get(name);
  if (lines > MAX_LINES) {
    if (pending) notes.push(`${name}: ${lines} lines, over ${MAX_LINES} (allowed for now: ${pending})`);
    else
      problems.push(
        `${name}: ${lines} lines, more than ${MAX_LINES}; split it into files that each hold one idea, named by it`,
      );
  } else if (pending) {
    problems.push(
      `${name}: ${lines} lines, no longer over ${MAX_LINES}; remove it from PENDING in ${relative(root, import.meta.filename)}`,
    );
  }
}
for (const note of notes) console.warn(`check-file-length: ${note}`);
if (problems.length > 0) {
  console.error(`check-file-length: ${problems.length} file(s) too long:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`check-file-length: no source file over ${MAX_LINES} lines`);
