// docs/troubleshooting.md, "llama.cpp is slow, or will not load": a quantization that is not in
// the folder, and too little free memory. The folder differs per run; the guide shows /models.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaCppModel } from "@orchestrator-ts/provider-llama-cpp";
import { writeTinyGguf } from "@orchestrator-ts/gguf";
import { errorLine } from "./error-line";

const dir = await mkdtemp(join(tmpdir(), "models-"));
await writeTinyGguf(join(dir, "tiny-q4_0.gguf"), { quantization: "q4_0" });
await writeTinyGguf(join(dir, "tiny-f16.gguf"), { quantization: "f16" });
await writeTinyGguf(join(dir, "q8", "tiny-q8_0.gguf"), { quantization: "q8_0" });

try {
  new LlamaCppModel({ name: "local", modelPath: dir, quantization: "int8" });
} catch (error) {
  console.log(errorLine(error).replaceAll(dir, "/models"));
}
const model = new LlamaCppModel({
  name: "local",
  modelPath: join(dir, "q8"),
  threads: 1,
  contextSize: 512,
  freeMemoryBytes: 1024 * 1024,
});
console.log(await model.generateResponse("hi").then(() => "answered", errorLine));
await model.cleanup();
