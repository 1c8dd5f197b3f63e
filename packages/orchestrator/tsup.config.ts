import { defineConfig } from "tsup";
import shared from "../../tools/tsup.shared";

// Two builds, run at once, each cleaning only its own folder.
export default defineConfig([
  // The library: ESM + CommonJS + declarations, as every package.
  { ...(shared as object), entry: ["src/index.ts"], clean: ["!cli/**"] },
  // The CLI (the package's bin, an ES module; tsup keeps its #! line) in dist/cli/, split in chunks
  // so that each command's module, and the packages only it uses, load when that command runs.
  {
    ...(shared as object),
    entry: ["src/cli.ts"],
    outDir: "dist/cli",
    format: ["esm"],
    splitting: true,
    dts: false,
  },
]);
