// Both bridges between the orchestrator and the Vercel AI SDK. AI SDK provider models inside the
// orchestrator: wrapped in code with AISDKModel, and named in YAML with `provider: ai-sdk` (any AI
// SDK provider package works the same way: @ai-sdk/google, @ai-sdk/mistral…). And the orchestrator
// as an AI SDK provider: generateText / streamText over createOrchestratorProvider. @ai-sdk/openai
// is used here so that the example runs against a loopback server.
import { createOpenAI } from "@ai-sdk/openai";
import { AISDKModel, aiSdkProvider, createOrchestratorProvider } from "@orchestrator-ts/ai-sdk";
import { parseModelConfig } from "@orchestrator-ts/config";
import { RateLimitError } from "@orchestrator-ts/core";
import { ModelRegistry, registryFromConfig } from "@orchestrator-ts/registry";
import { generateText, streamText } from "ai";
import { z } from "zod";

export interface ExampleOptions {
  /** An OpenAI-compatible endpoint: `https://api.openai.com/v1`, or a loopback server. */
  baseURL: string;
  apiKey: string;
  /** Where the example writes what it does (default: stdout). */
  log?: (line: string) => void;
}

export interface ExampleResult {
  generated: string;
  streamed: string;
  toolCall: { name: string; arguments: unknown } | undefined;
  fromYaml: string;
  costUsd: number | undefined;
  /** generateText through the orchestrator provider, and the model the registry chose. */
  viaProvider: { text: string; model: string | undefined; feedbackRecorded: boolean };
}

export async function runExample(options: ExampleOptions): Promise<ExampleResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const openai = createOpenAI({ apiKey: options.apiKey, baseURL: options.baseURL });

  // 1. In code: the AI SDK model, wrapped. Prices are declared: the AI SDK does not know them.
  const registry = new ModelRegistry();
  registry.registerModel(
    new AISDKModel({
      name: "gpt-4o-mini",
      model: openai.chat("gpt-4o-mini"),
      capabilities: {
        textGeneration: true,
        functionCalling: true,
        maxTokens: 128_000,
        inputCostPerToken: 0.15e-6,
        outputCostPerToken: 0.6e-6,
      },
    }),
  );

  const result = await registry.generate({
    messages: [{ role: "user", content: "Explain quantum computing" }],
    maxTokens: 100,
  });
  log(
    `generate [${result.model} via ${result.provider}]: ${result.text} (${result.usage.inputTokens}+${result.usage.outputTokens} tokens, $${result.costUsd?.toFixed(8)})`,
  );

  let streamed = "";
  for await (const chunk of registry.stream({ messages: [{ role: "user", content: "Write a haiku about caches" }] })) {
    if (chunk.type === "text") streamed += chunk.text;
  }
  log(`stream: ${streamed}`);

  const tools = [{ name: "weather", description: "The weather in a city", parameters: z.object({ city: z.string() }) }];
  const withTool = await registry.generate({
    messages: [{ role: "user", content: "What is the weather in Oslo?" }],
    tools,
  });
  const call = withTool.toolCalls[0];
  log(`tool call: ${call ? `${call.name}(${JSON.stringify(call.arguments)})` : "none"}`);

  // 2. In YAML: `provider: ai-sdk` imports the package named in config and calls its create… factory.
  const yaml = `models:
  - name: gpt-from-yaml
    provider: ai-sdk
    config:
      package: "@ai-sdk/openai"
      model: gpt-4o-mini
      method: chat
      api_key: \${EXAMPLE_API_KEY}
      base_url: \${EXAMPLE_BASE_URL}
    capabilities:
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
`;
  const config = parseModelConfig(yaml, {
    env: { EXAMPLE_API_KEY: options.apiKey, EXAMPLE_BASE_URL: options.baseURL },
    providers: { "ai-sdk": aiSdkProvider },
  });
  const fromConfig = await registryFromConfig(config, { providers: { "ai-sdk": aiSdkProvider } });
  const answer = await fromConfig.generate({ messages: [{ role: "user", content: "Hello from YAML" }] });
  log(`yaml [${answer.model}]: ${answer.text}`);

  // 3. The other direction: the registry as an AI SDK provider. "auto" lets its selector choose; a
  // model's name pins that model. providerMetadata.orchestrator says who answered and which
  // selection to rate.
  const orchestrator = createOrchestratorProvider({ registry });
  const viaSdk = await generateText({ model: orchestrator("auto"), prompt: "Explain caching", maxRetries: 0 });
  const meta = viaSdk.providerMetadata?.orchestrator as { model?: string; selectionId?: string } | undefined;
  const feedbackRecorded = meta?.selectionId !== undefined && registry.recordFeedback(meta.selectionId, { quality: 1 });
  log(`ai sdk generateText [${meta?.model}]: ${viaSdk.text} (feedback recorded: ${feedbackRecorded})`);
  let sdkStreamed = "";
  for await (const delta of streamText({
    model: orchestrator("gpt-4o-mini", { task: "poetry" }),
    prompt: "Write a limerick",
    maxRetries: 0,
  }).textStream)
    sdkStreamed += delta;
  log(`ai sdk streamText: ${sdkStreamed}`);

  // Failures arrive in the orchestrator's typed family, whatever AI SDK package raised them.
  try {
    await new AISDKModel({
      name: "bad-key",
      model: createOpenAI({ apiKey: "sk-wrong-key-0000000000", baseURL: options.baseURL }).chat("gpt-4o-mini"),
    }).generate({
      messages: [{ role: "user", content: "hi" }],
    });
  } catch (error) {
    log(`wrong key: ${(error as { code?: string }).code}${RateLimitError.isInstance(error) ? " (rate limited)" : ""}`);
  }

  return {
    generated: result.text,
    streamed,
    toolCall: call ? { name: call.name, arguments: call.arguments } : undefined,
    fromYaml: answer.text,
    costUsd: result.costUsd,
    viaProvider: { text: viaSdk.text, model: meta?.model, feedbackRecorded },
  };
}
