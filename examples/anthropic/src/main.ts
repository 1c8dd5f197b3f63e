// Claude through @orchestrator-ts/provider-anthropic: an answer with a system prompt, a stream,
// and a tool call. Run it for real with your key:
//   ANTHROPIC_API_KEY=sk-ant-... npm start -w examples/anthropic
// ANTHROPIC_MODEL picks the model (default claude-3-5-haiku); ANTHROPIC_BASE_URL a proxy.
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { ModelRegistry } from "@orchestrator-ts/registry";

// The key is read from ANTHROPIC_API_KEY at the first call: constructing never throws.
const claude = new AnthropicModel({ name: process.env.ANTHROPIC_MODEL ?? "claude-3-5-haiku" });
const registry = new ModelRegistry();
registry.registerModel(claude);

try {
  const result = await registry.generate({
    messages: [
      { role: "system", content: "Answer in one short sentence." },
      { role: "user", content: "What is a qubit?" },
    ],
    maxTokens: 60,
  });
  console.log(`${result.model}: ${result.text}`);
  console.log(
    `tokens: ${result.usage.inputTokens} in, ${result.usage.outputTokens} out; cost: $${result.costUsd?.toFixed(6)}`,
  );

  process.stdout.write("stream: ");
  for await (const piece of claude.streamResponse("Write a haiku about the sea.", { maxTokens: 60 }))
    process.stdout.write(piece);
  process.stdout.write("\n");

  const withTool = await claude.generate({
    messages: [{ role: "user", content: "What is the weather in Paris?" }],
    tools: [
      {
        name: "get_weather",
        description: "Current weather of a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    ],
    maxTokens: 100,
  });
  for (const call of withTool.toolCalls) console.log(`tool call: ${call.name}(${JSON.stringify(call.arguments)})`);
  console.log(`finish: ${withTool.finishReason.unified}`);
} catch (error) {
  // Typed errors say what went wrong: AuthenticationError (names ANTHROPIC_API_KEY when unset), RateLimitError…
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await registry.cleanup();
}
