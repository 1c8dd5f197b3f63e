#!/usr/bin/env node
// Builds the API reference from the doc comments with TypeDoc (typedoc.json: one entry point per
// package) into api-docs/ (gitignored: generated HTML in git would churn with every comment and
// drift from the code; build it with `npm run docs:api`, open api-docs/index.html). Offline, one
// TypeDoc run, outside every workspace package so that no test runner or linter walks the HTML.
//
// Fails on every TypeDoc warning — broken {@link}s, links rewritten to missing files, exported
// API that refers to a type the package does not export — except one: an export without a doc
// comment. Those are checked against tools/scripts/api-docs-undocumented.json, the exports that
// had none when the check was introduced: a new undocumented export fails, and so does an entry
// of that list that has since been documented (delete it), so the list only shrinks.
//   node tools/scripts/check-api-docs.mjs            check, and write api-docs/
//   node tools/scripts/check-api-docs.mjs --baseline rewrite the list (for a deliberate reset only)
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { Application, ConsoleLogger, LogLevel, TSConfigReader, TypeDocReader } from "typedoc";

const root = resolve(import.meta.dirname, "../..");
const baselineFile = join(root, "tools/scripts/api-docs-undocumented.json");
const UNDOCUMENTED = /^(.+) \((\w+)\), defined in (.+?), does not have any documentation$/;

class CollectingLogger extends ConsoleLogger {
  undocumented = [];
  problems = [];
  log(message, level) {
    // The console logger's colours and level prefix are not part of the message.
    const text = stripVTControlCharacters(message).replace(/^\[\w+\] /, "");
    const m = UNDOCUMENTED.exec(text);
    // Keyed by package, not file, so that moving code between files is not a change.
    if (m) this.undocumented.push(`${m[3].replace(/\/src\/.*$/, "")}: ${m[1]} (${m[2]})`);
    else {
      if (level >= LogLevel.Warn) this.problems.push(text);
      if (level >= LogLevel.Warn) super.log(message, level);
    }
  }
}

const started = performance.now();
const logger = new CollectingLogger();
const app = await Application.bootstrapWithPlugins({ options: join(root, "typedoc.json") }, [
  new TypeDocReader(),
  new TSConfigReader(),
]);
app.logger = logger;
const project = await app.convert();
if (!project) {
  console.error("check-api-docs: TypeDoc could not convert the packages (see above)");
  process.exit(1);
}
app.validate(project);
await app.generateDocs(project, join(root, "api-docs"));

const found = [...new Set(logger.undocumented)].sort();
if (process.argv.includes("--baseline")) {
  writeFileSync(baselineFile, `${JSON.stringify(found, null, 2)}\n`);
  console.log(`check-api-docs: ${found.length} undocumented exports written to ${baselineFile}`);
  process.exit(0);
}
const baseline = new Set(JSON.parse(readFileSync(baselineFile, "utf8")));
const added = found.filter((f) => !baseline.has(f));
const fixed = [...baseline].filter((b) => !found.includes(b));
const problems = [
  ...logger.problems,
  ...added.map((a) => `no doc comment on a new export: ${a}`),
  ...fixed.map((f) => `documented now (or gone): delete it from tools/scripts/api-docs-undocumented.json: ${f}`),
];
const seconds = ((performance.now() - started) / 1000).toFixed(0);
if (problems.length > 0) {
  console.error(`check-api-docs: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `check-api-docs: API reference of ${project.children?.length ?? 0} packages written to api-docs/ in ${seconds} s; no broken links or unexported types; ${found.length} exports still without a doc comment (the list only shrinks)`,
);
