import Anthropic, {
  APIError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  RateLimitError,
} from "@anthropic-ai/sdk";
import { SelectorRoute } from "@orchestrator-ts/registry";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Admission, type AdmissionOutcome, type Gatekeeper, GatewayError } from "./contract";
import { type Gateway, rawPost, startGateway, until } from "./test/gateway";

// The real @anthropic-ai/sdk against the gateway's /v1/messages, which routes to the loopback
// OpenAI and Anthropic servers through the providers' own SDKs.

const anthropicClient = (gw: Gateway, apiKey = "sk-gateway-client") =>
  new Anthropic({ apiKey, baseURL: gw.url, maxRetries: 0 });
const ask = (text: string) => [{ role: "user" as const, content: text }];

/** A key gate: one good key; remembers how each admission was settled; can refuse admission. */
function gate(refuse?: () => GatewayError): Gatekeeper & { settled: AdmissionOutcome[] } {
  const settled: AdmissionOutcome[] = [];
  return {
    settled,
    authenticate: async (raw) => {
      if (raw !== "sk-good")
        throw new GatewayError(401, "authentication_error", "Invalid API key.", { code: "invalid_api_key" });
      return { keyId: "k1", keyName: "test" };
    },
    admit: async (): Promise<Admission> => {
      if (refuse) throw refuse();
      return {
        settle: async (outcome) => {
          settled.push(outcome);
        },
      };
    },
  };
}

const weatherTool = {
  name: "get_weather",
  description: "Weather by city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

describe("POST /v1/messages, not streamed", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway({
      setup: (registry) =>
        registry.addRoute(new SelectorRoute({ name: "cheap", requirements: { providers: ["openai"] } })),
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("an Anthropic client uses an OpenAI-hosted model: the message, the chosen model, usage and the answer headers", async () => {
    const { data, response } = await anthropicClient(gw)
      .messages.create({ model: "gpt-4o-mini", max_tokens: 100, system: "Be brief.", messages: ask("hello there") })
      .withResponse();
    expect(data.type).toBe("message");
    expect(data.id).toMatch(/^msg_/);
    expect(data.model).toBe("gpt-4o-mini");
    expect(data.content).toEqual([{ type: "text", text: "Echo: hello there" }]);
    expect(data.stop_reason).toBe("end_turn");
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-orchestrator-model")).toBe("gpt-4o-mini");
    expect(response.headers.get("x-orchestrator-selection-id")).toMatch(/.+/);
    expect(response.headers.get("x-orchestrator-cache")).toBe("miss");
    expect(Number(response.headers.get("x-orchestrator-cost-usd"))).toBeGreaterThan(0);
    // The OpenAI upstream got an OpenAI request (system prompt, max_tokens) with the gateway's key.
    const upstream = gw.openaiUpstream.requests.at(-1);
    expect(upstream?.headers.authorization).toBe("Bearer sk-upstream-openai");
    expect(upstream?.body).toMatchObject({
      model: "gpt-4o-mini",
      max_tokens: 100,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hello there" },
      ],
    });
  });

  it("an Anthropic client uses an Anthropic-hosted model: metadata goes on, auto and a route name route", async () => {
    const data = await anthropicClient(gw).messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 50,
      messages: ask("bonjour"),
      metadata: { user_id: "u-7" },
    });
    expect(data.model).toBe("claude-sonnet-4-6");
    expect(data.content).toEqual([{ type: "text", text: "Echo: bonjour" }]);
    expect(gw.anthropicUpstream.requests.at(-1)?.body).toMatchObject({
      model: "claude-sonnet-4-6",
      max_tokens: 50,
      metadata: { user_id: "u-7" },
    });
    const auto = await anthropicClient(gw).messages.create({
      model: "auto",
      max_tokens: 50,
      messages: ask("pick one"),
    });
    expect(["gpt-4o-mini", "claude-sonnet-4-6"]).toContain(auto.model);
    for (let i = 0; i < 3; i++) {
      const routed = await anthropicClient(gw).messages.create({
        model: "cheap",
        max_tokens: 50,
        messages: ask("cheap please"),
      });
      expect(routed.model).toBe("gpt-4o-mini");
    }
  });

  it("prompt-cache breakpoints (cache_control) reach an Anthropic-hosted model where the client put them", async () => {
    await anthropicClient(gw).messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 50,
      system: [{ type: "text", text: "A long manual.", cache_control: { type: "ephemeral" } }],
      tools: [{ ...weatherTool, cache_control: { type: "ephemeral", ttl: "1h" } }],
      messages: [{ role: "user", content: [{ type: "text", text: "hello", cache_control: { type: "ephemeral" } }] }],
    });
    const upstream = gw.anthropicUpstream.requests.at(-1)?.body as Record<string, unknown>;
    expect(upstream.system).toEqual([{ type: "text", text: "A long manual.", cache_control: { type: "ephemeral" } }]);
    expect(upstream.tools).toEqual([{ ...weatherTool, cache_control: { type: "ephemeral", ttl: "1h" } }]);
    expect(upstream.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "hello", cache_control: { type: "ephemeral" } }] },
    ]);
  });

  it("a matched stop sequence comes back as the API says it — stop_reason stop_sequence and which one — whole and streamed", async () => {
    gw.anthropicUpstream.setReply(() => ({ text: "one two STOP three" }));
    try {
      const request = { model: "claude-sonnet-4-6", max_tokens: 50, messages: ask("x"), stop_sequences: ["STOP"] };
      const message = await anthropicClient(gw).messages.create(request);
      expect(message.content).toEqual([{ type: "text", text: "one two " }]);
      expect([message.stop_reason, message.stop_sequence]).toEqual(["stop_sequence", "STOP"]);
      const final = await anthropicClient(gw).messages.stream(request).finalMessage();
      expect([final.stop_reason, final.stop_sequence]).toEqual(["stop_sequence", "STOP"]);
    } finally {
      gw.anthropicUpstream.setReply(undefined);
    }
  });

  it("an unknown model is a 404 in Anthropic's error shape, with close names", async () => {
    const error = await anthropicClient(gw)
      .messages.create({ model: "claude-sonet-4-6", max_tokens: 10, messages: ask("x") })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    const e = error as NotFoundError;
    expect(e.status).toBe(404);
    expect(e.type).toBe("not_found_error");
    expect(e.error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect((e.error as { error: { message: string } }).error.message).toContain('Did you mean "claude-sonnet-4-6"');
  });

  it("tools both ways: an OpenAI model's tool call is a tool_use block, and the tool_result goes back as the tool message", async () => {
    gw.openaiUpstream.setReply(() => ({ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
    try {
      const client = anthropicClient(gw);
      const first = await client.messages.create({
        model: "gpt-4o-mini",
        max_tokens: 100,
        messages: ask("weather in Paris?"),
        tools: [weatherTool],
        tool_choice: { type: "any" },
      });
      expect(first.stop_reason).toBe("tool_use");
      const call = first.content.find((b) => b.type === "tool_use");
      expect(call).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
      const sent = gw.openaiUpstream.requests.at(-1)?.body as {
        tools: { function: { name: string; parameters: unknown } }[];
        tool_choice: unknown;
      };
      expect(sent.tools[0]?.function).toMatchObject({ name: "get_weather", parameters: weatherTool.input_schema });
      expect(sent.tool_choice).toBe("required");

      gw.openaiUpstream.setReply(() => ({ text: "It is 18°C." }));
      const id = (call as { id: string }).id;
      const second = await client.messages.create({
        model: "gpt-4o-mini",
        max_tokens: 100,
        tools: [weatherTool],
        messages: [
          ...ask("weather in Paris?"),
          { role: "assistant", content: first.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "18°C" }] },
        ],
      });
      expect(second.content).toEqual([{ type: "text", text: "It is 18°C." }]);
      const replayed =
        (gw.openaiUpstream.requests.at(-1)?.body as { messages: Record<string, unknown>[] } | undefined)?.messages ??
        [];
      expect(replayed.at(-2)).toMatchObject({
        role: "assistant",
        tool_calls: [{ id, function: { name: "get_weather" } }],
      });
      expect(replayed.at(-1)).toEqual({ role: "tool", tool_call_id: id, content: "18°C" });
    } finally {
      gw.openaiUpstream.setReply(undefined as never);
    }
  });

  it("bad input is a 400 invalid_request_error naming the field; a wrong method is 405; both in Anthropic's shape", async () => {
    const error = (await anthropicClient(gw)
      .messages.create({
        model: "gpt-4o-mini",
        max_tokens: 10,
        messages: [
          {
            role: "user",
            content: [{ type: "document", source: { type: "text", media_type: "text/plain", data: "x" } }],
          },
        ],
      })
      .catch((e: unknown) => e)) as BadRequestError;
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toContain("messages.0.content.0.type");
    const noMax = await rawPost(gw.url, "/v1/messages", { model: "gpt-4o-mini", messages: ask("x") });
    expect(noMax.status).toBe(400);
    expect(JSON.parse(noMax.text)).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: "max_tokens: Field required" },
    });
    const garbled = await rawPost(gw.url, "/v1/messages", "{not json");
    expect(garbled.status).toBe(400);
    expect(JSON.parse(garbled.text)).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const get = await fetch(`${gw.url}/v1/messages`);
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  it("no eligible model is a 503 overloaded_error with the exclusion reasons; hints come from headers and the body's orchestrator field", async () => {
    const byBody = await anthropicClient(gw).messages.create({
      model: "auto",
      max_tokens: 20,
      messages: ask("b"),
      orchestrator: { task: "code", max_cost: 10 },
    } as never);
    expect((byBody as Anthropic.Message).content).toEqual([{ type: "text", text: "Echo: b" }]);
    for (const r of [...gw.openaiUpstream.requests, ...gw.anthropicUpstream.requests])
      expect((r.body as Record<string, unknown>).orchestrator).toBeUndefined();
    const raw = await rawPost(
      gw.url,
      "/v1/messages",
      { model: "auto", max_tokens: 20, messages: ask("x") },
      { "x-orchestrator-max-cost": "0" },
    );
    expect(raw.status).toBe(503);
    const body = JSON.parse(raw.text) as { type: string; error: { type: string; excluded: { model: string }[] } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("overloaded_error");
    expect(body.error.excluded.map((e) => e.model).sort()).toEqual(["claude-sonnet-4-6", "gpt-4o-mini"]);
  });
});

describe("POST /v1/messages, streamed, and the key gate", () => {
  const gateways: Gateway[] = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
  });
  async function gateway(...args: Parameters<typeof startGateway>): Promise<Gateway> {
    const g = await startGateway(...args);
    gateways.push(g);
    return g;
  }

  it("streams Anthropic's events from an OpenAI-hosted model; the SDK's MessageStream assembles the message; cost and cache as trailers", async () => {
    const gw = await gateway({ upstream: { reply: () => ({ text: "one two three four five" }) } });
    const stream = anthropicClient(gw).messages.stream({
      model: "gpt-4o-mini",
      max_tokens: 100,
      messages: ask("count"),
    });
    const types: string[] = [];
    stream.on("streamEvent", (event) => types.push(event.type));
    const message = await stream.finalMessage();
    expect(message.model).toBe("gpt-4o-mini");
    expect(message.content).toEqual([{ type: "text", text: "one two three four five" }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(types[0]).toBe("message_start");
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);

    const raw = await rawPost(gw.url, "/v1/messages", {
      model: "gpt-4o-mini",
      max_tokens: 100,
      messages: ask("again"),
      stream: true,
    });
    expect(raw.status).toBe(200);
    expect(raw.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(raw.headers["x-orchestrator-model"]).toBe("gpt-4o-mini");
    expect(raw.text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
    expect(raw.trailers["x-orchestrator-cache"]).toBe("miss");
    expect(Number(raw.trailers["x-orchestrator-cost-usd"])).toBeGreaterThan(0);
    // The same on message_delta, for clients that do not read trailers.
    const delta = raw.text.split("\n\n").find((e) => e.startsWith("event: message_delta")) as string;
    const summary = (JSON.parse(delta.slice(delta.indexOf("data: ") + 6)) as { orchestrator?: unknown }).orchestrator;
    expect(summary).toEqual({ cost_usd: Number(raw.trailers["x-orchestrator-cost-usd"]), cache: "miss" });
  });

  it("streams tool calls as tool_use blocks with input_json_delta, from an OpenAI model and from an Anthropic model", async () => {
    const gw = await gateway({
      upstream: { reply: () => ({ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] }) },
    });
    gw.anthropicUpstream.setReply(() => ({
      text: "Checking.",
      toolCalls: [{ name: "get_weather", arguments: { city: "Rome" } }],
    }));
    for (const [model, city] of [
      ["gpt-4o-mini", "Oslo"],
      ["claude-sonnet-4-6", "Rome"],
    ] as const) {
      const stream = anthropicClient(gw).messages.stream({
        model,
        max_tokens: 100,
        messages: ask("weather?"),
        tools: [weatherTool],
      });
      const deltas: string[] = [];
      stream.on("streamEvent", (event) => {
        if (event.type === "content_block_delta" && event.delta.type === "input_json_delta")
          deltas.push(event.delta.partial_json);
      });
      const message = await stream.finalMessage();
      expect(message.stop_reason).toBe("tool_use");
      const call = message.content.find((b) => b.type === "tool_use");
      expect(call).toMatchObject({ name: "get_weather", input: { city } });
      expect(JSON.parse(deltas.join(""))).toEqual({ city });
    }
    // The Anthropic model's text came before its tool call, in a block of its own.
    const message = await anthropicClient(gw)
      .messages.stream({ model: "claude-sonnet-4-6", max_tokens: 100, messages: ask("weather?"), tools: [weatherTool] })
      .finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(["text", "tool_use"]);
    expect(message.content[0]).toMatchObject({ type: "text", text: "Checking." });
  });

  it("a stream cut after its first chunk ends with an error event, which the SDK throws, never message_stop", async () => {
    const gw = await gateway({ upstream: { reply: () => ({ text: "alpha beta gamma delta epsilon zeta" }) } });
    gw.openaiUpstream.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const raw = await rawPost(gw.url, "/v1/messages", {
      model: "gpt-4o-mini",
      max_tokens: 100,
      messages: ask("x"),
      stream: true,
    });
    expect(raw.status).toBe(200);
    expect(raw.text).not.toContain("message_stop");
    const last = raw.text.trim().split("\n\n").at(-1) ?? "";
    expect(last.startsWith("event: error\ndata: ")).toBe(true);
    expect(JSON.parse(last.slice(last.indexOf("data: ") + 6))).toMatchObject({
      type: "error",
      error: { type: "api_error" },
    });

    gw.openaiUpstream.enqueueFault({ type: "cut-stream", afterChunks: 3 });
    const stream = await anthropicClient(gw).messages.create({
      model: "gpt-4o-mini",
      max_tokens: 100,
      messages: ask("x"),
      stream: true,
    });
    let text = "";
    const error = await (async () => {
      for await (const event of stream)
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).type).toBe("api_error");
    expect(text.length).toBeGreaterThan(0);
  });

  it("upstream rate limits are a 429 rate_limit_error with retry-after, before the first chunk, streamed or not", async () => {
    const gw = await gateway({ registry: { fallbacks: { "gpt-4o-mini": ["claude-sonnet-4-6"] } } });
    for (const stream of [false, true]) {
      gw.openaiUpstream.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 7 });
      gw.anthropicUpstream.enqueueFault({ type: "status", status: 429, retryAfterSeconds: 7 });
      const error = (await anthropicClient(gw)
        .messages.create({ model: "gpt-4o-mini", max_tokens: 10, messages: ask("x"), stream })
        .catch((e: unknown) => e)) as RateLimitError;
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error.type).toBe("rate_limit_error");
      expect(error.headers.get("retry-after")).toBe("7");
    }
  });

  it("the key gate: no key or a bad one is 401 authentication_error; a spent budget is 429 rate_limit_error with retry-after; both in Anthropic's shape", async () => {
    const gw = await gateway({
      server: {
        gatekeeper: gate(
          () =>
            new GatewayError(429, "budget_exceeded", "The key's daily budget of $1 is spent; it resets at 00:00 UTC.", {
              code: "budget_exceeded",
              retryAfterMs: 3_600_000,
            }),
        ),
      },
    });
    const unauthorised = (await anthropicClient(gw, "sk-bad")
      .messages.create({ model: "gpt-4o-mini", max_tokens: 10, messages: ask("x") })
      .catch((e: unknown) => e)) as AuthenticationError;
    expect(unauthorised).toBeInstanceOf(AuthenticationError);
    expect(unauthorised.type).toBe("authentication_error");
    const noKey = await rawPost(gw.url, "/v1/messages", { model: "gpt-4o-mini", max_tokens: 10, messages: ask("x") });
    expect(noKey.status).toBe(401);
    expect(JSON.parse(noKey.text)).toEqual({
      type: "error",
      error: { type: "authentication_error", message: "Invalid API key." },
    });
    const spent = (await anthropicClient(gw, "sk-good")
      .messages.create({ model: "gpt-4o-mini", max_tokens: 10, messages: ask("x") })
      .catch((e: unknown) => e)) as RateLimitError;
    expect(spent).toBeInstanceOf(RateLimitError);
    expect(spent.type).toBe("rate_limit_error");
    expect(spent.message).toContain("daily budget");
    expect(spent.headers.get("retry-after")).toBe("3600");
    // Refused before any upstream call.
    expect(gw.openaiUpstream.requests.length).toBe(0);
  });

  it("admissions are settled with the real cost: a whole answer, a stream, and a client that leaves mid-stream (the upstream call is aborted, no socket left behind)", async () => {
    const keys = gate();
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const gw = await gateway({
      server: { gatekeeper: keys },
      upstream: { reply: () => ({ text: words }), chunkDelayMs: 20 },
    });
    gw.anthropicUpstream.setReply(() => ({ text: "short answer" }));
    const client = anthropicClient(gw, "sk-good");
    await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 50, messages: ask("whole") });
    await client.messages
      .stream({ model: "claude-sonnet-4-6", max_tokens: 50, messages: ask("streamed") })
      .finalMessage();
    await until(() => keys.settled.length === 2, "two settlements");
    for (const outcome of keys.settled) {
      expect(outcome.model).toBe("claude-sonnet-4-6");
      expect(outcome.inputTokens).toBeGreaterThan(0);
      expect(outcome.outputTokens).toBe(2);
      expect(outcome.costUsd).toBeGreaterThan(0);
    }

    for (let round = 1; round <= 2; round++) {
      const controller = new AbortController();
      const stream = await client.messages.create(
        { model: "gpt-4o-mini", max_tokens: 1000, messages: ask("long"), stream: true },
        { signal: controller.signal },
      );
      let deltas = 0;
      await (async () => {
        for await (const event of stream)
          if (event.type === "content_block_delta" && ++deltas === 5) controller.abort();
      })().catch(() => undefined);
      await until(() => gw.openaiUpstream.activeRequests === 0, "the upstream request to end", 2_000);
      await until(() => keys.settled.length === 2 + round, "the admission to be settled", 2_000);
      const outcome = keys.settled.at(-1);
      expect(outcome?.model).toBe("gpt-4o-mini");
      expect(outcome?.outputTokens).toBeGreaterThan(0);
      expect(outcome?.costUsd).toBeGreaterThan(0);
    }
    // Every aborted call's upstream socket closes (its close reaches the upstream a moment after the
    // abort). Node's fetch may have opened a spare connection meanwhile, unused and pooled.
    await until(() => gw.openaiUpstream.usedConnections === 0, "the aborted upstream sockets to close", 2_000);
    expect(gw.openaiUpstream.stats.successes).toBe(0);
  });
});
