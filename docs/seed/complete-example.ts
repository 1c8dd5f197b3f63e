// Seed: "Example: Complete Custom Model Implementation".
import { CustomAPIClient } from "@acme/orchestrator-provider-custom";
import {
  type GenerateRequest,
  Model,
  ModelCapabilities,
  type ModelOutput,
  Secret,
  contentText,
} from "@orchestrator-ts/core";
import { ModelRegistry } from "@orchestrator-ts/registry";

/** A logger in the seed's spirit; secrets never reach it (errors are redacted by the library). */
const logger = { info: (m: string) => logs.push(`INFO ${m}`), error: (m: string) => logs.push(`ERROR ${m}`) };
export const logs: string[] = [];

export class MyCustomModel extends Model {
  readonly #config: { apiKey: Secret; endpoint: string };
  #client: CustomAPIClient | undefined;

  // The seed's keyword arguments (name=..., config=..., capabilities=...) as one options object, the
  // same shape as examples/custom-model's MyCustomModel.
  constructor({
    name,
    config,
    capabilities,
  }: { name: string; config: { apiKey: string; endpoint: string }; capabilities?: ModelCapabilities }) {
    super({
      name,
      provider: "custom",
      capabilities:
        capabilities ??
        new ModelCapabilities({
          textGeneration: true,
          codeGeneration: true,
          maxTokens: 4096,
          supportsStreaming: true,
          tokensPerSecond: 150,
        }),
    });
    this.#config = { apiKey: new Secret(config.apiKey), endpoint: config.endpoint };
  }

  /** Initialize the model. */
  protected override async doInitialize(): Promise<void> {
    try {
      this.#client = new CustomAPIClient(this.#config);
      await this.#client.connect();
      logger.info(`Initialized model ${this.name}`);
    } catch (e) {
      logger.error(`Failed to initialize model ${this.name}: ${String(e)}`);
      throw e;
    }
  }

  /** Generate response from the model (metrics are updated by the base class for every call). */
  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    try {
      const client = this.#client as CustomAPIClient;
      const response = await client.generate(
        { prompt: contentText(request.messages.at(-1)?.content ?? "") },
        request.signal,
      );
      return {
        text: response.text,
        usage: { inputTokens: response.inputTokens, outputTokens: response.outputTokens },
        costUsd: response.cost,
      };
    } catch (e) {
      logger.error(`Generation failed: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  }

  /** Check model health. */
  protected override async doHealthCheck(): Promise<boolean> {
    return (this.#client as CustomAPIClient).ping();
  }

  /** Clean up resources. */
  protected override async doCleanup(): Promise<void> {
    await this.#client?.disconnect();
  }
}

/** Usage example: `main()` in the seed. */
export async function main(endpoint: string, apiKey: string): Promise<string> {
  // Initialize model registry
  const registry = new ModelRegistry();

  // Create and register custom model
  const customModel = new MyCustomModel({ name: "my-custom-model", config: { apiKey, endpoint } });
  registry.registerModel(customModel);

  // Use the model
  const response = await customModel.generateResponse("Explain quantum computing");
  console.log(`Model response: ${response}`);

  // Cleanup
  await customModel.cleanup();
  return response;
}
