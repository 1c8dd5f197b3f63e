// docs/troubleshooting.md, "No API key": the first call of each provider without its key.
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { HuggingFaceModel } from "@orchestrator-ts/provider-huggingface";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { errorLine } from "./error-line";

for (const model of [
  new OpenAIModel({ name: "gpt-4o-mini" }),
  new AnthropicModel({ name: "claude-3-5-haiku" }),
  new HuggingFaceModel({ name: "llama", model: "meta-llama/Llama-3.1-8B-Instruct" }),
]) {
  console.log(await model.generateResponse("hi").then(() => "answered", errorLine));
}
