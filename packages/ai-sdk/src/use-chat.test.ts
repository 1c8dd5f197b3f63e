// What `useChat` does, without React: the `ai` package's own AbstractChat (the class @ai-sdk/react's
// useChat wraps) with its DefaultChatTransport posts to a route handler that streams
// `streamText({ model: orchestrator("auto") })` as a UI message stream — the chat application
// every AI SDK tutorial builds, over a registry of real models talking to a loopback server.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OpenAIModel } from "@orchestrator-ts/provider-openai";
import { ModelRegistry } from "@orchestrator-ts/registry";
import { type OpenAIServer, startOpenAIServer } from "@orchestrator-ts/testing";
import {
  AbstractChat,
  type ChatState,
  type ChatStatus,
  convertToModelMessages,
  DefaultChatTransport,
  streamText,
  type UIMessage,
} from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrchestratorProvider } from "./index";

const KEY = "sk-use-chat-loopback-0123456789";
let upstream: OpenAIServer;
let registry: ModelRegistry;
let app: Server;
let url: string;

type Metadata = { model?: string; selectionId?: string };
type ChatMessage = UIMessage<Metadata>;

beforeAll(async () => {
  upstream = await startOpenAIServer({ apiKey: KEY });
  registry = new ModelRegistry({ maxRetries: 0 });
  registry.registerModel(new OpenAIModel({ name: "gpt-4o-mini", apiKey: KEY, baseURL: upstream.baseURL }));
  const orchestrator = createOrchestratorProvider({ registry });
  // The route handler of a chat app (`app/api/chat/route.ts` in Next.js), on node:http.
  app = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (d: string) => {
      body += d;
    });
    req.on("end", async () => {
      const { messages } = JSON.parse(body) as { messages: ChatMessage[] };
      // The orchestrator retries and falls back itself: the AI SDK's own retries would only repeat that.
      const result = streamText({
        model: orchestrator("auto"),
        messages: await convertToModelMessages(messages),
        maxRetries: 0,
        // The chat shows the failure (an error part in the stream); no need to log it here too.
        onError: () => undefined,
      });
      result.pipeUIMessageStreamToResponse(res, {
        // Who answered and the selection to rate, on the assistant message (for recordFeedback).
        messageMetadata: ({ part }) => {
          if (part.type !== "finish-step") return undefined;
          const meta = part.providerMetadata?.orchestrator as Metadata | undefined;
          return { model: meta?.model, selectionId: meta?.selectionId };
        },
      });
    });
  });
  await new Promise<void>((done) => app.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});
afterAll(async () => {
  app?.close();
  await registry?.cleanup();
  await upstream?.close();
});

/** The state useChat keeps in React, kept in plain fields. */
class PlainState implements ChatState<ChatMessage> {
  status: ChatStatus = "ready";
  error: Error | undefined;
  messages: ChatMessage[] = [];
  pushMessage = (message: ChatMessage) => {
    this.messages = [...this.messages, message];
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index: number, message: ChatMessage) => {
    this.messages = this.messages.map((m, i) => (i === index ? message : m));
  };
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

class Chat extends AbstractChat<ChatMessage> {
  constructor(api: string) {
    super({ transport: new DefaultChatTransport({ api }), state: new PlainState() });
  }
}

const textOf = (m: ChatMessage | undefined) => (m?.parts ?? []).map((p) => (p.type === "text" ? p.text : "")).join("");

describe("useChat's Chat over a route that streams orchestrator('auto')", () => {
  it("streams each answer into the assistant message, keeps the history, and carries who answered in its metadata", async () => {
    const chat = new Chat(`${url}/api/chat`);
    await chat.sendMessage({ text: "hello there" });
    expect(chat.status).toBe("ready");
    expect(chat.error).toBeUndefined();
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(textOf(chat.messages[1])).toBe("Echo: hello there");
    expect(chat.messages[1]?.metadata?.model).toBe("gpt-4o-mini");
    const selectionId = chat.messages[1]?.metadata?.selectionId as string;
    expect(selectionId).toMatch(/\S/);
    // The selection can be rated, as a feedback button in the app would.
    expect(registry.recordFeedback(selectionId, { quality: 1 })).toBe(true);

    await chat.sendMessage({ text: "and again" });
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(textOf(chat.messages[3])).toBe("Echo: and again");
    // The second request carried the whole conversation to the model.
    const sent = upstream.requests.at(-1)?.body as { messages: { role: string }[] };
    expect(sent.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("a failed answer shows as the chat's error, and the chat can go on", async () => {
    const chat = new Chat(`${url}/api/chat`);
    upstream.enqueueFault({ type: "status", status: 500 });
    await chat.sendMessage({ text: "fails" });
    expect(chat.status).toBe("error");
    expect(chat.error?.message).toMatch(/\S/);
    await chat.sendMessage({ text: "works" });
    expect(chat.status).toBe("ready");
    expect(textOf(chat.messages.at(-1))).toBe("Echo: works");
  });
});
