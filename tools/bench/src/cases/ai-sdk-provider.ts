// The orchestrator as an AI SDK provider: generateText / streamText over orchestrator("auto")
// (a registry holding OpenAIModel, the `openai` SDK) against the same calls over @ai-sdk/openai
// directly, all against one loopback OpenAI-compatible server in a child process. Both sides pay
// the AI SDK's own generateText / streamText; what differs is the model behind them: the
// registry's selection, bookkeeping and OpenAIModel, or @ai-sdk/openai's doGenerate / doStream.
import { createOpenAI } from "@ai-sdk/openai";
import { createOrchestratorProvider } from "@orchestrator-ts/ai-sdk";
import { generateText, streamText } from "ai";
import { ModelRegistry, OpenAIModel } from "orchestrator-ts";
import { type CaseResult, compare } from "../harness";
import { startServerProcess } from "../server-process";

const KEY = "sk-bench-0000000000000000";
const MODEL = "gpt-4o-mini";
const PROMPT = "Summarise the benefits of caching in two sentences.";

export async function aiSdkProviderCase(options: {
  iterations: number;
  streamIterations: number;
}): Promise<CaseResult[]> {
  // A 40-word answer streams as 40 chunks.
  const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
  const server = await startServerProcess("startOpenAIServer", { apiKey: KEY });
  const registry = new ModelRegistry();
  try {
    const baseURL = `${server.url}/v1`;
    const direct = createOpenAI({ apiKey: KEY, baseURL }).chat(MODEL);
    registry.registerModel(
      new OpenAIModel({
        name: MODEL,
        apiKey: KEY,
        baseURL,
        capabilities: { inputCostPerToken: 0.15e-6, outputCostPerToken: 0.6e-6 },
      }),
    );
    const orchestrator = createOrchestratorProvider({ registry });
    const auto = orchestrator("auto");

    const plain = await compare(
      "ai-sdk-provider-generate",
      [
        {
          name: "generateText, @ai-sdk/openai (maxRetries 0)",
          run: () => generateText({ model: direct, prompt: PROMPT, maxRetries: 0 }),
        },
        {
          name: 'generateText, orchestrator("auto") (maxRetries 0)',
          run: () => generateText({ model: auto, prompt: PROMPT, maxRetries: 0 }),
        },
        // Where the difference is: the two models' doGenerate alone, without generateText around them.
        {
          name: "@ai-sdk/openai doGenerate alone",
          run: () => direct.doGenerate({ prompt: [{ role: "user", content: [{ type: "text", text: PROMPT }] }] }),
        },
        {
          name: 'orchestrator("auto").doGenerate alone',
          run: () => auto.doGenerate({ prompt: [{ role: "user", content: [{ type: "text", text: PROMPT }] }] }),
        },
      ],
      {
        iterations: options.iterations,
        rounds: 40,
        notes:
          'One non-streaming chat completion per call against the same loopback server (child process); 40 interleaved rounds. Goal: orchestrator("auto") within 1.05× of @ai-sdk/openai.',
      },
    );

    const streamed = await compare(
      "ai-sdk-provider-stream",
      [
        {
          name: "streamText textStream, @ai-sdk/openai (maxRetries 0)",
          run: async () => {
            for await (const _ of streamText({ model: direct, prompt: answer, maxRetries: 0 }).textStream);
          },
        },
        {
          name: 'streamText textStream, orchestrator("auto") (maxRetries 0)',
          run: async () => {
            for await (const _ of streamText({ model: auto, prompt: answer, maxRetries: 0 }).textStream);
          },
        },
      ],
      {
        iterations: options.streamIterations,
        rounds: 30,
        notes:
          'A whole 40-chunk SSE stream per call, read to its end (wall time and CPU). Goal: orchestrator("auto") within 1.05× of @ai-sdk/openai.',
      },
    );
    return [plain, streamed];
  } finally {
    await registry.cleanup();
    await server.stop();
  }
}
