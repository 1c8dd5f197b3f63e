import {
  AuthenticationError,
  ConfigError,
  type GenerateRequest,
  Model,
  ModelCapabilities,
  type ModelCapabilitiesInput,
  type ModelOutput,
  Secret,
  type StreamChunk,
  contentText,
} from "@orchestrator-ts/core";
import { CustomAPIClient } from "./custom-api-client";

export interface MyCustomModelOptions {
  name: string;
  /** What the model can do and costs. Default: text and code generation, 4,096 tokens, streaming. */
  capabilities?: ModelCapabilities | ModelCapabilitiesInput;
  /**
   * The endpoint and its key (the seed's `config` dict). Each defaults to an environment variable,
   * `ACME_ENDPOINT` and `ACME_API_KEY`, read at the first call, so constructing never throws.
   */
  config?: { apiKey?: string | Secret; endpoint?: string };
}

function promptOf(request: GenerateRequest): string {
  return request.messages
    .map((m) => (m.role === "user" ? contentText(m.content) : `${m.role}: ${contentText(m.content)}`))
    .join("\n");
}

/**
 * The seed's "Complete Custom Model Implementation", in TypeScript. It implements the `do*`
 * hooks; the base class does initialisation once, metrics (the seed's `update_metrics`), cost,
 * limits, abort and error mapping.
 */
export class MyCustomModel extends Model {
  readonly #endpoint: string | undefined;
  readonly #apiKey: Secret | undefined;
  #client: CustomAPIClient | undefined;

  constructor(options: MyCustomModelOptions) {
    super({
      name: options.name,
      provider: "custom",
      capabilities:
        options.capabilities ??
        new ModelCapabilities({ textGeneration: true, codeGeneration: true, maxTokens: 4096, supportsStreaming: true }),
    });
    this.#endpoint = options.config?.endpoint;
    this.#apiKey = Secret.from(options.config?.apiKey);
  }

  /** The endpoint given in `config`, else `ACME_ENDPOINT` (read when asked). */
  get endpoint(): string | undefined {
    return this.#endpoint ?? (process.env.ACME_ENDPOINT || undefined);
  }

  protected override async doInitialize(): Promise<void> {
    const endpoint = this.endpoint;
    if (!endpoint)
      throw new ConfigError(
        [{ path: "config.endpoint", message: "is not set: pass config.endpoint or set ACME_ENDPOINT" }],
        { provider: this.provider, model: this.name },
      );
    const apiKey = this.#apiKey ?? Secret.from(process.env.ACME_API_KEY);
    if (!apiKey)
      throw new AuthenticationError("No API key: pass config.apiKey or set ACME_API_KEY", {
        provider: this.provider,
        model: this.name,
      });
    const client = new CustomAPIClient({ apiKey, endpoint });
    await client.connect();
    this.#client = client;
  }

  #connected(): CustomAPIClient {
    if (!this.#client) throw new Error("MyCustomModel used before initialize()");
    return this.#client;
  }

  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    const response = await this.#connected().generate(
      {
        prompt: promptOf(request),
        ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      },
      request.signal,
    );
    return {
      text: response.text,
      usage: { inputTokens: response.inputTokens, outputTokens: response.outputTokens },
      costUsd: response.cost,
    };
  }

  protected override async *doStream(request: GenerateRequest): AsyncIterable<StreamChunk> {
    const params = {
      prompt: promptOf(request),
      ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
    };
    for await (const event of this.#connected().stream(params, request.signal)) {
      if (event.text) yield { type: "text", text: event.text };
      if (event.done)
        yield {
          type: "finish",
          usage: { inputTokens: event.done.inputTokens, outputTokens: event.done.outputTokens },
          costUsd: event.done.cost,
        };
    }
  }

  protected override async doHealthCheck(): Promise<boolean> {
    return this.#connected().ping();
  }

  protected override async doCleanup(): Promise<void> {
    await this.#client?.disconnect();
    this.#client = undefined;
  }
}
