// A model served by Ollama through @orchestrator-ts/provider-ollama: pulled when missing (with
// progress), capabilities read from the server, an answer and a stream. Run it for real:
//   ollama serve &
//   npm start -w examples/ollama
// OLLAMA_HOST points it at another server (default 127.0.0.1:11434); OLLAMA_MODEL picks the model.
import { OllamaModel } from "@orchestrator-ts/provider-ollama";
import { ModelRegistry } from "@orchestrator-ts/registry";

const tag = process.env.OLLAMA_MODEL ?? "llama3.2:1b";
const model = new OllamaModel({
  name: "local",
  modelPath: tag,
  onPullProgress: ({ status, percent }) =>
    console.log(`pull: ${status}${percent === undefined ? "" : ` ${percent.toFixed(0)}%`}`),
});
const registry = new ModelRegistry();
registry.registerModel(model);

try {
  await model.initialize(); // pulls the model when the server lacks it, then reads /api/show
  console.log(
    `${tag}: context window ${model.capabilities.contextWindow}, tools: ${model.capabilities.functionCalling}`,
  );
  const result = await registry.generate({ messages: [{ role: "user", content: "What is a qubit?" }], maxTokens: 60 });
  console.log(`${result.model}: ${result.text}`);
  console.log(`tokens: ${result.usage.inputTokens} in, ${result.usage.outputTokens} out`);

  process.stdout.write("stream: ");
  for await (const piece of model.streamResponse("Write a haiku about the sea.", { maxTokens: 60 }))
    process.stdout.write(piece);
  process.stdout.write("\n");
} catch (error) {
  // Typed errors say what went wrong, e.g. "Ollama is not reachable at http://…: is `ollama serve` running?"
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await registry.cleanup();
}
