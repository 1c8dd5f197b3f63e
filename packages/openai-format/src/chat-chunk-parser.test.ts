import type { StreamChunk } from "@orchestrator-ts/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatChunkParser } from "./chat-chunk-parser";
import { SSEJsonStream } from "./sse";
import { ChatStreamDecoder } from "./stream";

// What the decoder makes of a stream's events, parsed by JSON.parse or by the chunk parser: the
// two must never differ, event by event, whatever the server writes.
function decoded(events: readonly string[], parse: (data: string) => unknown): (StreamChunk[] | string)[] {
  const decoder = new ChatStreamDecoder({ provider: "openai", model: "m" });
  const seen: (StreamChunk[] | string)[] = [];
  for (const data of events) {
    const out: StreamChunk[] = [];
    try {
      decoder.push(parse(data) as never, out);
      seen.push(out);
    } catch (error) {
      seen.push(`${(error as Error).name}`);
    }
  }
  const out: StreamChunk[] = [];
  try {
    decoder.end(out);
    seen.push(out);
  } catch (error) {
    seen.push(`${(error as Error).name}`);
  }
  return seen;
}

const base = {
  id: "chatcmpl-abc",
  object: "chat.completion.chunk",
  created: 1_733_400_000,
  model: "gpt-4o-mini",
  system_fingerprint: "fp_1",
};
const text = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    ...base,
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
    ...extra,
  });
const role = JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" } }] });
const finish = JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
const usage = JSON.stringify({
  ...base,
  choices: [],
  usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("chatChunkParser: a chat stream's text deltas cut from their template", () => {
  it("a plain stream decodes as with JSON.parse, and its text deltas after the first are not parsed", () => {
    const events = [role, ...Array.from({ length: 40 }, (_, i) => text(`word${i} `)), finish, usage];
    const expected = decoded(events, JSON.parse);
    const parse = vi.spyOn(JSON, "parse");
    const parser = chatChunkParser();
    expect(decoded(events, parser)).toEqual(expected);
    // The role, the first text delta (and its probe), the finish and the usage: the other 39 deltas are cut out.
    expect(parse.mock.calls.length).toBe(5);
  });

  it("OpenAI's obfuscation (a random string on every event) is a second gap: the deltas are still not parsed", () => {
    let seed = 3;
    const pad = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return "Vt2zQrX9aB".slice(0, seed % 11);
    };
    const events = [
      JSON.stringify(JSON.parse(role), null, 0).replace(/}$/, `,"obfuscation":"${pad()}"}`),
      ...Array.from({ length: 40 }, (_, i) => text(`word${i} `, { obfuscation: pad() })),
      JSON.stringify({ ...JSON.parse(finish), obfuscation: pad() }),
      usage,
    ];
    const expected = decoded(events, JSON.parse);
    const parse = vi.spyOn(JSON, "parse");
    expect(decoded(events, chatChunkParser())).toEqual(expected);
    expect(parse.mock.calls.length).toBe(5);
  });

  it("the bytes between the two gaps must be the template's: a same-length change there is parsed", () => {
    // `null` → `1234` keeps every length: only the bytes between content and padding tell the events apart.
    const changed = text("x", { obfuscation: "abc" }).replace('"finish_reason":null', '"finish_reason":1234');
    expect(changed.length).toBe(text("x", { obfuscation: "abc" }).length);
    const events = [text("first", { obfuscation: "abc" }), changed];
    expect(decoded(events, chatChunkParser())).toEqual(decoded(events, JSON.parse));
  });

  it("a server whose deltas never repeat costs a few extra parses per stream, not one per event", () => {
    const events = [role, ...Array.from({ length: 40 }, (_, i) => text(`word${i} `, { seq: i })), finish];
    const expected = decoded(events, JSON.parse);
    const parse = vi.spyOn(JSON, "parse");
    expect(decoded(events, chatChunkParser())).toEqual(expected);
    // Every event once, and a probe for each of the four templates learnt.
    expect(parse.mock.calls.length).toBe(events.length + 4);
  });

  it("SSEJsonStream makes its parser once per stream and reads every event through it", async () => {
    const events = [role, text("one "), text("two "), text("three"), finish, usage];
    const body = `${events.map((e) => `data: ${e}\n\n`).join("")}data: [DONE]\n\n`;
    let made = 0;
    const parser = () => {
      made++;
      return chatChunkParser();
    };
    for (let stream = 0; stream < 2; stream++) {
      const decoder = new ChatStreamDecoder({ provider: "openai", model: "m" });
      const out: StreamChunk[] = [];
      for await (const event of new SSEJsonStream<never>(new Response(body), { parser })) decoder.push(event, out);
      decoder.end(out);
      // The whole body is one read: the first delta teaches the template, the two after it come as one.
      expect(out.filter((c) => c.type === "text").map((c) => (c as { text: string }).text)).toEqual([
        "one ",
        "two three",
      ]);
      expect(out.at(-1)).toMatchObject({
        type: "finish",
        finishReason: { unified: "stop" },
        usage: { inputTokens: 3, outputTokens: 5 },
      });
    }
    expect(made).toBe(2);
  });

  it("falls back to parsing whatever is not the template with plain text: escapes, quotes, new fields, other shapes", () => {
    const tool = JSON.stringify({
      ...base,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, id: "call_1", function: { name: "f", arguments: '{"a":' } }] },
        },
      ],
    });
    const toolMore = JSON.stringify({
      ...base,
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: "1}" } }] } }],
    });
    const events = [
      role,
      text("Hello"),
      text(' "quoted" '),
      text("back\\slash"),
      text("line\nbreak"),
      text("tab\there"),
      text("é — 😀 \u2028"),
      text(""),
      text("after"),
      // Obfuscated deltas, then one whose padding's gap holds raw quotes that add usage to the event.
      text("padded", { obfuscation: "abc" }),
      text("padded again", { obfuscation: "abcdef" }),
      text("smuggled", { obfuscation: "abc" }).replace(
        '"obfuscation":"abc"',
        '"obfuscation":"a","usage":{"prompt_tokens":7,"completion_tokens":9,"total_tokens":16},"z":"c"',
      ),
      text("padded at last", { obfuscation: "" }),
      // A second field in the delta: the template's bytes before and after, with quotes between.
      JSON.stringify({
        ...base,
        choices: [{ index: 0, delta: { content: "a", refusal: "b" }, logprobs: null, finish_reason: null }],
      }),
      // OpenAI's obfuscation: a field that changes per event.
      text("obfuscated", { obfuscation: "x1" }),
      text("obfuscated", { obfuscation: "x22" }),
      // Pretty-printed JSON, an escaped key, reasoning beside text, a second choice, usage mid-stream.
      JSON.stringify(JSON.parse(text("pretty")), null, 2),
      text("escaped key").replace('"content"', '"\\u0063ontent"'),
      JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: "t", reasoning_content: "r" } }] }),
      JSON.stringify({
        ...base,
        choices: [
          { index: 0, delta: { content: "a" } },
          { index: 1, delta: { content: "b" } },
        ],
      }),
      text("with usage", { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
      text("back to plain"),
      text("again"),
      tool,
      toolMore,
      text("and text"),
      finish,
      usage,
    ];
    expect(decoded(events, chatChunkParser())).toEqual(decoded(events, JSON.parse));
  });

  it("a decoy: another key with the first delta's text does not become the template", () => {
    // The top level carries "content":"<top>" raw, the delta its text escaped: the one raw match is the decoy's.
    const escaped = (c: string) => [...c].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
    const decoy = (top: string, delta: string) =>
      `{"content":"${top}","id":"chatcmpl-abc","choices":[{"index":0,"delta":{"content":"${escaped(delta)}"}}]}`;
    expect(
      (JSON.parse(decoy("same", "same")) as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content,
    ).toBe("same");
    // Were the decoy's gap taken for the delta's, the second event would read "other" where the delta says "same".
    const events = [decoy("same", "same"), decoy("other", "same"), decoy("third", "same")];
    expect(decoded(events, chatChunkParser())).toEqual(decoded(events, JSON.parse));
  });

  it("malformed events throw SyntaxError as JSON.parse does, also once a template is known", () => {
    const parser = chatChunkParser();
    parser(text("first"));
    const raw = text("x");
    const cut = raw.slice(0, raw.indexOf('"content"') + 11);
    // A raw control character where the template's text goes: the template's bytes around it, and not JSON.
    const control = raw.replace('"content":"x"', '"content":"a\u0001b"');
    // The same in the obfuscation's gap, once a template with one is known.
    const padded = chatChunkParser();
    padded(text("first", { obfuscation: "abc" }));
    const badPadding = text("x", { obfuscation: "abc" }).replace('"obfuscation":"abc"', '"obfuscation":"a\u0001c"');
    expect(() => JSON.parse(badPadding)).toThrow(SyntaxError);
    expect(() => padded(badPadding)).toThrow(SyntaxError);
    // The padding's opening quote taken for its closing one: the template's bytes overlap, and not JSON.
    const learnt = text("x", { obfuscation: "abc" });
    const overlapping = learnt.replace('"obfuscation":"abc"}', '"obfuscation":"}');
    expect(() => JSON.parse(overlapping)).toThrow(SyntaxError);
    expect(() => padded(overlapping)).toThrow(SyntaxError);
    for (const bad of [control, cut, `${raw}}`, "{", ""]) {
      expect(() => JSON.parse(bad), bad).toThrow(SyntaxError);
      expect(() => parser(bad), bad).toThrow(SyntaxError);
    }
  });

  it("text deltas read together are handed on as one; one that arrives on its own is handed on as it comes", async () => {
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const bytes = new TextEncoder();
    const send = (...events: string[]) => feed.enqueue(bytes.encode(events.map((e) => `data: ${e}\n\n`).join("")));
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
    const stream = new SSEJsonStream<never>(new Response(body), { parser: chatChunkParser });
    // Each event's text delta, or what else it is.
    const next = async () => {
      const result = (await stream.next()) as IteratorResult<{
        choices: { delta: { content?: string }; finish_reason?: string }[];
      }>;
      if (result.done) return "done";
      const choice = result.value.choices[0];
      return choice?.finish_reason ? `finish: ${choice.finish_reason}` : choice?.delta.content;
    };
    send(role, text("a"));
    expect(await next()).toBe(""); // the role chunk
    expect(await next()).toBe("a");
    // A delta alone in its read is not held back for the next.
    send(text("b"));
    expect(await next()).toBe("b");
    // Three in one read: one event, in order. A finish stops the joining and comes next, on its own.
    send(text("c"), text("d"), text("e"), finish, text("f"));
    expect(await next()).toBe("cde");
    expect(await next()).toBe("finish: stop");
    expect(await next()).toBe("f");
    // Only a lone `data:` line and its blank line is joined: a comment, an `event:` line, an escape
    // (which the template does not cut) each end the run, and what ends it is read as ever.
    feed.enqueue(
      bytes.encode(
        `data: ${text("g")}\n\ndata:${text("h")}\n\n: keep-alive\n\ndata: ${text("i")}\n\nevent: delta\ndata: ${text("j")}\n\ndata: ${text("k\n")}\n\n`,
      ),
    );
    expect(await next()).toBe("gh");
    expect(await next()).toBe("i");
    expect(await next()).toBe("j");
    expect(await next()).toBe("k\n");
    // An event whose blank line has not arrived yet is not taken early: it comes with the next read.
    feed.enqueue(bytes.encode(`data: ${text("l")}\n\ndata: ${text("m")}\n`));
    expect(await next()).toBe("l");
    feed.enqueue(bytes.encode(`\ndata: ${text("n")}\n\ndata: [DONE]\n\n`));
    expect(await next()).toBe("mn");
    feed.close();
    expect(await next()).toBe("done");
  });

  it("a delta over maxEventBytes right after a run is not joined: the run comes, then the stream fails as it always did", async () => {
    const body = `${[text("a"), text("b"), text("c"), text("z".repeat(500)), text("d")].map((e) => `data: ${e}\n\n`).join("")}`;
    for (const maxEventBytes of [400, text("z".repeat(500)).length - 1]) {
      const stream = new SSEJsonStream<{ choices: { delta: { content: string } }[] }>(new Response(body), {
        parser: chatChunkParser,
        maxEventBytes,
        provider: "openai",
      });
      const seen: string[] = [];
      const error = await (async () => {
        for await (const event of stream) seen.push(event.choices[0]?.delta.content ?? "");
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(seen).toEqual(["a", "bc"]);
      expect((error as Error).message).toMatch(/larger than \d+ bytes/);
    }
    // At the bound exactly, it is an event like any other, joined.
    const atBound = new SSEJsonStream<{ choices: { delta: { content: string } }[] }>(new Response(body), {
      parser: chatChunkParser,
      maxEventBytes: text("z".repeat(500)).length,
    });
    const texts: string[] = [];
    for await (const event of atBound) texts.push(event.choices[0]?.delta.content ?? "");
    expect(texts).toEqual(["a", `bc${"z".repeat(500)}d`]);
  });

  it("random streams in random reads (a differential fuzz): the same text and the same other chunks as JSON.parse", async () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const alphabet = ["a", "b", " ", '"', "\\", "\n", "é", "😀", "{", "}", ":"];
    const word = () =>
      Array.from({ length: Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    // Text chunks next to each other joined: what a reader of the text sees, whatever the chunking.
    const normalised = (chunks: (StreamChunk | string)[]) => {
      const out: (StreamChunk | string)[] = [];
      for (const c of chunks) {
        const last = out.at(-1);
        if (typeof c !== "string" && c.type === "text" && typeof last !== "string" && last?.type === "text")
          out[out.length - 1] = { type: "text", text: last.text + c.text };
        else out.push(c);
      }
      return out;
    };
    const read = async (body: string, cuts: number[], parser?: typeof chatChunkParser) => {
      const all = new TextEncoder().encode(body);
      const parts = [0, ...cuts.filter((c) => c < all.length), all.length];
      const source = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 1; i < parts.length; i++) c.enqueue(all.slice(parts[i - 1], parts[i]));
          c.close();
        },
      });
      const decoder = new ChatStreamDecoder({ provider: "openai", model: "m" });
      const out: (StreamChunk | string)[] = [];
      let events = 0;
      try {
        for await (const event of new SSEJsonStream<never>(new Response(source), parser ? { parser } : {})) {
          events++;
          decoder.push(event, out as StreamChunk[]);
        }
        decoder.end(out as StreamChunk[]);
      } catch (error) {
        out.push((error as Error).name);
      }
      return { chunks: out, events };
    };
    let joinedAway = 0;
    for (let run = 0; run < 300; run++) {
      const events: string[] = [role];
      for (let i = 0; i < 30; i++) {
        const r = random();
        if (r < 0.75) events.push(text(word(), run % 2 === 1 ? { obfuscation: word() } : {}));
        else if (r < 0.8) events.push(finish);
        else if (r < 0.85) events.push(usage);
        else if (r < 0.9)
          events.push(JSON.stringify({ ...base, choices: [{ index: 0, delta: { reasoning: word() } }] }));
        else events.push(text(word(), { id: "chatcmpl-other" }));
      }
      const body = `${events.map((e) => (random() < 0.1 ? `: ping\n\ndata:${e}\n\n` : `data: ${e}\n\n`)).join("")}data: [DONE]\n\n`;
      const cuts = Array.from({ length: Math.floor(random() * 8) }, () =>
        Math.floor(random() * body.length * 1.2),
      ).sort((a, b) => a - b);
      const expected = await read(body, cuts);
      const got = await read(body, cuts, chatChunkParser);
      expect(normalised(got.chunks)).toEqual(normalised(expected.chunks));
      joinedAway += expected.events - got.events;
    }
    // The joining did happen (a run of deltas in one read is the common case here).
    expect(joinedAway).toBeGreaterThan(300);
  });

  it("random streams (a differential fuzz): the same chunks as JSON.parse, event by event", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const alphabet = ["a", "b", " ", '"', "\\", "\n", "\u0001", "é", "😀", "{", "}", ":", ","];
    const word = () =>
      Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    for (let run = 0; run < 600; run++) {
      const events: string[] = [role];
      const id = random() < 0.5 ? "chatcmpl-abc" : "chatcmpl-xyz";
      // Half the streams pad every text delta as OpenAI does (the padding itself random, quotes and all).
      const obfuscated = run % 2 === 1;
      for (let i = 0; i < 30; i++) {
        const r = random();
        if (r < 0.7) events.push(text(word(), random() < 0.1 ? { id } : obfuscated ? { obfuscation: word() } : {}));
        else if (r < 0.8) events.push(text(word(), { obfuscation: word() }));
        else if (r < 0.85) events.push(finish);
        else if (r < 0.9) events.push(usage);
        else if (r < 0.95)
          events.push(JSON.stringify({ ...base, choices: [{ index: 0, delta: { reasoning: word() } }] }));
        else events.push(`${text(word())}${random() < 0.5 ? "" : " "}`);
      }
      expect(decoded(events, chatChunkParser())).toEqual(decoded(events, JSON.parse));
    }
  });
});
