import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { cacheIdentityOf, endpointIdentity, headersIdentity } from "./cache-identity";
import { ConfigError } from "./errors";
import { Model } from "./model";
import { Secret } from "./redact";
import type { ModelOutput } from "./types";

class Echo extends Model {
  protected async doGenerate(): Promise<ModelOutput> {
    return { text: "ok" };
  }
}

describe("cacheIdentityOf", () => {
  it("is canonical JSON of name, provider and the declared parts, whatever their order", () => {
    const a = cacheIdentityOf("chat", "openai", {
      model: "gpt-4o",
      baseURL: "https://a/v1",
      nested: { y: 1, x: [2, undefined] },
    });
    const b = cacheIdentityOf("chat", "openai", {
      nested: { x: [2, undefined], y: 1 },
      baseURL: "https://a/v1",
      model: "gpt-4o",
      unset: undefined,
    });
    expect(a).toBe(b);
    expect(a).toBe(
      '{"baseURL":"https://a/v1","model":"gpt-4o","name":"chat","nested":{"x":[2,null],"y":1},"provider":"openai"}',
    );
    expect(cacheIdentityOf("chat", "openai")).toBe('{"name":"chat","provider":"openai"}');
  });

  it("differs when anything that decides the answer differs", () => {
    const ids = new Set([
      cacheIdentityOf("chat", "openai", { model: "gpt-4o", baseURL: "https://a/v1" }),
      cacheIdentityOf("chat", "openai", { model: "gpt-4o-mini", baseURL: "https://a/v1" }),
      cacheIdentityOf("chat", "openai", { model: "gpt-4o", baseURL: "https://b/v1" }),
      cacheIdentityOf("chat", "openai", { model: "gpt-4o", baseURL: "https://a/v1", maxTokens: 10 }),
      cacheIdentityOf("chat", "openai", { model: "gpt-4o", baseURL: "https://a/v1", maxTokens: 11 }),
      cacheIdentityOf("chat", "azure", { model: "gpt-4o", baseURL: "https://a/v1" }),
      cacheIdentityOf("chat2", "openai", { model: "gpt-4o", baseURL: "https://a/v1" }),
    ]);
    expect(ids.size).toBe(7);
  });

  it("never holds a credential: Secrets, members named like credentials, registered secrets in text", () => {
    const key = "sk-proj-abcdefghijklmnop1234";
    const token = new Secret("tok-registered-0123456789");
    const id = cacheIdentityOf("m", "custom", {
      apiKey: key,
      accessToken: "plain-text-token-value",
      auth: token,
      note: `uses ${token.reveal()}`,
      maxTokens: 5,
    });
    for (const secret of [key, "plain-text-token-value", token.reveal()]) expect(id).not.toContain(secret);
    expect(JSON.parse(id)).toMatchObject({
      apiKey: "[REDACTED]",
      accessToken: "[REDACTED]",
      auth: "[REDACTED]",
      maxTokens: 5,
    });
  });

  it("rejects declared parts that are not an object, or that refer to themselves, with a ConfigError naming the field", () => {
    expect(() => cacheIdentityOf("m", "custom", "gpt-4" as unknown as Record<string, unknown>)).toThrow(ConfigError);
    const cyclic: Record<string, unknown> = { model: "x" };
    cyclic.self = cyclic;
    const error = (() => {
      try {
        cacheIdentityOf("m", "custom", cyclic);
      } catch (e) {
        return e;
      }
    })();
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("cacheIdentity");
  });
});

describe("endpointIdentity", () => {
  it("keeps scheme, host, port, path and behaviour-changing query parameters; drops userinfo, fragment and credential parameters", () => {
    expect(
      endpointIdentity(
        "https://user:s3cretpass@example.openai.azure.com/openai/deployments/chat/?api-version=2024-10-21&api-key=abc123xyz&sig=zzz#frag",
      ),
    ).toBe("https://example.openai.azure.com/openai/deployments/chat/?api-version=2024-10-21");
    expect(endpointIdentity("http://127.0.0.1:8000/v1/")).toBe("http://127.0.0.1:8000/v1");
    expect(endpointIdentity("https://tok@host/v1?token=t&key=k")).toBe("https://host/v1");
    expect(endpointIdentity(undefined)).toBeUndefined();
    expect(endpointIdentity("not a url?key=abc")).toBe("not a url");
  });
});

describe("headersIdentity", () => {
  it("keeps headers that can change answers and drops credential headers", () => {
    expect(
      headersIdentity({
        "anthropic-beta": "tools-2024",
        Authorization: "Bearer sk-abcdefghijk",
        "x-api-key": "k",
        "X-Portkey-Provider": "openai",
        Cookie: "a=b",
        "x-session-id": "s",
      }),
    ).toEqual({ "anthropic-beta": "tools-2024", "x-portkey-provider": "openai" });
    expect(headersIdentity({ authorization: "x" })).toBeUndefined();
    expect(headersIdentity(undefined)).toBeUndefined();
  });
});

describe("Model.cacheIdentity", () => {
  it("is computed once from name, provider and the declared cacheIdentity, and is never a secret", () => {
    const apiKey = new Secret("sk-live-0123456789abcdef");
    const model = new Echo({ name: "chat", provider: "custom", cacheIdentity: { endpoint: "https://x/v1", apiKey } });
    expect(model.cacheIdentity).toBe(
      '{"apiKey":"[REDACTED]","endpoint":"https://x/v1","name":"chat","provider":"custom"}',
    );
    expect(new Echo({ name: "chat", provider: "custom" }).cacheIdentity).toBe('{"name":"chat","provider":"custom"}');
    expect(inspect(model)).not.toContain(apiKey.reveal());
    expect(JSON.stringify(model)).not.toContain(apiKey.reveal());
  });
});
