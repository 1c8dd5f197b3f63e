import { defineConfig } from "tsup";
import shared from "../../tools/tsup.shared";

// Two entries: the contract, and helpers shared with this repository's own packages ("./internal").
// Split into shared chunks so that both entries hold the same classes: a ModelCapabilities or an
// error made through ./internal must pass `instanceof` against the main entry's class.
export default defineConfig({ ...(shared as object), entry: ["src/index.ts", "src/internal.ts"], splitting: true });
