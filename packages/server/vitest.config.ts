import { defineConfig } from "vitest/config";

// One test file at a time: the dashboard's browser test (a real Chromium) starves the timing of the
// disconnect tests when they run beside it on a 2-core machine (an aborted upstream socket's close
// was seen late only then).
export default defineConfig({ test: { fileParallelism: false } });
