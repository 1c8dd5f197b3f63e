import { defineConfig } from "tsup";
import shared from "../../tools/tsup.shared";

// Two entries: the contract, and helpers shared with this repository's own packages ("./internal").
export default defineConfig({ ...(shared as object), entry: ["src/index.ts", "src/internal.ts"] });
