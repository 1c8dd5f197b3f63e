import { defineConfig } from "tsup";
import shared from "../../tools/tsup.shared";

// `main` is the runnable script; `app` what it runs, importable by the test.
export default defineConfig({ ...(shared as object), entry: ["src/app.ts", "src/main.ts"] });
