// docs/troubleshooting.md and packages/config/README.md, "A provider's package is not installed":
// what `orchestrator validate` prints for a config whose provider SDK (`openai`) cannot be found.
// The package is hidden from module resolution, as if it had not been installed.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

writeFileSync("models.yaml", "models:\n  - name: gpt\n    provider: openai\n    config: { api_key: sk-unused }\n");
writeFileSync(
  "hide-openai.mjs",
  `export async function resolve(specifier, context, next) {
  if (specifier === "openai")
    throw Object.assign(new Error("Cannot find package 'openai' imported from " + context.parentURL), { code: "ERR_MODULE_NOT_FOUND" });
  return next(specifier, context);
}\n`,
);
writeFileSync(
  "register.mjs",
  'import { register } from "node:module";\nregister(new URL("./hide-openai.mjs", import.meta.url));\n',
);
const cli = join(
  dirname(createRequire(import.meta.url).resolve("orchestrator-ts/package.json")),
  "bin/orchestrator.js",
);
const run = spawnSync(process.execPath, ["--import", "./register.mjs", cli, "validate", "--config", "models.yaml"], {
  encoding: "utf8",
});
console.log(run.stdout + run.stderr);
console.log(`exit code ${run.status}`);
