import { describe, expect, it } from "vitest";
import { OpenAIModel } from "./openai-model";

// Opt-in: runs against the real API only when OPENAI_API_KEY is set (costs a fraction of a cent).
const hasKey = Boolean(process.env.OPENAI_API_KEY);
const reason = hasKey ? "" : " (skipped: OPENAI_API_KEY not set)";

describe("live OpenAI", () => {
  it.skipIf(!hasKey)(`live OpenAI: gpt-4o-mini generates and streams${reason}`, { timeout: 60_000 }, async () => {
    const model = new OpenAIModel({ name: "gpt-4o-mini", baseURL: "https://api.openai.com/v1" });
    try {
      const result = await model.generate({ messages: [{ role: "user", content: "Say hi." }], maxTokens: 5 });
      expect(result.text.length).toBeGreaterThan(0);
      expect(result.usage.inputTokens).toBeGreaterThan(0);
      expect(result.costUsd).toBeGreaterThan(0);
      let streamed = "";
      for await (const piece of model.streamResponse("Say hi.", { maxTokens: 5 })) streamed += piece;
      expect(streamed.length).toBeGreaterThan(0);
      expect(await model.healthCheck()).toBe(true);
    } finally {
      await model.cleanup();
    }
  });
});
