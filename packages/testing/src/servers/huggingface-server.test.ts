import { rejectionOf } from "../helpers";
import { InferenceClient, InferenceClientProviderApiError } from "@huggingface/inference";
import { afterEach, describe, expect, it } from "vitest";
import { startHuggingFaceServer } from "./huggingface-server";
import type { HuggingFaceServer, HuggingFaceServerOptions } from "./huggingface-server";

const servers: HuggingFaceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(options: HuggingFaceServerOptions = {}) {
  const server = await startHuggingFaceServer({ apiKey: "hf_test", ...options });
  servers.push(server);
  const client = new InferenceClient("hf_test", { endpointUrl: server.endpointUrl });
  return { server, client };
}

const ask = (content: string) => ({ messages: [{ role: "user", content }] });
// The client retries 503 forever unless told not to.
const noRetry = { retry_on_error: false } as const;

async function collect(
  iterable: AsyncIterable<{ choices: { delta: { content?: string }; finish_reason?: string | null }[] }>,
) {
  const pieces: string[] = [];
  let finish: string | null | undefined = null;
  for await (const chunk of iterable) {
    const choice = chunk.choices[0];
    if (choice?.delta.content) pieces.push(choice.delta.content);
    if (choice?.finish_reason) finish = choice.finish_reason;
  }
  return { pieces, finish };
}

describe("startHuggingFaceServer through @huggingface/inference", () => {
  it("answers chatCompletion on the path the client builds from endpointUrl", async () => {
    const { server, client } = await setup();
    const out = await client.chatCompletion({ model: "tgi", ...ask("hi there") });
    expect(out.choices[0]?.message.content).toBe("Echo: hi there");
    expect(out.usage).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    const recorded = server.requests[0];
    expect(recorded?.method).toBe("POST");
    expect(recorded?.path).toBe("/v1/chat/completions");
    expect(recorded?.headers.authorization).toBe("Bearer hf_test");
    expect(recorded?.headers["user-agent"]).toMatch(/^@huggingface\/inference\//);
    expect(recorded?.body).toMatchObject({ model: "tgi", messages: [{ role: "user", content: "hi there" }] });
  });

  it("sends the endpoint URL itself as the model when none is given, and honours a /v1 base", async () => {
    const { server } = await setup();
    const client = new InferenceClient("hf_test");
    await client.chatCompletion({ endpointUrl: `${server.url}/v1`, ...ask("x") });
    expect(server.requests[0]?.path).toBe("/v1/chat/completions");
    expect(server.requests[0]?.body).toMatchObject({ model: `${server.url}/v1` });
  });

  it("streams chunks that concatenate to the text, with finish_reason", async () => {
    const { client } = await setup({ reply: () => ({ text: "un deux  trois" }) });
    const { pieces, finish } = await collect(client.chatCompletionStream({ model: "tgi", ...ask("x") }));
    expect(pieces.length).toBe(3);
    expect(pieces.join("")).toBe("un deux  trois");
    expect(finish).toBe("stop");
  });

  it("returns tool calls", async () => {
    const { client } = await setup({ reply: () => ({ toolCalls: [{ name: "lookup", arguments: { q: "tgi" } }] }) });
    const out = await client.chatCompletion({
      model: "tgi",
      ...ask("look it up"),
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
    });
    expect(out.choices[0]?.finish_reason).toBe("tool_calls");
    const call = out.choices[0]?.message.tool_calls?.[0];
    expect(call?.function.name).toBe("lookup");
    expect(JSON.parse(String(call?.function.arguments))).toEqual({ q: "tgi" });
  });

  it("omits usage when the reply says null", async () => {
    const { client } = await setup({ reply: () => ({ text: "x", usage: null }) });
    const out = await client.chatCompletion({ model: "tgi", ...ask("x") });
    expect(out.usage).toBeUndefined();
  });

  it("serves /health, /info and /v1/models", async () => {
    const { server } = await setup({ modelId: "meta-llama/Llama-3.2-1B-Instruct", maxInputTokens: 8192 });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const info = (await (await fetch(`${server.url}/info`)).json()) as { model_id: string; max_input_tokens: number };
    expect(info).toMatchObject({ model_id: "meta-llama/Llama-3.2-1B-Instruct", max_input_tokens: 8192 });
    const unauthorized = await fetch(`${server.url}/v1/models`);
    expect(unauthorized.status).toBe(401);
    const models = await fetch(`${server.url}/v1/models`, { headers: { authorization: "Bearer hf_test" } });
    expect(((await models.json()) as { data: { id: string }[] }).data[0]?.id).toBe("meta-llama/Llama-3.2-1B-Instruct");
  });

  it("surfaces a 429 as ProviderApiError carrying status, TGI body and retry-after", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 2 });
    const error = await rejectionOf(client.chatCompletion({ model: "tgi", ...ask("x") }, noRetry));
    expect(error).toBeInstanceOf(InferenceClientProviderApiError);
    const apiError = error as InferenceClientProviderApiError;
    expect(apiError.httpResponse.status).toBe(429);
    expect(apiError.httpResponse.body).toEqual({ error: "Model is overloaded", error_type: "overloaded" });
    expect(apiError.message).toBe("Failed to perform inference: Model is overloaded");
    // The client keeps no response headers: retry-after is only visible on the wire.
    expect(server.stats.faults.status).toBe(1);
  });

  it("renders OpenAI-style error bodies when asked, which the stream path parses too", async () => {
    const { server, client } = await setup({ errorStyle: "openai" });
    server.enqueueFault({ type: "status", status: 429 });
    const error = await rejectionOf(collect(client.chatCompletionStream({ model: "tgi", ...ask("x") }, noRetry)));
    expect(error).toBeInstanceOf(InferenceClientProviderApiError);
    expect((error as InferenceClientProviderApiError).httpResponse.status).toBe(429);
    expect((error as InferenceClientProviderApiError).message).toContain("Rate limit reached");
  });

  it("serves the TGI context-length error as a 422 validation error", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "context-length" });
    const error = await rejectionOf(client.chatCompletion({ model: "tgi", ...ask("x") }, noRetry));
    const apiError = error as InferenceClientProviderApiError;
    expect(apiError.httpResponse.status).toBe(422);
    expect(apiError.message).toContain("must be <= 4096");
  });

  it("rejects a wrong token with 401", async () => {
    const { server } = await setup();
    const client = new InferenceClient("hf_wrong", { endpointUrl: server.endpointUrl });
    const error = await rejectionOf(client.chatCompletion({ model: "tgi", ...ask("x") }));
    expect((error as InferenceClientProviderApiError).httpResponse.status).toBe(401);
  });

  it("a 503 is retried by the client by default; retry_on_error: false surfaces it", async () => {
    const { server, client } = await setup();
    server.enqueueFaults([
      { type: "status", status: 503 },
      { type: "status", status: 503 },
    ]);
    const out = await client.chatCompletion({ model: "tgi", ...ask("patience") });
    expect(out.choices[0]?.message.content).toBe("Echo: patience");
    expect(server.stats.inferenceRequests).toBe(3);
    server.enqueueFault({ type: "status", status: 503 });
    const error = await rejectionOf(client.chatCompletion({ model: "tgi", ...ask("x") }, noRetry));
    expect((error as InferenceClientProviderApiError).httpResponse.status).toBe(503);
    expect((error as InferenceClientProviderApiError).message).toContain("currently loading");
  });

  it("a dropped connection rejects with fetch's TypeError", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "drop" });
    const error = await rejectionOf(client.chatCompletion({ model: "tgi", ...ask("x") }));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe("fetch failed");
  });

  it("a hang lasts until the caller aborts", async () => {
    const { server, client } = await setup();
    server.enqueueFault({ type: "hang" });
    const error = await rejectionOf(
      client.chatCompletion({ model: "tgi", ...ask("x") }, { signal: AbortSignal.timeout(100) }),
    );
    expect((error as Error).name).toBe("TimeoutError");
  });

  it("cut-stream (end) finishes quietly without finish_reason; destroy and malformed throw", async () => {
    const { server, client } = await setup({ reply: () => ({ text: "a b c d" }) });
    server.enqueueFaults([
      { type: "cut-stream", afterChunks: 3 },
      { type: "cut-stream", afterChunks: 3, mode: "destroy" },
      { type: "malformed-chunk", afterChunks: 2 },
    ]);
    const cut = await collect(client.chatCompletionStream({ model: "tgi", ...ask("x") }));
    expect(cut.pieces.join("")).toBe("a b ");
    expect(cut.finish).toBeNull();
    await expect(collect(client.chatCompletionStream({ model: "tgi", ...ask("x") }))).rejects.toThrow(/terminated/);
    await expect(collect(client.chatCompletionStream({ model: "tgi", ...ask("x") }))).rejects.toThrow(SyntaxError);
  });

  it("setDown with drop behaviour fails fast (503s would be retried forever by default)", async () => {
    const { server, client } = await setup({ downBehavior: "drop" });
    server.setDown(true);
    await expect(client.chatCompletion({ model: "tgi", ...ask("x") })).rejects.toThrow("fetch failed");
    expect((await fetch(`${server.url}/health`).catch((e: unknown) => e)) instanceof TypeError).toBe(true);
    server.setDown(false);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
