// Shared by this package's tests: the gateway in front of a registry whose models talk to the
// loopback OpenAI and Anthropic servers of @orchestrator-ts/testing through their real SDKs.
import { request as httpRequest } from "node:http";
import { ModelRegistry, type ModelRegistryOptions } from "@orchestrator-ts/registry";
import { AnthropicModel } from "@orchestrator-ts/provider-anthropic";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import {
  type AnthropicServer,
  type OpenAIServer,
  startAnthropicServer,
  startOpenAIServer,
} from "@orchestrator-ts/testing";
import OpenAI from "openai";
import { type CreateServerOptions, type OrchestratorServer, createServer } from "../server";

export const OPENAI_KEY = "sk-upstream-openai";
export const ANTHROPIC_KEY = "sk-ant-upstream";

export interface Gateway {
  openaiUpstream: OpenAIServer;
  anthropicUpstream: AnthropicServer;
  registry: ModelRegistry;
  server: OrchestratorServer;
  url: string;
  client: OpenAI;
  close(): Promise<void>;
}

export async function startGateway(
  options: {
    registry?: ModelRegistryOptions;
    server?: Partial<CreateServerOptions>;
    setup?: (registry: ModelRegistry) => void;
    upstream?: Parameters<typeof startOpenAIServer>[0];
  } = {},
): Promise<Gateway> {
  const openaiUpstream = await startOpenAIServer({
    apiKey: OPENAI_KEY,
    models: ["gpt-4o-mini", "gpt-4o"],
    ...(options.upstream ?? {}),
  });
  const anthropicUpstream = await startAnthropicServer({ apiKey: ANTHROPIC_KEY });
  const registry = new ModelRegistry({
    maxRetries: 0,
    backoff: { initialMs: 1, maxMs: 5 },
    ...(options.registry ?? {}),
  });
  registry.registerModel(
    new OpenAIModel({ name: "gpt-4o-mini", apiKey: OPENAI_KEY, baseURL: openaiUpstream.baseURL, timeoutMs: 10_000 }),
  );
  registry.registerModel(
    new AnthropicModel({
      name: "claude-sonnet-4-6",
      apiKey: ANTHROPIC_KEY,
      baseURL: anthropicUpstream.baseURL,
      timeoutMs: 10_000,
    }),
  );
  options.setup?.(registry);
  const server = createServer({ orchestrator: { registry }, port: 0, ...(options.server ?? {}) });
  const url = await server.listen();
  const client = new OpenAI({ apiKey: "sk-gateway-client", baseURL: `${url}/v1`, maxRetries: 0 });
  return {
    openaiUpstream,
    anthropicUpstream,
    registry,
    server,
    url,
    client,
    async close() {
      await server.close();
      await registry.cleanup();
      await Promise.all([openaiUpstream.close(), anthropicUpstream.close()]);
    },
  };
}

export const ask = (text: string) => [{ role: "user" as const, content: text }];

/** Polls `condition` every 10 ms; throws, naming `what`, when it is still false after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What a raw POST got: status, headers, the whole body text and the HTTP trailers. */
export interface RawAnswer {
  status: number;
  headers: Record<string, unknown>;
  text: string;
  trailers: Record<string, unknown>;
}

/** A raw POST of `body` (JSON, or a string sent as it is) to `url` + `path`, read to the end. */
export function rawPost(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}${path}`,
      { method: "POST", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, trailers: res.trailers }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(typeof body === "string" ? body : JSON.stringify(body));
  });
}
