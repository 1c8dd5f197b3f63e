import { defineConfig } from "tsup";
import shared from "../../tools/tsup.shared";

// The library entry and the CLI (the package's bin; tsup keeps its #! line).
export default defineConfig({ ...(shared as object), entry: ["src/index.ts", "src/cli.ts"] });
