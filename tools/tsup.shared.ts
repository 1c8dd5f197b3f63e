import { defineConfig } from "tsup";

// One build for every package: ESM + CJS + declarations, as consumers of either module system see them.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  // tsup 8 (the newest line that supports Node 20) sets `baseUrl` for its declaration build itself,
  // which TypeScript 6 reports as deprecated (TS5101); our tsconfigs do not use it.
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  clean: true,
  sourcemap: true,
  target: "node20",
  platform: "node",
  splitting: false,
  // esbuild's own tree shaking only. tsup's `treeshake` re-bundles through Rollup from an ESM build,
  // which turns a CommonJS build's `require("openai")` into an opaque `__require("openai")` that
  // bundlers (webpack, ncc, esbuild) cannot follow: a bundled CommonJS application then lacks the SDK.
  treeshake: false,
  // `import.meta.url` in the CommonJS builds (from __filename), for what the ESM code resolves next to itself.
  shims: true,
  // Which module system the build is for: a provider's CommonJS build loads its SDK with a literal
  // `require` (the copy a CommonJS application has, and what bundlers follow), its ESM build with
  // `import()`; the define lets esbuild drop the other branch (declared in tools/types/build-format.d.ts).
  esbuildOptions(options, context) {
    options.define = { ...options.define, __ORCHESTRATOR_CJS__: String(context.format === "cjs") };
  },
});
