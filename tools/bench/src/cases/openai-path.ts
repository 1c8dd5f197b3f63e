// The in-process path against the raw SDK and the two libraries engineers compare us with, all
// against one loopback OpenAI-compatible server running in a child process.
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { generateText, streamText } from "ai";
import OpenAI from "openai";
import { type CaseResult, compare } from "../harness";
import { startServerProcess } from "../server-process";

const KEY = "sk-bench-0000000000000000";
const MODEL = "gpt-4o-mini";
const PROMPT = "Summarise the benefits of caching in two sentences.";

export async function openaiPath(options: { iterations: number; streamIterations: number }): Promise<CaseResult[]> {
  // A 40-word answer streams as 40 chunks.
  const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
  const server = await startServerProcess("startOpenAIServer", { apiKey: KEY });
  try {
    const baseURL = `${server.url}/v1`;
    const raw = new OpenAI({ apiKey: KEY, baseURL, maxRetries: 0 });
    const model = new OpenAIModel({ name: MODEL, apiKey: KEY, baseURL });
    const registry = new ModelRegistry();
    registry.registerModel(new OpenAIModel({ name: MODEL, apiKey: KEY, baseURL }));
    const vercel = createOpenAI({ apiKey: KEY, baseURL }).chat(MODEL);
    const langchain = new ChatOpenAI({ model: MODEL, apiKey: KEY, configuration: { baseURL }, maxRetries: 0 });
    const messages = [{ role: "user" as const, content: PROMPT }];
    // The server echoes the prompt; make the answer 40 words by prompting with them.
    const streamMessages = [{ role: "user" as const, content: answer }];

    const plain = await compare(
      "openai-generate",
      [
        { name: "raw openai SDK", run: () => raw.chat.completions.create({ model: MODEL, messages }) },
        { name: "OpenAIModel.generate", run: () => model.generate({ messages }) },
        { name: "ModelRegistry.generate (select + call + record)", run: () => registry.generate({ messages }) },
        { name: "Vercel AI SDK generateText", run: () => generateText({ model: vercel, messages }) },
        { name: "LangChain.js ChatOpenAI.invoke", run: () => langchain.invoke(PROMPT) },
      ],
      {
        iterations: options.iterations,
        rounds: 40,
        notes:
          "One non-streaming chat completion per call against the same loopback server (child process); 40 interleaved rounds.",
      },
    );

    // Time to the first chunk that carries text, counting from before the request is made. Each
    // contender is judged by what its user sees: the raw SDK's first event is a role-only delta
    // with empty content (so is LangChain's first chunk); ours and Vercel's textStream yield text only.
    const ttft = async <T>(
      start: () => AsyncIterable<T> | Promise<AsyncIterable<T>>,
      hasText: (chunk: T) => boolean,
    ) => {
      const t0 = performance.now();
      let first = 0;
      for await (const chunk of await start()) if (first === 0 && hasText(chunk)) first = performance.now() - t0;
      return first;
    };
    type RawChunk = { choices: { delta?: { content?: string | null } }[] };
    const rawText = (c: RawChunk) => (c.choices[0]?.delta?.content ?? "").length > 0;
    const ourText = (c: { type: string }) => c.type === "text";
    const stringText = (t: string) => t.length > 0;
    const langchainText = (c: { content: unknown }) =>
      typeof c.content === "string" ? c.content.length > 0 : Array.isArray(c.content) && c.content.length > 0;
    const streamed = await compare(
      "openai-stream",
      [
        {
          name: "raw openai SDK",
          run: () =>
            ttft(
              () =>
                raw.chat.completions.create({
                  model: MODEL,
                  messages: streamMessages,
                  stream: true,
                  stream_options: { include_usage: true },
                }),
              rawText,
            ),
        },
        { name: "OpenAIModel.stream", run: () => ttft(() => model.stream({ messages: streamMessages }), ourText) },
        { name: "ModelRegistry.stream", run: () => ttft(() => registry.stream({ messages: streamMessages }), ourText) },
        {
          name: "Vercel AI SDK streamText",
          run: () => ttft(() => streamText({ model: vercel, messages: streamMessages }).textStream, stringText),
        },
        { name: "LangChain.js ChatOpenAI.stream", run: () => ttft(() => langchain.stream(answer), langchainText) },
      ],
      {
        iterations: options.streamIterations,
        rounds: 30,
        secondaryLabel: "time to first text",
        notes:
          "A whole 40-chunk SSE stream per call (wall time and CPU), and the time to its first chunk that carries text (the raw SDK's and LangChain's first chunk is a role-only delta).",
      },
    );
    return [plain, streamed];
  } finally {
    await server.stop();
  }
}
