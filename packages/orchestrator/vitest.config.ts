import { defineConfig } from "vitest/config";

// The CLI tests spawn real processes that run llama.cpp: one file at a time on a 2-core machine.
export default defineConfig({ test: { fileParallelism: false, testTimeout: 120_000 } });
