// AISDKModel wrapping @ai-sdk/openai against the AI SDK calling the same model itself, all against
// one loopback OpenAI-compatible server in a child process. Like with like: AISDKModel calls the
// model's doGenerate / doStream, so the baseline is doGenerate / doStream called directly (the
// whole stream read to its end), building its prompt per call as a caller would. AISDKModel passes
// every call an abort signal (the deadline and the caller's abort must reach fetch), which the AI
// SDK's fetch pays for: the same direct call with a fresh abortSignal is shown as the second
// baseline. generateText / streamText (AI SDK 6, maxRetries 0), the AI SDK's own path, are shown too,
// in a comparison of their own: interleaved with the others they leave garbage that the next
// contender's collections pay for (measured: AISDKModel at 1.00× of the direct call with a signal
// alone, 1.07× with generateText in the same rounds).
import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModelV3Prompt, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { AISDKModel } from "@orchestrator-ts/ai-sdk";
import { generateText, streamText } from "ai";
import { type CaseResult, compare } from "../harness";
import { startServerProcess } from "../server-process";

const KEY = "sk-bench-0000000000000000";
const MODEL = "gpt-4o-mini";
const PROMPT = "Summarise the benefits of caching in two sentences.";

async function drain(stream: ReadableStream<LanguageModelV3StreamPart>): Promise<void> {
  const reader = stream.getReader();
  for (;;) if ((await reader.read()).done) return;
}

export async function aiSdkModelCase(options: { iterations: number; streamIterations: number }): Promise<CaseResult[]> {
  // A 40-word answer streams as 40 chunks.
  const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
  const server = await startServerProcess("startOpenAIServer", { apiKey: KEY });
  try {
    const baseURL = `${server.url}/v1`;
    const direct = createOpenAI({ apiKey: KEY, baseURL }).chat(MODEL);
    const wrapped = new AISDKModel({
      name: MODEL,
      model: createOpenAI({ apiKey: KEY, baseURL }).chat(MODEL),
      capabilities: { inputCostPerToken: 0.15e-6, outputCostPerToken: 0.6e-6 },
    });
    const messages = [{ role: "user" as const, content: PROMPT }];
    const prompt = (text: string): LanguageModelV3Prompt => [{ role: "user", content: [{ type: "text", text }] }];
    const streamMessages = [{ role: "user" as const, content: answer }];
    // The baselines, in the goal comparisons and again beside generateText / streamText.
    const directGenerate = {
      name: "AI SDK model.doGenerate (direct)",
      run: () => direct.doGenerate({ prompt: prompt(PROMPT) }),
    };
    const directStream = {
      name: "AI SDK model.doStream (direct, read to the end)",
      run: async () => drain((await direct.doStream({ prompt: prompt(answer) })).stream),
    };

    const plain = await compare(
      "ai-sdk-model-generate",
      [
        directGenerate,
        {
          name: "AI SDK model.doGenerate (direct, with an abortSignal)",
          run: () => direct.doGenerate({ prompt: prompt(PROMPT), abortSignal: new AbortController().signal }),
        },
        { name: "AISDKModel.generate (same doGenerate)", run: () => wrapped.generate({ messages }) },
      ],
      {
        iterations: options.iterations,
        rounds: 40,
        // The wrapper's own code warms up only on its own calls (the SDK's is shared by every contender).
        warmup: 1_000,
        notes:
          "One non-streaming chat completion per call through @ai-sdk/openai 3.x against the same loopback server (child process); 40 interleaved rounds. Goal: AISDKModel within 1.05× of doGenerate called directly.",
      },
    );

    const streamed = await compare(
      "ai-sdk-model-stream",
      [
        directStream,
        {
          name: "AI SDK model.doStream (direct, with an abortSignal)",
          run: async () =>
            drain(
              (await direct.doStream({ prompt: prompt(answer), abortSignal: new AbortController().signal })).stream,
            ),
        },
        {
          name: "AISDKModel.stream (same doStream)",
          run: async () => {
            for await (const _ of wrapped.stream({ messages: streamMessages }));
          },
        },
      ],
      {
        iterations: options.streamIterations,
        rounds: 30,
        warmup: 300,
        notes:
          "A whole 40-chunk SSE stream per call through @ai-sdk/openai 3.x (wall time and CPU). Goal: AISDKModel within 1.05× of doStream read directly.",
      },
    );
    // The AI SDK's own path, for scale, against the same direct calls.
    const sdkPlain = await compare(
      "ai-sdk-model-generate-text",
      [
        directGenerate,
        {
          name: "AI SDK generateText (maxRetries 0)",
          run: () => generateText({ model: direct, messages, maxRetries: 0 }),
        },
      ],
      {
        iterations: Math.round(options.iterations / 2),
        rounds: 20,
        warmup: 500,
        notes: "For scale: what generateText adds over the model's doGenerate (same server, its own rounds).",
      },
    );
    const sdkStream = await compare(
      "ai-sdk-model-stream-text",
      [
        directStream,
        {
          name: "AI SDK streamText textStream (maxRetries 0)",
          run: async () => {
            for await (const _ of streamText({ model: direct, messages: streamMessages, maxRetries: 0 }).textStream);
          },
        },
      ],
      {
        iterations: Math.round(options.streamIterations / 2),
        rounds: 20,
        warmup: 150,
        notes: "For scale: what streamText adds over the model's doStream (same server, its own rounds).",
      },
    );
    return [plain, streamed, sdkPlain, sdkStream];
  } finally {
    await server.stop();
  }
}
