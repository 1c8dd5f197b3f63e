import { defineConfig } from "vitest/config";

// llama.cpp threads spin while waiting: test files running side by side on a small shared machine
// starve each other, so files run one after another.
export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
