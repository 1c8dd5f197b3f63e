#!/usr/bin/env node
// Checks every publishable package as a consumer sees it:
//  1. publint: package.json fields, exports map and files agree;
//  2. every file the exports map names exists and is inside `files`;
//  3. the package loads by name from ESM (import) and CJS (require), with the same exports;
//  4. its types resolve and compile for an ESM and a CJS consumer (moduleResolution node16);
//  5. its npm name is ours: not a name (or in a scope) that the registry lists for another project,
//     as recorded offline in npm-names.json by record-npm-names.mjs;
//  6. it carries what a user looks for on npm: license, repository, homepage, keywords;
//  7. a provider package keeps the one provider file layout (the same file for the same role).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { publint } from "publint";

const root = resolve(import.meta.dirname, "../..");
const problems = [];
const packages = readdirSync(join(root, "packages"))
  .map((d) => join(root, "packages", d))
  .filter((d) => existsSync(join(d, "package.json")) && existsSync(join(d, "src/index.ts")))
  .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter((p) => !p.json.private);

function targets(exp, out = []) {
  if (typeof exp === "string") out.push(exp);
  else if (exp && typeof exp === "object") for (const v of Object.values(exp)) targets(v, out);
  return out;
}

const names = JSON.parse(readFileSync(join(root, "tools/scripts/npm-names.json"), "utf8"));
const takenScopes = new Set(
  Object.keys(names.taken)
    .filter((n) => n.startsWith("@"))
    .map((n) => n.split("/")[0]),
);
for (const { json } of packages) {
  const scope = json.name.startsWith("@") ? json.name.split("/")[0] : undefined;
  if (names.taken[json.name])
    problems.push(
      `${json.name}: npm lists this name for another project (${names.taken[json.name].description ?? names.taken[json.name].repository}); see tools/scripts/npm-names.json`,
    );
  else if (scope && takenScopes.has(scope))
    problems.push(`${json.name}: the npm scope ${scope} belongs to another project; see tools/scripts/npm-names.json`);
  else if (!names.ours[json.name])
    problems.push(
      `${json.name}: not checked against the npm registry yet; run node tools/scripts/record-npm-names.mjs`,
    );
  for (const field of ["license", "repository", "homepage", "keywords"])
    if (!json[field]) problems.push(`${json.name}: package.json has no "${field}"`);
}

for (const { dir, json } of packages) {
  const { messages } = await publint({ pkgDir: dir, level: "warning", strict: true });
  for (const m of messages) problems.push(`${json.name}: publint ${m.type} ${m.code} at ${m.path?.join(".")}`);
  for (const t of targets(json.exports)) {
    if (t === "./package.json") continue;
    if (!existsSync(join(dir, t)))
      problems.push(`${json.name}: exports names ${t}, which does not exist (build first)`);
    if (!json.files?.some((f) => t.replace(/^\.\//, "").startsWith(f)))
      problems.push(`${json.name}: ${t} is not in "files"`);
  }
  if (json.sideEffects !== false) problems.push(`${json.name}: sideEffects should be false`);
  if (!existsSync(join(dir, "README.md"))) problems.push(`${json.name}: no README.md`);
  // npm packs a package's own LICENSE; each is a copy of the root one and must not drift from it.
  if (
    !existsSync(join(dir, "LICENSE")) ||
    readFileSync(join(dir, "LICENSE"), "utf8") !== readFileSync(join(root, "LICENSE"), "utf8")
  )
    problems.push(`${json.name}: LICENSE missing or not the same as the root LICENSE`);
}

// One layout for every provider package, so a reader who knows one knows them all:
// <name>-model.ts the Model class, plugin.ts the YAML plugin and factory, mapping.ts the request and
// result conversions, map-error.ts the SDK's failures as core errors, models.ts the known models,
// their capabilities and prices, index.ts the public surface.
const PROVIDER_FILES = ["index.ts", "plugin.ts", "mapping.ts", "map-error.ts", "models.ts"];
for (const { dir, json } of packages) {
  const short = json.name.replace(/^@orchestrator-ts\//, "");
  if (!short.startsWith("provider-")) continue;
  const model = `${short.slice("provider-".length)}-model.ts`;
  for (const file of [model, ...PROVIDER_FILES])
    if (!existsSync(join(dir, "src", file)))
      problems.push(`${json.name}: src/${file} is missing (the provider file layout, see check-packages.mjs)`);
}

// Load every entry point from both module systems in one child process each.
const consumer = mkdtempSync(join(root, "node_modules/.cache-consumer-"));
try {
  const entries = packages.flatMap(({ json }) =>
    Object.keys(json.exports)
      .filter((k) => k !== "./package.json")
      .map((k) => (k === "." ? json.name : `${json.name}/${k.slice(2)}`)),
  );
  // The conformance entry imports vitest, which only loads inside a vitest run.
  const runtime = entries.filter((e) => !e.endsWith("/conformance"));
  writeFileSync(
    join(consumer, "esm.mjs"),
    `const out = {};\n${runtime.map((e) => `out[${JSON.stringify(e)}] = Object.keys(await import(${JSON.stringify(e)})).sort();`).join("\n")}\nconsole.log(JSON.stringify(out));`,
  );
  writeFileSync(
    join(consumer, "cjs.cjs"),
    `const out = {};\n${runtime.map((e) => `out[${JSON.stringify(e)}] = Object.keys(require(${JSON.stringify(e)})).sort();`).join("\n")}\nconsole.log(JSON.stringify(out));`,
  );
  const esm = JSON.parse(
    execFileSync(process.execPath, [join(consumer, "esm.mjs")], { cwd: consumer, encoding: "utf8" }),
  );
  const cjs = JSON.parse(
    execFileSync(process.execPath, [join(consumer, "cjs.cjs")], { cwd: consumer, encoding: "utf8" }),
  );
  for (const e of runtime) {
    const a = (esm[e] ?? []).filter((k) => k !== "default" && k !== "module.exports");
    const b = (cjs[e] ?? []).filter((k) => k !== "default" && k !== "module.exports");
    if (a.length === 0) problems.push(`${e}: ESM import exports nothing`);
    if (JSON.stringify(a) !== JSON.stringify(b))
      problems.push(`${e}: ESM exports [${a}] differ from CJS exports [${b}]`);
  }
  // Types as an ESM and a CJS consumer see them.
  writeFileSync(
    join(consumer, "esm.mts"),
    entries
      .map((e, i) => `import * as m${i} from ${JSON.stringify(e)};\nexport const k${i} = Object.keys(m${i});`)
      .join("\n"),
  );
  writeFileSync(
    join(consumer, "cjs.cts"),
    entries
      .map((e, i) => `import m${i} = require(${JSON.stringify(e)});\nexport const k${i} = Object.keys(m${i});`)
      .join("\n"),
  );
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "node16",
        moduleResolution: "node16",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ["node"],
        typeRoots: [join(root, "node_modules/@types")],
      },
      files: ["esm.mts", "cjs.cts"],
    }),
  );
  try {
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", consumer], {
      cwd: consumer,
      encoding: "utf8",
    });
  } catch (e) {
    problems.push(`types do not compile for consumers:\n${e.stdout}`);
  }
  console.log(
    `check-packages: ${packages.length} packages, ${entries.length} entry points loaded from ESM and CJS, types checked under node16`,
  );
} finally {
  rmSync(consumer, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`check-packages: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("check-packages: all packages resolve as consumers see them");
