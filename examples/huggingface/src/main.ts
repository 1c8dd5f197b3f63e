// Hugging Face through @orchestrator-ts/provider-huggingface: Inference Providers (the HF router)
// with your token, or your own TGI server / Inference Endpoint. Run it for real:
//   HF_TOKEN=hf_... npm start -w examples/huggingface                       (Inference Providers)
//   HF_ENDPOINT_URL=http://localhost:8080 npm start -w examples/huggingface  (your endpoint)
// HF_MODEL picks the Hub model for Inference Providers.
import { HuggingFaceModel } from "@orchestrator-ts/provider-huggingface";
import { ModelRegistry } from "@orchestrator-ts/registry";

const endpointUrl = process.env.HF_ENDPOINT_URL;
// The token is read from HF_TOKEN at the first call: constructing never throws.
const model = endpointUrl
  ? new HuggingFaceModel({ name: "my-endpoint", endpointUrl })
  : new HuggingFaceModel({ name: "llama-3.1-8b", model: process.env.HF_MODEL ?? "meta-llama/Llama-3.1-8B-Instruct" });
const registry = new ModelRegistry();
registry.registerModel(model);

try {
  // A free check first: the endpoint's /health, or the Hub's list of providers serving the model.
  console.log(`healthy: ${await model.healthCheck()}`);
  const result = await registry.generate({ messages: [{ role: "user", content: "What is a qubit?" }], maxTokens: 60 });
  console.log(`${result.model}: ${result.text}`);
  console.log(`tokens: ${result.usage.inputTokens} in, ${result.usage.outputTokens} out; price: ${model.priceSource}`);

  process.stdout.write("stream: ");
  for await (const piece of model.streamResponse("Write a haiku about the sea.", { maxTokens: 60 }))
    process.stdout.write(piece);
  process.stdout.write("\n");
} catch (error) {
  // Typed errors say what went wrong: AuthenticationError (no HF_TOKEN), RateLimitError, ProviderError (503 loading)…
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await registry.cleanup();
}
