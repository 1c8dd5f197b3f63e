import { defineConfig } from "tsup";
import shared from "../../tools/tsup.shared";

// Two entries: the conformance suite imports vitest, so it lives apart from what runs in production (the GGUF writer, servers).
export default defineConfig({ ...(shared as object), entry: ["src/index.ts", "src/conformance.ts"] });
