import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GenerateRequest, Model, type ModelOutput } from "@orchestrator-ts/core";
import { lazyModule } from "@orchestrator-ts/core/internal";
import { SelectorRoute } from "@orchestrator-ts/registry";
import type OpenAI from "openai";
import { type Gateway, ask, startGateway } from "./test/gateway";

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway({
    setup: (registry) =>
      registry.addRoute(new SelectorRoute({ name: "cheap", requirements: { providers: ["anthropic"] } })),
  });
});
afterAll(async () => {
  await gw?.close();
});

describe("POST /v1/chat/completions, not streamed", () => {
  it("answers a registered model's name with that model, the chosen model in the body and the answer headers", async () => {
    const { data, response } = await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("hello there") })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe("gpt-4o-mini");
    expect(data.choices[0]?.message.content).toBe("Echo: hello there");
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-orchestrator-model")).toBe("gpt-4o-mini");
    expect(response.headers.get("x-orchestrator-selection-id")).toMatch(/.+/);
    expect(response.headers.get("x-orchestrator-cache")).toBe("miss");
    expect(Number(response.headers.get("x-orchestrator-cost-usd"))).toBeGreaterThan(0);
    // The upstream got the request through the real OpenAI SDK, with the gateway's own key.
    const upstream = gw.openaiUpstream.requests.at(-1);
    expect(upstream?.headers.authorization).toBe("Bearer sk-upstream-openai");
  });

  it("routes a model of another provider: an OpenAI client reaches Anthropic", async () => {
    const data = await gw.client.chat.completions.create({ model: "claude-sonnet-4-6", messages: ask("bonjour") });
    expect(data.model).toBe("claude-sonnet-4-6");
    expect(data.choices[0]?.message.content).toBe("Echo: bonjour");
  });

  it("auto lets the selector choose among every model; a route name applies the route", async () => {
    const auto = await gw.client.chat.completions.create({ model: "auto", messages: ask("pick one") });
    expect(["gpt-4o-mini", "claude-sonnet-4-6"]).toContain(auto.model);
    for (let i = 0; i < 3; i++) {
      const routed = await gw.client.chat.completions.create({ model: "cheap", messages: ask("cheap please") });
      expect(routed.model).toBe("claude-sonnet-4-6");
    }
  });

  it("an unknown model is a 404 in OpenAI's error shape, with close names", async () => {
    const error = await gw.client.chat.completions
      .create({ model: "gpt-4o-mimi", messages: ask("x") })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const e = error as { status: number; error: { type: string; code: string; param: string; message: string } };
    expect(e.status).toBe(404);
    expect(e.error.type).toBe("not_found_error");
    expect(e.error.code).toBe("model_not_found");
    expect(e.error.param).toBe("model");
    expect(e.error.message).toContain('Did you mean "gpt-4o-mini"');
  });

  it("tools and tool calls go through both ways", async () => {
    gw.openaiUpstream.setReply(() => ({ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
    try {
      const data = await gw.client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: ask("weather in Paris?"),
        tools: [
          {
            type: "function",
            function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
          },
        ],
        tool_choice: "auto",
      });
      const call = data.choices[0]?.message.tool_calls?.[0];
      expect(data.choices[0]?.finish_reason).toBe("tool_calls");
      expect(call?.type === "function" && call.function.name).toBe("get_weather");
      expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
      const sent = gw.openaiUpstream.requests.at(-1)?.body as { tools: { function: { name: string } }[] };
      expect(sent.tools[0]?.function.name).toBe("get_weather");
    } finally {
      gw.openaiUpstream.setReply(undefined as never);
    }
  });

  it("response_format json_schema and user reach the model", async () => {
    const data = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("give json"),
      user: "user-42",
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: { type: "object", properties: { echo: { type: "string" } } } },
      },
    });
    expect(JSON.parse(data.choices[0]?.message.content ?? "")).toEqual({ echo: "give json" });
    const sent = gw.openaiUpstream.requests.at(-1)?.body as {
      response_format: { type: string; json_schema: { name: string } };
      user: string;
    };
    expect(sent.response_format.type).toBe("json_schema");
    expect(sent.response_format.json_schema.name).toBe("answer");
    expect(sent.user).toBe("user-42");
  });

  it("routing hints from headers and from the body's orchestrator field (which never reaches the provider)", async () => {
    const byHeader = await gw.client.chat.completions.create(
      { model: "auto", messages: ask("h") },
      {
        headers: {
          "x-orchestrator-capabilities": "textGeneration",
          "x-orchestrator-max-cost": "1000",
          "x-orchestrator-task": "chat",
        },
      },
    );
    expect(byHeader.choices[0]?.message.content).toBe("Echo: h");
    const body = { model: "auto", messages: ask("b"), orchestrator: { task: "code", max_cost: 10 } } as never;
    const byBody = await gw.client.chat.completions.create(body);
    expect(byBody.choices[0]?.message.content).toBe("Echo: b");
    for (const r of gw.openaiUpstream.requests)
      expect((r.body as Record<string, unknown>).orchestrator).toBeUndefined();
    // A cost cap nothing meets: 503 with the reasons.
    const error = (await gw.client.chat.completions
      .create({ model: "auto", messages: ask("x") }, { headers: { "x-orchestrator-max-cost": "0" } })
      .catch((e: unknown) => e)) as {
      status: number;
      error: { code: string; excluded: { model: string; code: string }[] };
    };
    expect(error.status).toBe(503);
    expect(error.error.code).toBe("no_eligible_model");
    expect(error.error.excluded.map((e) => e.model).sort()).toEqual(["claude-sonnet-4-6", "gpt-4o-mini"]);
  });
});

/** A provider whose SDK is not installed: it loads it the way the built-in providers do, on first use. */
class UninstalledSdkModel extends Model {
  static readonly sdk = lazyModule(() => import(/* @vite-ignore */ ["@orchestrator-ts", "no-such-sdk"].join("/")), {
    package: "@orchestrator-ts/no-such-sdk",
    neededBy: "The Example provider",
  });
  protected override async doInitialize(): Promise<void> {
    await UninstalledSdkModel.sdk.load();
  }
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "unreachable" };
  }
}

describe("a model that cannot run on the gateway's machine", () => {
  it("a missing SDK is the gateway's 500, not the client's 400, and names the package to install", async () => {
    const broken = await startGateway({
      setup: (registry) =>
        registry.registerModel(
          new UninstalledSdkModel({ name: "example", provider: "example", capabilities: { textGeneration: true } }),
        ),
    });
    try {
      const error = (await broken.client.chat.completions
        .create({ model: "example", messages: ask("x") })
        .catch((e: unknown) => e)) as { status: number; error: { type: string; code: string; message: string } };
      expect(error.status).toBe(500);
      expect(error.error.type).toBe("api_error");
      expect(error.error.code).toBe("missing_package");
      expect(error.error.message).toContain(
        'The Example provider needs the npm package "@orchestrator-ts/no-such-sdk", which is not installed here: npm install @orchestrator-ts/no-such-sdk',
      );
    } finally {
      await broken.close();
    }
  });
});

describe("POST /v1/chat/completions: reasoning", () => {
  const THOUGHT = "The capital of France is Paris.";
  type WithReasoning = { reasoning_content?: string | null; thinking_blocks?: unknown[] };
  /** Every delta of a streamed answer, read through the real SDK. */
  const deltas = async (model: string, content: string) => {
    const stream = await gw.client.chat.completions.create({ model, messages: ask(content), stream: true });
    const out: (OpenAI.ChatCompletionChunk.Choice.Delta & WithReasoning)[] = [];
    for await (const chunk of stream) if (chunk.choices[0]) out.push(chunk.choices[0].delta);
    return out;
  };

  it("a model's reasoning is the message's reasoning_content, never part of its content", async () => {
    gw.openaiUpstream.setReply(() => ({ reasoning: THOUGHT, text: "Paris." }));
    try {
      const data = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("capital?") });
      const message = data.choices[0]?.message as (OpenAI.ChatCompletionMessage & WithReasoning) | undefined;
      expect(message?.content).toBe("Paris.");
      expect(message?.reasoning_content).toBe(THOUGHT);
      expect(message?.thinking_blocks).toBeUndefined();
    } finally {
      gw.openaiUpstream.setReply(undefined as never);
    }
  });

  it("streamed: delta.reasoning_content pieces before the content pieces, through the SDK's parser", async () => {
    gw.openaiUpstream.setReply(() => ({ reasoning: THOUGHT, text: "Paris it is." }));
    try {
      const all = await deltas("gpt-4o-mini", "capital?");
      const reasoning = all.filter((d) => d.reasoning_content);
      expect(reasoning.length).toBeGreaterThan(1);
      expect(reasoning.map((d) => d.reasoning_content).join("")).toBe(THOUGHT);
      expect(all.map((d) => d.content ?? "").join("")).toBe("Paris it is.");
      expect(all.findLastIndex((d) => d.reasoning_content)).toBeLessThan(all.findIndex((d) => d.content));
    } finally {
      gw.openaiUpstream.setReply(undefined as never);
    }
  });

  it("signed reasoning (LiteLLM in front of Claude) comes out with its signature as thinking_blocks, whole and streamed", async () => {
    gw.openaiUpstream.setReply(() => ({ reasoning: [{ text: THOUGHT, signature: "sig-1" }], text: "Paris." }));
    try {
      const data = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("capital?") });
      const message = data.choices[0]?.message as WithReasoning | undefined;
      expect(message?.reasoning_content).toBe(THOUGHT);
      expect(message?.thinking_blocks).toEqual([{ type: "thinking", thinking: THOUGHT, signature: "sig-1" }]);
      const all = await deltas("gpt-4o-mini", "capital?");
      expect(all.flatMap((d) => d.thinking_blocks ?? [])).toEqual([
        { type: "thinking", thinking: "", signature: "sig-1" },
      ]);
      expect(all.map((d) => d.reasoning_content ?? "").join("")).toBe(THOUGHT);
    } finally {
      gw.openaiUpstream.setReply(undefined as never);
    }
  });
});

/** A model that remembers the requests it got and answers with signed reasoning. */
class RecordingModel extends Model {
  readonly requests: GenerateRequest[] = [];
  protected async doGenerate(request: GenerateRequest): Promise<ModelOutput> {
    this.requests.push(request);
    return { text: "Noted.", reasoning: [{ type: "reasoning", text: "Signed thought.", signature: "sig-9" }] };
  }
}

describe("POST /v1/chat/completions: reasoning given back by the client", () => {
  const recorder = new RecordingModel({
    name: "recorder",
    provider: "example",
    capabilities: { textGeneration: true },
  });
  let back: Gateway;
  beforeAll(async () => {
    back = await startGateway({ setup: (registry) => registry.registerModel(recorder) });
  });
  afterAll(async () => {
    await back?.close();
  });
  const history = [
    { role: "user", content: "Weather in Oslo?" },
    {
      role: "assistant",
      content: "Let me check.",
      reasoning_content: "Oslo: call the tool. Then again.",
      thinking_blocks: [
        { type: "thinking", thinking: "Oslo: call the tool.", signature: "sig-1" },
        { type: "redacted_thinking", data: "opaque==" },
      ],
    },
    { role: "user", content: "And now?" },
  ] as OpenAI.ChatCompletionMessageParam[];

  it("an assistant message's thinking_blocks reach the model as its signed reasoning; an OpenAI-compatible upstream never gets them", async () => {
    const data = await back.client.chat.completions.create({ model: "recorder", messages: history });
    expect(recorder.requests.at(-1)?.messages[1]).toEqual({
      role: "assistant",
      content: "Let me check.",
      reasoning: [
        { type: "reasoning", text: "Oslo: call the tool.", signature: "sig-1" },
        { type: "reasoning", text: "", redactedData: "opaque==" },
      ],
    });
    // The recorder's own signed reasoning comes back the way the client can give it back next turn.
    expect((data.choices[0]?.message as { thinking_blocks?: unknown } | undefined)?.thinking_blocks).toEqual([
      { type: "thinking", thinking: "Signed thought.", signature: "sig-9" },
    ]);
    // Not sent on by default (DeepSeek refuses reasoning_content in a request).
    await back.client.chat.completions.create({ model: "gpt-4o-mini", messages: history });
    const sent = back.openaiUpstream.requests.at(-1)?.body as { messages: Record<string, unknown>[] };
    expect(sent.messages[1]).toEqual({ role: "assistant", content: "Let me check." });
  });
});
