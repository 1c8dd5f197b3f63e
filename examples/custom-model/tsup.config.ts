import { defineConfig } from "tsup";
import shared from "../../tools/tsup.shared";

// `./server` is the loopback endpoint the example is tested against; kept apart from the model itself.
export default defineConfig({ ...(shared as object), entry: ["src/index.ts", "src/custom-server.ts"] });
