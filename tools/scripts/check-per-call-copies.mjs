#!/usr/bin/env node
// No `{ ...object, more: … }` in the code every call runs through. On Node 20 each property added to an
// object that starts with a spread takes V8's slow path, ~1.7 µs a property: `{ ...result, selectionId,
// explanation, attempts }` cost registry.generate 5.1 µs of its ~15. Such copies use core's `withFields`
// (Object.assign: same keys, same order, 0.15 µs). A spread that comes last (`{ a, ...rest }`) is fast.
// Checks the per-call files of the package it runs in (lint does), or the files given after --files.
//   node tools/scripts/check-per-call-copies.mjs [packageDir] [--files a.ts b.ts]
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";

// Files on the path of every call (generate and stream, the gateway's request, the telemetry of each call).
// Model classes are not listed whole: their constructors and error paths run once, not per call.
export const PER_CALL = [
  "packages/core/src/model.ts",
  "packages/core/src/model-stream.ts",
  "packages/core/src/call-scope.ts",
  "packages/registry/src/call-state.ts",
  "packages/registry/src/registry-generate.ts",
  "packages/registry/src/registry-stream.ts",
  "packages/registry/src/routes/live.ts",
  "packages/server/src/answer.ts",
  "packages/server/src/chat-completions.ts",
  "packages/server/src/messages.ts",
  "packages/server/src/exchange.ts",
  "packages/otel/src/instrument.ts",
  "packages/otel/src/traced-stream.ts",
  "packages/openai-format/src/stream.ts",
  "packages/ai-sdk/src/to-call-options.ts",
];

const root = resolve(import.meta.dirname, "../..");
const ts = createRequire(join(root, "package.json"))("typescript");
const at = process.argv.indexOf("--files");
const files =
  at >= 0
    ? process.argv.slice(at + 1).map((f) => resolve(f))
    : PER_CALL.map((f) => join(root, f)).filter((f) => f.startsWith(`${resolve(process.argv[2] ?? process.cwd())}/`));

const problems = [];
for (const file of files) {
  // A listed file that was renamed or removed would otherwise drop out of the check unnoticed.
  if (!existsSync(file)) {
    problems.push(`${relative(root, file)}: listed in PER_CALL but missing; update the list`);
    continue;
  }
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isObjectLiteralExpression(node)) {
      const spread = node.properties.findIndex((p) => ts.isSpreadAssignment(p));
      if (spread >= 0 && node.properties.slice(spread + 1).some((p) => !ts.isSpreadAssignment(p))) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart());
        const text = node.getText().replace(/\s+/g, " ");
        problems.push(`${relative(root, file)}:${line + 1}: ${text.length > 80 ? `${text.slice(0, 77)}…` : text}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
if (problems.length > 0) {
  console.error(
    `A copy made on every call spreads an object and then adds properties (~1.7 µs a property on Node 20); use withFields(object, { … }) from @orchestrator-ts/core/internal:\n  ${problems.join("\n  ")}`,
  );
  process.exit(1);
}
