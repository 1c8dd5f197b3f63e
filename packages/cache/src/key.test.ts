import type { GenerateRequest, ModelIdentity } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createHash } from "node:crypto";
import { cacheKey, canonicalJson, normalizeRequest } from "./key";

const model = { name: "gpt-x", provider: "openai" };
const base: GenerateRequest = { messages: [{ role: "user", content: "What is AI?" }], temperature: 0.2 };

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined }], c: "x" } })).toBe(
      '{"a":{"c":"x","d":[1,{"z":1}]},"b":1}',
    );
  });
});

describe("cacheKey", () => {
  it("is the same for the same request however it is written", () => {
    const again: GenerateRequest = {
      temperature: 0.2,
      messages: [{ content: "What is AI?", role: "user" }],
      topP: undefined,
    };
    expect(cacheKey(model, again)).toBe(cacheKey(model, base));
  });

  it("ignores transport concerns: signal, timeout, cache flag, task", () => {
    const withExtras: GenerateRequest = {
      ...base,
      signal: new AbortController().signal,
      timeoutMs: 5,
      cache: "refresh",
      task: "code",
    };
    expect(cacheKey(model, withExtras)).toBe(cacheKey(model, base));
  });

  it("differs whenever what the model sees differs", () => {
    const variants: GenerateRequest[] = [
      { ...base, messages: [{ role: "user", content: "What is ML?" }] },
      // Reasoning asked for, and how much (an answer with thinking is another answer).
      { ...base, reasoning: { effort: "low" } },
      { ...base, reasoning: { effort: "high" } },
      { ...base, reasoning: { budgetTokens: 8192 } },
      // One tool call at most is another answer than several.
      { ...base, parallelToolCalls: false },
      { ...base, messages: [{ role: "system", content: "Be brief." }, ...base.messages] },
      {
        ...base,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is AI?" },
              { type: "image", url: "https://x/a.png" },
            ],
          },
        ],
      },
      {
        ...base,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is AI?" },
              { type: "image", url: "https://x/b.png" },
            ],
          },
        ],
      },
      {
        ...base,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is AI?" },
              { type: "image", data: "AAAA", mediaType: "image/png" },
            ],
          },
        ],
      },
      { ...base, temperature: 0.3 },
      { ...base, maxTokens: 10 },
      { ...base, topP: 0.9 },
      { ...base, stop: ["\n"] },
      { ...base, seed: 7 },
      { ...base, tools: [{ name: "search", parameters: { type: "object", properties: { q: { type: "string" } } } }] },
      { ...base, tools: [{ name: "search", parameters: { type: "object", properties: { q: { type: "number" } } } }] },
      { ...base, tools: [{ name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } }] },
      // OpenAI's strict function calling changes what the model may answer.
      {
        ...base,
        tools: [
          { name: "search", parameters: { type: "object", properties: { q: { type: "string" } } }, strict: true },
        ],
      },
      { ...base, toolChoice: "required" },
      { ...base, responseFormat: { type: "json" } },
      { ...base, responseFormat: { type: "json", schema: z.object({ answer: z.string() }) } },
      { ...base, providerOptions: { openai: { user: "u1" } } },
    ];
    const keys = new Set([cacheKey(model, base), ...variants.map((v) => cacheKey(model, v))]);
    expect(keys.size).toBe(variants.length + 1);
    expect(cacheKey({ ...model, name: "gpt-y" }, base)).not.toBe(cacheKey(model, base));
    expect(cacheKey({ ...model, provider: "azure" }, base)).not.toBe(cacheKey(model, base));
  });

  it("differs with the model's cacheIdentity: one name on another API model or endpoint is another model", () => {
    const a = {
      ...model,
      cacheIdentity: '{"baseURL":"https://a/v1","model":"gpt-4o","name":"gpt-x","provider":"openai"}',
    };
    const b = {
      ...model,
      cacheIdentity: '{"baseURL":"https://b/v1","model":"gpt-4o","name":"gpt-x","provider":"openai"}',
    };
    expect(new Set([cacheKey(model, base), cacheKey(a, base), cacheKey(b, base)]).size).toBe(3);
    expect(cacheKey({ ...a }, base)).toBe(cacheKey(a, base));
    // Models asking in turn each keep their own key (the identity's quoting is memoised).
    const digest = (who: ModelIdentity) =>
      `orc:${createHash("sha256")
        .update(canonicalJson(normalizeRequest(who, base)))
        .digest("base64url")}`;
    for (const who of [a, b, a, model, b, { ...a, cacheIdentity: 'quote " and \\ backslash' }])
      expect(cacheKey(who, base)).toBe(digest(who));
  });

  it("hashes a zod schema and its JSON Schema alike", () => {
    const schema = z.object({ answer: z.string() });
    const asJson = z.toJSONSchema(schema) as Record<string, unknown>;
    delete asJson.$schema;
    const a = cacheKey(model, { ...base, tools: [{ name: "t", parameters: schema }] });
    const b = cacheKey(model, { ...base, tools: [{ name: "t", parameters: asJson }] });
    expect(a).toBe(b);
  });

  it("stays the same digest across versions, so entries stored by an earlier release still hit", () => {
    expect(cacheKey(model, base)).toBe("orc:9JEcha7V96VzbZZ97n2OtCkbMLjkBBgJG2FbLLCguWY");
  });

  it("is the sha256 of the canonical normalized request, whatever the request holds", () => {
    const requests: GenerateRequest[] = [
      base,
      { messages: [] },
      {
        ...base,
        maxTokens: 10,
        topP: 0.9,
        stop: ["\n"],
        seed: 7,
        toolChoice: "required",
        parallelToolCalls: false,
        providerOptions: { x: { '\u2028"k': 1, "10": 2, "9": [undefined, null, Number.NaN] } },
        reasoning: { effort: "high" },
      },
      { ...base, reasoning: { budgetTokens: 2048 } },
      {
        ...base,
        tools: [{ name: "t", parameters: z.object({ q: z.string() }) }],
        responseFormat: { type: "json", schema: z.object({ a: z.number() }) },
      },
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "é\ud800" },
              { type: "image", url: "https://x/a.png" },
            ],
          },
        ],
      },
      {
        messages: [
          { content: 'a\n"b"', role: "user" },
          { role: "assistant", content: "", toolCalls: [{ id: "1", name: "t", arguments: {} }] },
          { role: "tool", content: "42", toolCallId: "1" },
        ],
      },
    ];
    for (const who of [model, { ...model, cacheIdentity: '{"model":"gpt-4o","name":"gpt-x","provider":"openai"}' }]) {
      for (const request of requests) {
        const digest = createHash("sha256")
          .update(canonicalJson(normalizeRequest(who, request)))
          .digest("base64url");
        expect(cacheKey(who, request)).toBe(`orc:${digest}`);
      }
    }
  });

  it("prefixes the namespace", () => {
    expect(cacheKey(model, base, "app1").startsWith("app1:")).toBe(true);
    expect(cacheKey(model, base, "app1")).not.toBe(cacheKey(model, base, "app2"));
  });
});
