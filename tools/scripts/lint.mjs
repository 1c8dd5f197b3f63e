#!/usr/bin/env node
// Lint one package (run from its folder): Biome's rules, then the module boundaries of nx tags.
//   contract (core)       → nothing of ours
//   lib / provider        → contract only
//   testing               → contract only
//   example               → contract and testing (published surface only)
//   app                   → anything published (an example application, as a user writes one)
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
  lib: ["contract"],
  provider: ["contract"],
  testing: ["contract"],
  example: ["contract", "testing"],
  app: ["contract", "lib", "provider", "testing", "meta"],
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
if (allowed === undefined) problems.push(`${pkg.name}: package.json has no known nx scope tag (got ${JSON.stringify(tags)})`);
const importRe = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)/g;
for (const file of files(cwd)) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const where = `${relative(root, file)}: "${spec}"`;
    if (spec.startsWith(".")) {
      const target = resolve(file, "..", spec);
      if (!target.startsWith(cwd + sep) && target !== cwd) {
        // Shared tooling config is the one relative import that may leave a package.
        if (!target.startsWith(join(root, "tools") + sep)) problems.push(`${where} reaches outside the package; import it by package name`);
      }
      continue;
    }
    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
    if (!scopes.has(name) || name === pkg.name) continue;
    if (/\/src(\/|$)/.test(spec.slice(name.length))) problems.push(`${where} imports another package's src/; import the package by name`);
    const target = scopes.get(name);
    // Tests (and their fixtures) may use the testing kit on top of what the package may import.
    const isTest = /\.test\.ts$/.test(file) || file.includes(`${sep}test${sep}`);
    const devDependency = Object.hasOwn(pkg.devDependencies ?? {}, name);
    if (allowed !== "*" && !allowed?.includes(target) && !(isTest && (target === "testing" || devDependency))) problems.push(`${where}: a "${scope}" package may not depend on "${target}" (${name})`);
  }
}

try {
  execFileSync(join(root, "node_modules/.bin/biome"), ["lint", "--error-on-warnings", "--no-errors-on-unmatched", "."], { cwd, stdio: "inherit" });
} catch {
  problems.push("biome lint failed (see above)");
}
if (problems.length) {
  console.error(`lint: ${problems.length} problem(s) in ${pkg.name}:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`lint: ${pkg.name} clean (biome + module boundaries, scope:${scope})`);
