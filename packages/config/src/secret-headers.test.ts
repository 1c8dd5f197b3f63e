// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text; ${VAR} in them is the subject under test.
import { inspect } from "node:util";
import { ConfigError } from "@orchestrator-ts/core";
import { openaiProvider } from "@orchestrator-ts/provider-openai";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModels, parseModelConfig } from "./index";

// Azure-style: the key travels in a header the SDK does not know about, so YAML has to set it.
const AZURE_KEY = "azure-key-0123456789abcdef";
const PROXY_TOKEN = "proxy-token-0123456789abcdef";
const providers = { openai: openaiProvider };
let server: OpenAIServer;

beforeAll(async () => {
  // The server checks `Authorization: Bearer <apiKey>`: only the header from YAML carries it.
  server = await startOpenAIServer({ apiKey: PROXY_TOKEN });
});
afterAll(async () => {
  await server.close();
});

const yaml = (headers: string) => `models:
  - name: azure-gpt
    provider: openai
    config:
      base_url: \${BASE_URL}
      api_key: not-the-real-key
      default_headers:
${headers}
`;

describe("secret values in header maps", () => {
  it("default_headers: {api-key: ${KEY}, Authorization: …} parse, reach the server, and are never shown", async () => {
    const env = { BASE_URL: server.baseURL, AZURE_OPENAI_KEY: AZURE_KEY, PROXY_TOKEN };
    const text = yaml(
      [
        "        api-key: ${AZURE_OPENAI_KEY}",
        '        Authorization: "Bearer ${PROXY_TOKEN}"',
        "        x-team: search",
      ].join("\n"),
    );
    const config = parseModelConfig(text, { env, providers, source: "azure.yaml" });
    for (const view of [JSON.stringify(config), inspect(config, { depth: 20, showHidden: true })]) {
      expect(view).not.toContain(AZURE_KEY);
      expect(view).not.toContain(PROXY_TOKEN);
    }
    const { models } = await buildModels(config, { providers });
    const [model] = models;
    if (!model) throw new Error("no model built");
    expect(await model.generateResponse("through the proxy")).toBe("Echo: through the proxy");
    const headers = server.requests.at(-1)?.headers;
    expect(headers?.["api-key"]).toBe(AZURE_KEY);
    expect(headers?.authorization).toBe(`Bearer ${PROXY_TOKEN}`);
    expect(headers?.["x-team"]).toBe("search");
    for (const view of [JSON.stringify(model), inspect(model, { depth: 20, showHidden: true })]) {
      expect(view).not.toContain(AZURE_KEY);
      expect(view).not.toContain(PROXY_TOKEN);
    }
    await model.cleanup();
  });

  it("an error in the same header map names the bad value's line, never a secret's value", () => {
    const env = { BASE_URL: server.baseURL, AZURE_OPENAI_KEY: AZURE_KEY };
    const text = yaml(["        api-key: ${AZURE_OPENAI_KEY}", "        x-retries: [1, 2]"].join("\n"));
    let error: unknown;
    try {
      parseModelConfig(text, { env, providers, source: "azure.yaml" });
    } catch (caught) {
      error = caught;
    }
    expect(ConfigError.isInstance(error)).toBe(true);
    const configError = error as ConfigError;
    expect(configError.issues.map((i) => `${i.line}: ${i.path}`)).toEqual([
      "9: models[0].config.default_headers.x-retries",
    ]);
    for (const view of [configError.message, JSON.stringify(configError), inspect(configError, { depth: 20 })])
      expect(view).not.toContain(AZURE_KEY);
  });
});
