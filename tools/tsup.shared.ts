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
  treeshake: true,
  // Which module system the build is for (core's COMMONJS_BUILD): a CommonJS build loads the
  // provider SDKs with `require`, the copy a CommonJS application has.
  esbuildOptions(options, context) {
    options.define = { ...options.define, __ORCHESTRATOR_CJS__: String(context.format === "cjs") };
  },
});
