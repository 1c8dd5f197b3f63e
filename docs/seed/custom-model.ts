// Seed: "Creating Custom Model Integrations" — inherit from Model and implement the required methods.
// In TypeScript the subclass implements the protected do* hooks; the base class provides the seed's
// public methods (generateResponse, streamResponse, healthCheck, cleanup) and updates the metrics
// (the seed's `self.metrics.update_metrics(...)`) for every call.
import { CustomAPIClient } from "@acme/orchestrator-provider-custom";
import {
  type GenerateRequest,
  Model,
  ModelCapabilities,
  type ModelOutput,
  Secret,
  type StreamChunk,
  contentText,
} from "@orchestrator-ts/core";

export class CustomModel extends Model {
  readonly endpoint: string;
  readonly #apiKey: Secret;
  #client: CustomAPIClient | undefined;

  constructor(name: string, apiKey: string, endpoint: string) {
    const capabilities = new ModelCapabilities({
      textGeneration: true,
      codeGeneration: true,
      functionCalling: true,
      maxTokens: 8192,
      supportsStreaming: true,
    });
    super({ name, provider: "custom", capabilities });
    this.#apiKey = new Secret(apiKey);
    this.endpoint = endpoint;
  }

  /** Initialize the model connection (once, on first use). */
  protected override async doInitialize(): Promise<void> {
    this.#client = new CustomAPIClient({ apiKey: this.#apiKey, endpoint: this.endpoint });
    await this.#client.connect();
  }

  /** Generate a response from the model. */
  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    const prompt = contentText(request.messages.at(-1)?.content ?? "");
    const response = await this.#connected().generate(
      { prompt, ...(request.maxTokens ? { maxTokens: request.maxTokens } : {}) },
      request.signal,
    );
    return {
      text: response.text,
      usage: { inputTokens: response.inputTokens, outputTokens: response.outputTokens },
      costUsd: response.cost,
    };
  }

  /** Stream response from the model. */
  protected override async *doStream(request: GenerateRequest): AsyncIterable<StreamChunk> {
    const prompt = contentText(request.messages.at(-1)?.content ?? "");
    for await (const chunk of this.#connected().stream({ prompt }, request.signal)) {
      if (chunk.text) yield { type: "text", text: chunk.text };
      if (chunk.done)
        yield {
          type: "finish",
          usage: { inputTokens: chunk.done.inputTokens, outputTokens: chunk.done.outputTokens },
          costUsd: chunk.done.cost,
        };
    }
  }

  /** Check if the model is healthy and available (a failure counts as unhealthy). */
  protected override async doHealthCheck(): Promise<boolean> {
    return this.#connected().ping();
  }

  /** Clean up resources. */
  protected override async doCleanup(): Promise<void> {
    await this.#client?.disconnect();
    this.#client = undefined;
  }

  #connected(): CustomAPIClient {
    if (!this.#client) throw new Error("not initialized");
    return this.#client;
  }
}
