import { Secret } from "@orchestrator-ts/core";

/** The seed's `CustomAPIClient`: a small HTTP client for a custom generation endpoint. */
export interface CustomResponse {
  text: string;
  inputTokens: number;
  outputTokens: number;
  /** USD, as the endpoint bills it. */
  cost: number;
}

export interface CustomClientOptions {
  apiKey: string | Secret;
  endpoint: string;
}

/** An HTTP failure with what the core error mapping reads: `status` and `headers`. */
export class CustomAPIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(message);
    this.name = "CustomAPIError";
  }
}

export class CustomAPIClient {
  readonly #apiKey: Secret;
  readonly endpoint: string;
  #connected = false;

  constructor(options: CustomClientOptions) {
    this.#apiKey = Secret.from(options.apiKey) ?? new Secret("");
    this.endpoint = options.endpoint.replace(/\/+$/, "");
  }

  async connect(): Promise<void> {
    this.#connected = true;
  }

  async disconnect(): Promise<void> {
    this.#connected = false;
  }

  get connected(): boolean {
    return this.#connected;
  }

  async #post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const response = await fetch(`${this.endpoint}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.#apiKey.reveal()}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) {
      const detail = await response.text().catch(() => "");
      throw new CustomAPIError(
        `custom endpoint answered ${response.status}: ${detail}`,
        response.status,
        response.headers,
      );
    }
    return response;
  }

  async generate(
    params: { prompt: string; maxTokens?: number; temperature?: number },
    signal?: AbortSignal,
  ): Promise<CustomResponse> {
    const response = await this.#post(
      "/generate",
      { prompt: params.prompt, max_tokens: params.maxTokens, temperature: params.temperature },
      signal,
    );
    const body = (await response.json()) as { text: string; input_tokens: number; output_tokens: number; cost: number };
    return { text: body.text, inputTokens: body.input_tokens, outputTokens: body.output_tokens, cost: body.cost };
  }

  /** NDJSON: `{ "text": … }` lines, then `{ "done": true, … }` with usage and cost. */
  async *stream(
    params: { prompt: string; maxTokens?: number; temperature?: number },
    signal?: AbortSignal,
  ): AsyncIterable<{ text?: string; done?: CustomResponse }> {
    const response = await this.#post(
      "/generate",
      { prompt: params.prompt, max_tokens: params.maxTokens, temperature: params.temperature, stream: true },
      signal,
    );
    if (!response.body) throw new CustomAPIError("custom endpoint sent no stream body", 502, response.headers);
    const decoder = new TextDecoder();
    let buffered = "";
    let done = false;
    for await (const bytes of response.body) {
      buffered += decoder.decode(bytes, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
        if (!line) continue;
        const event = JSON.parse(line) as {
          text?: string;
          done?: boolean;
          input_tokens?: number;
          output_tokens?: number;
          cost?: number;
        };
        if (event.done) {
          done = true;
          yield {
            done: {
              text: "",
              inputTokens: event.input_tokens ?? 0,
              outputTokens: event.output_tokens ?? 0,
              cost: event.cost ?? 0,
            },
          };
        } else if (event.text) yield { text: event.text };
      }
    }
    // A stream that stops before its `done` line is an error, never a silently shorter answer.
    if (!done) throw new CustomAPIError("custom endpoint stream ended before completion", 502, response.headers);
  }

  async ping(): Promise<boolean> {
    const response = await fetch(`${this.endpoint}/ping`, {
      headers: { authorization: `Bearer ${this.#apiKey.reveal()}` },
      signal: AbortSignal.timeout(5_000),
    });
    return response.ok;
  }
}
