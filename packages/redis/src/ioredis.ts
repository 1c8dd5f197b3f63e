import { createRequire } from "node:module";

// Which module system this build is for: set per format by the build (tools/tsup.shared.ts), so that the
// other branch is left out of it; undefined in the sources (ES modules, as the tests run them).
declare const __ORCHESTRATOR_CJS__: boolean | undefined;

// ioredis is required when the first connection is made, not when this package is imported: an
// application that imports the orchestrator without configuring Redis never loads it (~20 MB of
// RSS, ~140 ms here). ioredis is CommonJS only, so this is the same module an `import` would give.
type IORedis = typeof import("ioredis");
let loaded: IORedis | undefined;

export function ioredis(): IORedis {
  // The CommonJS build has no import.meta: a literal require there (which bundlers follow too).
  loaded ??= (
    typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
      ? require("ioredis")
      : createRequire(import.meta.url)("ioredis")
  ) as IORedis;
  return loaded;
}
