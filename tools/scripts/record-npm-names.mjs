#!/usr/bin/env node
// Asks the npm registry who owns each name we publish (and the names we moved away from) and
// records the answer in npm-names.json, which check-packages.mjs reads offline. Run it by hand
// (it needs the registry) before a first publish of a new package:
//   node tools/scripts/record-npm-names.mjs
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const file = join(root, "tools/scripts/npm-names.json");
const previous = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { taken: {}, ours: {} };

const ours = readdirSync(join(root, "packages"))
  .map((d) => join(root, "packages", d, "package.json"))
  .filter((p) => existsSync(p))
  .map((p) => JSON.parse(readFileSync(p, "utf8")))
  .filter((j) => !j.private)
  .map((j) => j.name);
// Names that belong to other projects, kept so that nobody moves back to them.
const watched = new Set([...Object.keys(previous.taken), "orchestrator", "@orchestrator/core"]);

function view(name) {
  try {
    const out = execFileSync("npm", ["view", name, "name", "version", "description", "repository.url", "--json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return JSON.parse(out);
  } catch (error) {
    if (/E404/.test(`${error.stdout}${error.stderr}`)) return undefined;
    throw error;
  }
}

const today = new Date().toISOString().slice(0, 10);
const result = {
  recordedAt: today,
  note: "Written by record-npm-names.mjs from `npm view`; read offline by check-packages.mjs.",
  taken: {},
  ours: {},
};
for (const name of watched) {
  const info = view(name);
  if (info)
    result.taken[name] = { version: info.version, description: info.description, repository: info["repository.url"] };
}
for (const name of ours) {
  const info = view(name);
  // Ours once published: a repository that is not this project's means someone else holds it.
  result.ours[name] = info ? { published: info.version, repository: info["repository.url"] } : { published: false };
}
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `npm-names: ${Object.keys(result.taken).length} taken by others, ${ours.length} of ours recorded (${today})`,
);
