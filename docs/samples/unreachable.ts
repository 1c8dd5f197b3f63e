// docs/troubleshooting.md, "The host is unreachable": servers that were closed, so their ports
// refuse connections. The ports differ per run; the guide shows the usual ones.
import { OllamaModel } from "@orchestrator-ts/provider-ollama";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { startOllamaServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { errorLine, rootCause } from "./error-line";

const openai = await startOpenAIServer();
await openai.close();
const ollama = await startOllamaServer();
await ollama.close();

const error = await new OpenAIModel({ name: "gpt-4o-mini", apiKey: "sk-test-0123456789", baseURL: openai.baseURL })
  .generateResponse("hi")
  .catch((e: unknown) => e);
console.log(errorLine(error).replaceAll(`:${openai.port}`, ":8000"));
console.log(`  caused by: ${(rootCause(error) as Error).message}`.replaceAll(`:${openai.port}`, ":8000"));
const local = new OllamaModel({ name: "llama", modelPath: "llama3.2:1b", host: ollama.url });
console.log(
  await local.generateResponse("hi").then(
    () => "answered",
    (e: unknown) => errorLine(e).replaceAll(`:${ollama.port}`, ":11434"),
  ),
);
