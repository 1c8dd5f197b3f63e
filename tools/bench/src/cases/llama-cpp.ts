// Tokens per second through LlamaCppModel against raw node-llama-cpp on the same file, one run.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaCppModel } from "@orchestrator/provider-llama-cpp";
import { writeTinyGguf } from "@orchestrator/testing";
import { LlamaChat, getLlama } from "node-llama-cpp";
import { type CaseResult, compare } from "../harness";

const TOKENS = 256;

export async function llamaCppCase(options: { iterations: number }): Promise<CaseResult> {
  const dir = mkdtempSync(join(tmpdir(), "bench-llama-"));
  const file = join(dir, "tiny-q8_0.gguf");
  await writeTinyGguf(file, { quantization: "q8_0", seed: 3, layers: 4, embeddingLength: 128, contextLength: 1024 });

  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 1 });
  const rawModel = await llama.loadModel({ modelPath: file });
  const rawContext = await rawModel.createContext({ contextSize: 512, threads: 1 });
  const rawChat = new LlamaChat({ contextSequence: rawContext.getSequence() });
  const ours = new LlamaCppModel({ name: "tiny", modelPath: file, contextSize: 512, threads: 1 });
  await ours.initialize();

  let seed = 0;
  const prompt = "Explain quantum computing";
  const result = await compare(
    "llama-cpp-throughput",
    [
      {
        name: "raw node-llama-cpp LlamaChat",
        run: async () => {
          const history = rawChat.chatWrapper.generateInitialChatHistory();
          history.push({ type: "user", text: prompt }, { type: "model", response: [] });
          await rawChat.generateResponse(history, { maxTokens: TOKENS, temperature: 0.8, seed: ++seed });
        },
      },
      { name: "LlamaCppModel.generate", run: () => ours.generate({ messages: [{ role: "user", content: prompt }], maxTokens: TOKENS, temperature: 0.8, seed: ++seed }) },
    ],
    { warmup: 2, iterations: options.iterations, rounds: 5, notes: `${TOKENS} tokens per call, Q8_0 4-layer tiny model, 1 thread. Throughput = ${TOKENS} / time per call; goal ≥ 0.97× raw.` },
  );
  const [raw, adapter] = result.results;
  result.extra = {
    tokensPerCall: TOKENS,
    rawTokensPerSecond: raw ? (TOKENS * 1e6) / raw.medianUs : undefined,
    adapterTokensPerSecond: adapter ? (TOKENS * 1e6) / adapter.medianUs : undefined,
    throughputRatio: raw && adapter ? raw.medianUs / adapter.medianUs : undefined,
  };
  rawChat.dispose();
  await rawContext.dispose();
  await rawModel.dispose();
  await ours.cleanup();
  return result;
}
