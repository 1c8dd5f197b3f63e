// docs/troubleshooting.md, "No API key": a key the (loopback) OpenAI server refuses.
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { startOpenAIServer } from "@orchestrator-ts/testing";
import { errorLine } from "./error-line";

const server = await startOpenAIServer({ apiKey: "sk-the-right-key-0123456789" });
const model = new OpenAIModel({ name: "gpt-4o-mini", apiKey: "sk-a-wrong-key-0123456789", baseURL: server.baseURL });
console.log(await model.generateResponse("hi").then(() => "answered", errorLine));
await server.close();
