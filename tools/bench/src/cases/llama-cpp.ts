// Tokens per second through LlamaCppModel against raw node-llama-cpp on the same file, one run.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaCppModel } from "@orchestrator-ts/provider-llama-cpp";
import { writeTinyGguf } from "@orchestrator-ts/gguf";
import { LlamaChat, getLlama } from "node-llama-cpp";
import type { CaseResult } from "../harness";

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

  // Same prompt, no system message, same sampling, same file and threads. Tokens are counted with
  // the file's tokenizer on both sides; throughput = tokens / wall time, interleaved rounds.
  const prompt = "Explain quantum computing";
  let seed = 0;
  const contenders = [
    {
      name: "raw node-llama-cpp LlamaChat",
      run: async () => {
        const history: Parameters<typeof rawChat.generateResponse>[0] = [
          { type: "user", text: prompt },
          { type: "model", response: [] },
        ];
        const res = await rawChat.generateResponse(history, { maxTokens: TOKENS, temperature: 0.8, seed: ++seed });
        return rawModel.tokenize(res.response).length;
      },
    },
    {
      name: "LlamaCppModel.generate",
      run: async () => {
        const res = await ours.generate({
          messages: [{ role: "user", content: prompt }],
          maxTokens: TOKENS,
          temperature: 0.8,
          seed: ++seed,
        });
        return rawModel.tokenize(res.text).length;
      },
    },
  ];
  const rounds = Math.max(4, Math.round(options.iterations / 4));
  const totals = contenders.map(() => ({ tokens: 0, ms: 0, calls: 0, cpuUs: 0 }));
  for (const c of contenders) await c.run(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + r) % contenders.length;
      const c = contenders[i] as (typeof contenders)[number];
      const total = totals[i] as (typeof totals)[number];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      total.tokens += await c.run();
      total.ms += performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      total.cpuUs += cpu.user + cpu.system;
      total.calls++;
    }
  }
  const tps = totals.map((t) => (t.tokens * 1000) / t.ms);
  const result: CaseResult = {
    case: "llama-cpp-throughput",
    date: new Date().toISOString(),
    node: process.version,
    notes: `Tokens per second generating up to ${TOKENS} tokens per call (Q8_0, 4 layers, 1 thread, same file, prompt and sampling), ${rounds} interleaved rounds. Goal ≥ 0.97× raw.`,
    results: [],
    extra: {
      rounds,
      contenders: contenders.map((c, i) => ({
        name: c.name,
        tokensPerSecond: tps[i],
        meanTokensPerCall: (totals[i]?.tokens ?? 0) / (totals[i]?.calls ?? 1),
        cpuMsPerCall: (totals[i]?.cpuUs ?? 0) / 1000 / (totals[i]?.calls ?? 1),
      })),
      throughputRatio: (tps[1] ?? 0) / (tps[0] ?? 1),
    },
  };
  rawChat.dispose();
  await rawContext.dispose();
  await rawModel.dispose();
  await ours.cleanup();
  return result;
}
