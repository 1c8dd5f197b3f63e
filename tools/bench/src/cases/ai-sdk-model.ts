// AISDKModel wrapping @ai-sdk/openai against the AI SDK calling the same model itself, all against
// one loopback OpenAI-compatible server in a child process. The goal comparisons put the AI SDK's
// own calls (generateText / streamText, AI SDK 6, maxRetries 0) beside AISDKModel and the registry
// calling the same model, in interleaved rounds. Then, for reference, what the wrapper adds over
// the bare call it makes: the model's doGenerate / doStream called directly (the whole stream read
// to its end), building its prompt per call as a caller would, and the same with a fresh
// abortSignal, which AISDKModel passes every call (the deadline and the caller's abort must reach
// fetch) and the AI SDK's fetch pays for. Those run in rounds of their own: interleaved with
// generateText, its garbage is collected on the next contender's time (measured: AISDKModel at
// 1.00× of the direct call with a signal alone, 1.07× with generateText in the same rounds).
import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModelV3Prompt, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { AISDKModel } from "@orchestrator-ts/ai-sdk";
import { ModelRegistry } from "orchestrator-ts";
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
    // What an application runs: the model registered, called through the registry (selection, limits, records).
    const registry = new ModelRegistry();
    registry.registerModel(
      new AISDKModel({
        name: MODEL,
        model: createOpenAI({ apiKey: KEY, baseURL }).chat(MODEL),
        capabilities: { inputCostPerToken: 0.15e-6, outputCostPerToken: 0.6e-6 },
      }),
    );
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
          "What the wrapper adds over the bare call it makes: one non-streaming chat completion per call through @ai-sdk/openai 3.x against the same loopback server (child process); 40 interleaved rounds. For reference (the goal is against the AI SDK calling the model, below).",
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
          "What the wrapper adds over the bare call it makes: a whole 40-chunk SSE stream per call through @ai-sdk/openai 3.x (wall time and CPU). For reference (the goal is against the AI SDK calling the model, below).",
      },
    );
    // The goal: the AI SDK calling the model (generateText / streamText) against the orchestrator calling the
    // same model through AISDKModel, in the same rounds (generateText's garbage is collected on whichever
    // contender runs next, the wrapper included; the reverse is small, we leave little). The bare doGenerate
    // in the same table is the guard against a slower wrapper: the goal's margin is wide.
    const sdkPlain = await compare(
      "ai-sdk-model-generate-text",
      [
        {
          name: "AI SDK generateText (maxRetries 0)",
          run: () => generateText({ model: direct, messages, maxRetries: 0 }),
        },
        { name: "AISDKModel.generate (same model)", run: () => wrapped.generate({ messages }) },
        { name: "registry.generate → AISDKModel (same model)", run: () => registry.generate({ messages }) },
        directGenerate,
      ],
      {
        iterations: Math.round(options.iterations / 2),
        rounds: 20,
        warmup: 500,
        notes:
          "Goal: AISDKModel within 1.05× of the AI SDK calling the same @ai-sdk/openai model (generateText, maxRetries 0); the bare doGenerate for scale. Same server, interleaved rounds.",
      },
    );
    const sdkStream = await compare(
      "ai-sdk-model-stream-text",
      [
        {
          name: "AI SDK streamText textStream (maxRetries 0)",
          run: async () => {
            for await (const _ of streamText({ model: direct, messages: streamMessages, maxRetries: 0 }).textStream);
          },
        },
        {
          name: "AISDKModel.stream (same model)",
          run: async () => {
            for await (const _ of wrapped.stream({ messages: streamMessages }));
          },
        },
        {
          name: "registry.stream → AISDKModel (same model)",
          run: async () => {
            for await (const _ of registry.stream({ messages: streamMessages }));
          },
        },
        directStream,
      ],
      {
        iterations: Math.round(options.streamIterations / 2),
        rounds: 20,
        warmup: 150,
        notes:
          "Goal: AISDKModel within 1.05× of the AI SDK streaming the same @ai-sdk/openai model (streamText's textStream read to the end, maxRetries 0); the bare doStream for scale. Same server, interleaved rounds.",
      },
    );
    await registry.cleanup();
    return [sdkPlain, sdkStream, plain, streamed];
  } finally {
    await server.stop();
  }
}
