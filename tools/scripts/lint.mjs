#!/usr/bin/env node
// Lint one package (run from its folder): Biome's rules, no import circle between its files, no source file over
// 500 lines, then the module boundaries of nx tags.
//   contract (core)       → nothing of ours
//   format                → contract only (wire formats: openai-format, gguf)
//   lib                   → contract only
//   provider / testing    → contract and format
//   eval (replay)         → contract and lib (offline evaluation runs the registry's selectors)
//   server                → contract, format and lib (the gateway serves a registry; providers come from the meta package)
//   example               → contract and testing (published surface only)
//   app                   → any published package (runnable examples of using them)
//   meta                  → anything
//   tool                  → anything
// Tests may also import the testing kit and the package's own devDependencies. And everywhere: another package is imported by its name, never through its src/ or a relative path.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

const cwd = process.cwd();
const root = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(cwd, "package.json"), "utf8"));
const tags = pkg.nx?.tags ?? [];
const scope = tags.find((t) => t.startsWith("scope:"))?.slice(6);

const ALLOWED = {
  contract: [],
  format: ["contract"],
  lib: ["contract"],
  provider: ["contract", "format"],
  eval: ["contract", "lib"],
  server: ["contract", "format", "lib"],
  testing: ["contract", "format"],
  example: ["contract", "testing"],
  app: ["contract", "format", "lib", "eval", "provider", "testing", "meta"],
  meta: "*",
  tool: "*",
  docs: "*",
};

// Every workspace package's name → its scope tag.
const scopes = new Map();
for (const p of ["docs/package.json"]) {
  try {
    const j = JSON.parse(readFileSync(join(root, p), "utf8"));
    scopes.set(j.name, (j.nx?.tags ?? []).find((t) => t.startsWith("scope:"))?.slice(6));
  } catch {}
}
for (const group of ["packages", "examples", "tools"]) {
  let dirs = [];
  try {
    dirs = readdirSync(join(root, group));
  } catch {
    continue;
  }
  for (const d of dirs) {
    try {
      const p = JSON.parse(readFileSync(join(root, group, d, "package.json"), "utf8"));
      scopes.set(p.name, (p.nx?.tags ?? []).find((t) => t.startsWith("scope:"))?.slice(6));
    } catch {}
  }
}

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist") continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...files(full));
    else if (/\.(ts|mts|cts|mjs|js)$/.test(name)) out.push(full);
  }
  return out;
}

const problems = [];
const allowed = ALLOWED[scope];
if (allowed === undefined)
  problems.push(`${pkg.name}: package.json has no known nx scope tag (got ${JSON.stringify(tags)})`);
const importRe =
  /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)/g;
for (const file of files(cwd)) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const where = `${relative(root, file)}: "${spec}"`;
    if (spec.startsWith(".")) {
      const target = resolve(file, "..", spec);
      if (!target.startsWith(cwd + sep) && target !== cwd) {
        // Shared tooling config is the one relative import that may leave a package.
        if (!target.startsWith(join(root, "tools") + sep))
          problems.push(`${where} reaches outside the package; import it by package name`);
      }
      continue;
    }
    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
    if (!scopes.has(name) || name === pkg.name) continue;
    if (/\/src(\/|$)/.test(spec.slice(name.length)))
      problems.push(`${where} imports another package's src/; import the package by name`);
    // "<package>/internal" holds helpers for our own packages: examples and docs show what a user may import.
    if (/^\/internal(\/|$)/.test(spec.slice(name.length)) && (scope === "example" || scope === "docs"))
      problems.push(
        `${where} imports ${name}/internal, which is for this repository's packages; use the package's public entry`,
      );
    const target = scopes.get(name);
    // Tests (and their fixtures) may use the testing kit on top of what the package may import.
    const isTest = /\.test\.ts$/.test(file) || file.includes(`${sep}test${sep}`);
    const devDependency = Object.hasOwn(pkg.devDependencies ?? {}, name);
    if (allowed !== "*" && !allowed?.includes(target) && !(isTest && (target === "testing" || devDependency)))
      problems.push(`${where}: a "${scope}" package may not depend on "${target}" (${name})`);
  }
}

// No import circle between this package's files (a circle cannot be read or split one file at a time).
try {
  execFileSync(process.execPath, [join(root, "tools/scripts/check-import-cycles.mjs"), root, "--only", cwd], {
    stdio: "inherit",
  });
} catch {
  problems.push("import circle between files (see above)");
}

// No source file of a published package longer than 500 lines (tests and src/test/ helpers aside): one idea a file.
if (relative(root, cwd).startsWith("packages/")) {
  try {
    execFileSync(process.execPath, [join(root, "tools/scripts/check-file-length.mjs"), cwd], { stdio: "inherit" });
  } catch {
    problems.push("source file longer than 500 lines (see above)");
  }
}

// No spread-then-property copy in the files every call runs through (a V8 slow path; see the script).
try {
  execFileSync(process.execPath, [join(root, "tools/scripts/check-per-call-copies.mjs"), cwd], { stdio: "inherit" });
} catch {
  problems.push("a per-call copy spreads an object and then adds properties (see above)");
}

try {
  execFileSync(
    join(root, "node_modules/.bin/biome"),
    ["check", "--error-on-warnings", "--no-errors-on-unmatched", "."],
    { cwd, stdio: "inherit" },
  );
} catch {
  problems.push("biome check failed: lint or format (see above; `npm run format` fixes the format)");
}
if (problems.length) {
  console.error(`lint: ${problems.length} problem(s) in ${pkg.name}:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`lint: ${pkg.name} clean (biome + module boundaries, scope:${scope})`);
