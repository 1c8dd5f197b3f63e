import { defineConfig } from "tsup";

// One build for every package: ESM + CJS + declarations, as consumers of either module system see them.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  platform: "node",
  splitting: false,
  treeshake: true,
});
