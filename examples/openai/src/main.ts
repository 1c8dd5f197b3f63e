// OpenAI through @orchestrator-ts/provider-openai: one answer through the registry, a stream,
// and JSON of a schema. Run it for real with your key:
//   OPENAI_API_KEY=sk-... npm start -w examples/openai
// OPENAI_BASE_URL points it at any OpenAI-compatible server; OPENAI_MODEL picks the model.
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { z } from "zod";

// The key is read from OPENAI_API_KEY at the first call: constructing never throws.
const model = new OpenAIModel({ name: process.env.OPENAI_MODEL ?? "gpt-4o-mini" });
const registry = new ModelRegistry();
registry.registerModel(model);

try {
  // Through the registry: selection, the call, retries, and the outcome recorded for the bandit.
  const result = await registry.generate({
    messages: [{ role: "user", content: "Say hello in five words." }],
    maxTokens: 20,
  });
  console.log(`${result.model}: ${result.text}`);
  console.log(
    `tokens: ${result.usage.inputTokens} in, ${result.usage.outputTokens} out; cost: $${result.costUsd?.toFixed(6)}`,
  );

  process.stdout.write("stream: ");
  for await (const piece of model.streamResponse("Count from one to five.", { maxTokens: 20 }))
    process.stdout.write(piece);
  process.stdout.write("\n");

  const City = z.object({ city: z.string(), country: z.string() });
  const json = await model.generate({
    messages: [{ role: "user", content: "The capital of Norway, as JSON." }],
    responseFormat: { type: "json", schema: City, name: "city" },
  });
  console.log("json:", City.parse(JSON.parse(json.text)));
} catch (error) {
  // Typed errors say what went wrong: AuthenticationError, RateLimitError, ProviderError…
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await registry.cleanup();
}
