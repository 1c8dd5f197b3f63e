// `npm start`: runs the example against OpenAI when OPENAI_API_KEY is set, else against a loopback
// OpenAI-compatible server started here (scripted to call the weather tool when offered tools).
import { startOpenAIServer } from "@orchestrator-ts/testing";
import { runExample } from "./app";

async function main(): Promise<void> {
  const key = process.env.OPENAI_API_KEY;
  if (key) {
    await runExample({ apiKey: key, baseURL: process.env.OPENAI_BASE_URL ?? "https://api.openai.com/v1" });
    return;
  }
  const apiKey = "sk-example-loopback-0123456789";
  const server = await startOpenAIServer({
    apiKey,
    reply: (request) =>
      request.tools.length > 0
        ? { toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }] }
        : { text: `Echo: ${request.lastUserText}` },
  });
  try {
    process.stdout.write(`(no OPENAI_API_KEY: using a loopback server at ${server.baseURL})\n`);
    await runExample({ apiKey, baseURL: server.baseURL });
  } finally {
    await server.close();
  }
}

// A function, not top-level await: the script builds for CommonJS too.
main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
