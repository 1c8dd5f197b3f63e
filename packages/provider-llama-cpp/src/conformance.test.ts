import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTinyGguf } from "@orchestrator-ts/gguf";
import { describeModelConformance } from "@orchestrator-ts/testing/conformance";
import { writeFileSync } from "node:fs";
import { afterAll } from "vitest";
import { LazyLlamaCppModel, LlamaCppModel } from "./llama-cpp-model";

// The suite's factories run inside tests, so the file is written while the suite is declared.
const dir = mkdtempSync(join(tmpdir(), "llama-cpp-conformance-"));
const path = join(dir, "tiny-q8_0.gguf");
writeFileSync(path, buildTinyGguf({ quantization: "q8_0", seed: 1 }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No injectLatency: the suite then aborts right after the call starts, which these fast models allow.
describeModelConformance(
  "LlamaCppModel (tiny Q8_0)",
  () => new LlamaCppModel({ name: "tiny-q8", modelPath: path, threads: 1, contextSize: 256 }),
);
describeModelConformance(
  "LazyLlamaCppModel (tiny Q8_0, sampled)",
  () =>
    new LazyLlamaCppModel({
      name: "llama2-7b-quantized",
      modelPath: dir,
      quantization: "int8",
      deviceMap: "auto",
      threads: 1,
      contextSize: 256,
    }),
  {
    request: {
      messages: [{ role: "user", content: "Say hello to the conformance suite." }],
      temperature: 0.8,
      seed: 7,
      maxTokens: 32,
    },
  },
);
