import { createRequire } from "node:module";

// ioredis is required when the first connection is made, not when this package is imported: an
// application that imports the orchestrator without configuring Redis never loads it (~20 MB of
// RSS, ~140 ms here). ioredis is CommonJS only, so this is the same module an `import` would give.
type IORedis = typeof import("ioredis");
let loaded: IORedis | undefined;

export function ioredis(): IORedis {
  // The CommonJS build requires it literally, which bundlers follow (they cannot see through createRequire).
  loaded ??= (
    typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
      ? require("ioredis")
      : import.meta.url
        ? createRequire(import.meta.url)("ioredis")
        : // The ES module build bundled into a CommonJS file (esbuild leaves import.meta empty there): the bundle's require.
          require("ioredis")
  ) as IORedis;
  return loaded;
}
