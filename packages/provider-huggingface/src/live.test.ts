import { describe, expect, it } from "vitest";
import { HuggingFaceModel } from "./huggingface-model";

// Opt-in: runs against Inference Providers only when HF_TOKEN is set.
const hasToken = Boolean(process.env.HF_TOKEN);
const reason = hasToken ? "" : " (skipped: HF_TOKEN not set)";

describe("live Hugging Face", () => {
  it.skipIf(!hasToken)(
    `live Hugging Face: Llama-3.1-8B-Instruct generates and streams${reason}`,
    { timeout: 60_000 },
    async () => {
      const model = new HuggingFaceModel({ name: "meta-llama/Llama-3.1-8B-Instruct" });
      try {
        const result = await model.generate({ messages: [{ role: "user", content: "Say hi." }], maxTokens: 5 });
        expect(result.text.length).toBeGreaterThan(0);
        let streamed = "";
        for await (const piece of model.streamResponse("Say hi.", { maxTokens: 5 })) streamed += piece;
        expect(streamed.length).toBeGreaterThan(0);
        expect(await model.healthCheck()).toBe(true);
      } finally {
        await model.cleanup();
      }
    },
  );
});
