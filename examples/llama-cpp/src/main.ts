// A local GGUF model run by llama.cpp through @orchestrator-ts/provider-llama-cpp: no server, no
// key, no download. Run it with your own model file (or a folder of them):
//   MODEL_PATH=/models/llama-3.2-1b-instruct-q8_0.gguf npm start -w examples/llama-cpp
// Without MODEL_PATH it writes a tiny random-weight model first (its answers are gibberish).
// QUANTIZATION picks a file from a folder (int8, int4, f16…); THREADS sets llama.cpp's threads.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LazyLlamaCppModel } from "@orchestrator-ts/provider-llama-cpp";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { writeTinyGguf } from "@orchestrator-ts/gguf";

let modelPath = process.env.MODEL_PATH;
if (!modelPath) {
  modelPath = join(await mkdtemp(join(tmpdir(), "tiny-model-")), "tiny-q8_0.gguf");
  await writeTinyGguf(modelPath, { quantization: "q8_0" });
  console.log(`no MODEL_PATH: wrote a tiny random-weight model to ${modelPath}`);
}

// Nothing is read or loaded until the first request; weights are unloaded after a minute idle.
const model = new LazyLlamaCppModel({
  name: "local",
  modelPath,
  ...(process.env.QUANTIZATION ? { quantization: process.env.QUANTIZATION } : {}),
  ...(process.env.THREADS ? { threads: Number(process.env.THREADS) } : {}),
  idleUnloadMs: 60_000,
});
const registry = new ModelRegistry();
registry.registerModel(model);

try {
  const result = await registry.generate({
    messages: [{ role: "user", content: "What is a qubit?" }],
    maxTokens: 32,
    temperature: 0.7,
    seed: 1,
  });
  console.log(`${model.file.path} (${model.quantization.type}, ${model.threads} thread(s))`);
  console.log(`${result.model}: ${result.text}`);
  console.log(
    `tokens: ${result.usage.inputTokens} in, ${result.usage.outputTokens} out; ${model.metrics.snapshot().tokensPerSecond?.toFixed(0)} tokens/s`,
  );

  process.stdout.write("stream: ");
  for await (const piece of model.streamResponse("Write a haiku about the sea.", { maxTokens: 32 }))
    process.stdout.write(piece);
  process.stdout.write("\n");

  // JSON of a schema, enforced by a grammar: valid even from a tiny random model.
  const json = await model.generate({
    messages: [{ role: "user", content: "Is the sea blue? Answer yes or no." }],
    responseFormat: {
      type: "json",
      schema: { type: "object", properties: { answer: { enum: ["yes", "no"] } }, required: ["answer"] },
    },
    maxTokens: 32,
  });
  console.log("json:", JSON.parse(json.text));
} catch (error) {
  // Typed errors: ConfigError (no such file, quantization not found), GgufFileError, InsufficientMemoryError…
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await registry.cleanup();
}
