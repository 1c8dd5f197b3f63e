// A streamed tool call's arguments reach the gateway's clients as the model writes them, on all
// three faces (chat completions, Messages, Responses), through the real openai and Anthropic SDKs.
// The upstream sends the arguments in three pieces 150 ms apart: before, the whole call came at
// the stream's end, after the last piece.
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { type Gateway, ask, startGateway } from "./test/gateway";

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

const ARGS = { q: "orchestrator streaming", limit: 3 };
const PACE_MS = 150;

async function pacedGateway(): Promise<Gateway> {
  const gw = await startGateway({
    upstream: {
      reply: () => ({ toolCalls: [{ id: "call_1", name: "lookup", arguments: ARGS }] }),
      chunkDelayMs: PACE_MS,
    },
  });
  gateways.push(gw);
  return gw;
}

/** What a client saw: each piece of the arguments with the time it came, and when the stream ended. */
interface Seen {
  pieces: { at: number; text: string }[];
  endedAt: number;
}

function expectStreamedPieces(seen: Seen): void {
  // The upstream's three pieces, each as it came: the first one well before the end.
  expect(seen.pieces.length).toBe(3);
  expect(JSON.parse(seen.pieces.map((p) => p.text).join(""))).toEqual(ARGS);
  expect(seen.endedAt - (seen.pieces[0]?.at ?? seen.endedAt)).toBeGreaterThan(PACE_MS);
}

describe("a streamed tool call's arguments arrive as the model writes them", () => {
  it("/v1/chat/completions: tool_calls deltas with the id and name first, then each piece of the arguments", async () => {
    const gw = await pacedGateway();
    const stream = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: ask("look it up"),
      stream: true,
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
    });
    const seen: Seen = { pieces: [], endedAt: 0 };
    const ids = new Set<string>();
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      if (call?.id) ids.add(call.id);
      if (call?.function?.arguments) seen.pieces.push({ at: performance.now(), text: call.function.arguments });
      finish ??= chunk.choices[0]?.finish_reason;
    }
    seen.endedAt = performance.now();
    expectStreamedPieces(seen);
    expect([...ids]).toEqual(["call_1"]);
    expect(finish).toBe("tool_calls");
    // The SDK's own accumulation rebuilds the call from those deltas.
    const final = await gw.client.chat.completions
      .stream({
        model: "gpt-4o-mini",
        messages: ask("look it up"),
        tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      })
      .finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === "function" ? call.function : undefined).toEqual({
      name: "lookup",
      arguments: JSON.stringify(ARGS),
    });
  });

  it("/v1/messages: a tool_use block whose input_json_delta events come as the pieces do", async () => {
    const gw = await pacedGateway();
    const stream = new Anthropic({ apiKey: "sk-client", baseURL: gw.url, maxRetries: 0 }).messages.stream({
      model: "gpt-4o-mini",
      max_tokens: 100,
      messages: ask("look it up"),
      tools: [{ name: "lookup", input_schema: { type: "object" } }],
    });
    const seen: Seen = { pieces: [], endedAt: 0 };
    stream.on("streamEvent", (event) => {
      if (event.type === "content_block_delta" && event.delta.type === "input_json_delta")
        seen.pieces.push({ at: performance.now(), text: event.delta.partial_json });
    });
    const message = await stream.finalMessage();
    seen.endedAt = performance.now();
    expectStreamedPieces(seen);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toMatchObject([{ type: "tool_use", id: "call_1", name: "lookup", input: ARGS }]);
  });

  it("/v1/responses: a function_call item whose arguments deltas come as the pieces do", async () => {
    const gw = await pacedGateway();
    const stream = await gw.client.responses.create({
      model: "gpt-4o-mini",
      input: "look it up",
      stream: true,
      tools: [{ type: "function", name: "lookup", parameters: { type: "object" }, strict: false }],
    });
    const seen: Seen = { pieces: [], endedAt: 0 };
    let done: unknown;
    let completed: { output: unknown[] } | undefined;
    for await (const event of stream) {
      if (event.type === "response.function_call_arguments.delta")
        seen.pieces.push({ at: performance.now(), text: event.delta });
      if (event.type === "response.function_call_arguments.done") done = event.arguments;
      if (event.type === "response.completed") completed = event.response;
    }
    seen.endedAt = performance.now();
    expectStreamedPieces(seen);
    expect(done).toBe(JSON.stringify(ARGS));
    expect(completed?.output).toMatchObject([
      {
        type: "function_call",
        call_id: "call_1",
        name: "lookup",
        arguments: JSON.stringify(ARGS),
        status: "completed",
      },
    ]);
  });
});
