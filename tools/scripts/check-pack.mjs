#!/usr/bin/env node
// Packs every publishable package as `changeset publish` would (it runs `npm publish`, which packs
// exactly what `npm pack` packs) and checks each tarball's file list:
//  - it holds package.json, README.md, LICENSE, CHANGELOG.md and the build (dist/);
//  - it holds nothing else that a user should not download: no tests or test fixtures, no
//    TypeScript sources, no .env files, no build caches, no source maps that embed test code;
//  - every file a packed script names by a relative path (an import, a chunk of the split CLI,
//    the bin's dist/cli/cli.js) is packed too: a missing chunk would fail only when its command runs.
// Run after the build (npm test runs it after nx). Offline: `--dry-run` writes and sends nothing.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, posix, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const packages = readdirSync(join(root, "packages"))
  .map((d) => join(root, "packages", d))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter((p) => !p.json.private);

const REQUIRED = ["package.json", "README.md", "LICENSE", "CHANGELOG.md"];
// What a built file may be: the ESM and CJS bundles, their declarations and their source maps.
const BUILT = /^dist\/.+\.(?:js|cjs|mjs|d\.ts|d\.cts|d\.mts|js\.map|cjs\.map|mjs\.map)$/;
const FORBIDDEN = [
  [/(?:^|\/)[^/]*\.(?:test|spec)\.[cm]?[jt]sx?(?:\.map)?$/, "a test file"],
  [/(?:^|\/)(?:test|tests|__tests__|fixtures|test-results|coverage)\//, "a test folder"],
  [/(?:^|\/)\.env(?:\.|$)/, "an environment file"],
  [/(?:^|\/)src\//, "TypeScript sources"],
  [/\.tsbuildinfo$|(?:^|\/)\.nx\/|(?:^|\/)node_modules\//, "a build cache"],
  [/(?:^|\/)[^/]*\.tgz$/, "a packed tarball"],
];

const problems = [];
// One npm process for every package: `npm pack -w a -w b … --dry-run --json`.
const args = [
  "pack",
  "--dry-run",
  "--json",
  "--ignore-scripts",
  ...packages.flatMap((p) => ["-w", relative(root, p.dir)]),
];
const packed = JSON.parse(
  execFileSync("npm", args, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
  }),
);
const byName = new Map(packed.map((p) => [p.name, p]));
const rows = [];
for (const { dir, json } of packages) {
  const tarball = byName.get(json.name);
  if (!tarball) {
    problems.push(`${json.name}: npm pack produced nothing`);
    continue;
  }
  const files = tarball.files.map((f) => f.path);
  for (const required of REQUIRED)
    if (!files.includes(required))
      problems.push(
        `${json.name}: the tarball has no ${required}${required === "CHANGELOG.md" ? ' (run npx changeset version; add it to "files")' : ""}`,
      );
  if (!files.some((f) => f.startsWith("dist/"))) problems.push(`${json.name}: the tarball has no dist/ (build first)`);
  const bins = new Set(
    Object.values(typeof json.bin === "string" ? { [json.name]: json.bin } : (json.bin ?? {})).map((b) =>
      b.replace(/^\.\//, ""),
    ),
  );
  for (const file of files) {
    for (const [pattern, what] of FORBIDDEN)
      if (pattern.test(file)) problems.push(`${json.name}: the tarball holds ${what}: ${file}`);
    if (!REQUIRED.includes(file) && !BUILT.test(file) && !bins.has(file))
      problems.push(`${json.name}: unexpected file in the tarball: ${file}`);
    // A source map embeds its sources: none of them may be a test or a test helper.
    if (file.endsWith(".map")) {
      const map = JSON.parse(readFileSync(join(dir, file), "utf8"));
      for (const source of map.sources ?? [])
        if (/\.(?:test|spec)\.|(?:^|\/)test\/|test-helpers/.test(source))
          problems.push(`${json.name}: ${file} embeds test code: ${source}`);
    }
  }
  // Relative references between packed scripts: `from "./chunk-X.js"`, `import("./serve-Y.js")`, `new URL("../dist/cli/cli.js", …)`.
  const packedSet = new Set(files);
  for (const file of files) {
    if (!/\.[cm]?js$/.test(file)) continue;
    const text = readFileSync(join(dir, file), "utf8");
    for (const [, target] of text.matchAll(
      /(?:\bfrom|\bimport|\brequire\s*\(|\bimport\s*\(|\bnew URL\s*\()\s*["'](\.\.?\/[^"'\s]+\.[cm]?js)["']/g,
    )) {
      const path = posix.normalize(posix.join(posix.dirname(file), target));
      const problem = `${json.name}: ${file} refers to ${target}, which is not in the tarball`;
      if (!packedSet.has(path) && !problems.includes(problem)) problems.push(problem);
    }
  }
  rows.push(
    `${json.name.padEnd(40)} ${String(files.length).padStart(3)} files ${(tarball.size / 1024).toFixed(0).padStart(5)} kB packed ${(tarball.unpackedSize / 1024).toFixed(0).padStart(6)} kB unpacked`,
  );
}

console.log(`check-pack: ${packages.length} packages packed as npm publish would:\n  ${rows.join("\n  ")}`);
if (problems.length) {
  console.error(`check-pack: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  "check-pack: every tarball holds dist, README.md, LICENSE, CHANGELOG.md and nothing else, and every script it references",
);
