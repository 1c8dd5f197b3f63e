// docs/troubleshooting.md, "A config file does not load": what `orchestrator validate` prints for a
// llama.cpp model whose file is not there — here because it is run from another directory (/) than
// the config's, and a relative model_path is from the working directory.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

writeFileSync(
  "models.yaml",
  "models:\n  - name: local\n    provider: llama-cpp\n    config: { model_path: ./weights/model.gguf }\n",
);
const cli = join(
  dirname(createRequire(import.meta.url).resolve("orchestrator-ts/package.json")),
  "bin/orchestrator.js",
);
const run = spawnSync(process.execPath, [cli, "validate", "--config", resolve("models.yaml")], {
  cwd: "/",
  encoding: "utf8",
});
console.log(run.stdout + run.stderr);
console.log(`exit code ${run.status}`);
