import { describe, expect, it } from "vitest";
import { REDACTED, Secret, redact, registerSecret, redactObject, registerSecretHeaders } from "./index";

describe("redact: credentials nobody registered", () => {
  const leaks: [string, string, string][] = [
    ["an Authorization header", "rejected header Authorization: Bearer abc123def456ghi", "abc123def456ghi"],
    ["a custom auth scheme in a header", "authorization: Token 9f8e7d6c5b4a", "9f8e7d6c5b4a"],
    ["a JSON-echoed x-api-key", '{"headers":{"x-api-key":"k3y-abc-123456"}}', "k3y-abc-123456"],
    ["an api-key header", "api-key: 0123456789abcdef", "0123456789abcdef"],
    [
      "an Azure SAS signature",
      "GET https://acct.blob.core.windows.net/c/b.png?sv=2022-11-02&sig=AbC%2Bdef123%3D&se=2030 failed",
      "AbC%2Bdef123%3D",
    ],
    ["an OAuth code", "redirect to https://app.example/cb?state=xyz&code=4/0AY0e-g7QwErTy", "4/0AY0e-g7QwErTy"],
    [
      "a key= parameter",
      "GET /v1beta/models?key=AIzaSyD-abcdefghijklmnopqrstuvwxyz012 404",
      "AIzaSyD-abcdefghijklmnopqrstuvwxyz012",
    ],
    ["a token= parameter", "wss://host/stream?token=tok_5a6b7c8d", "tok_5a6b7c8d"],
    [
      "an X-Amz-Signature",
      "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAEXAMPLE%2F2024&X-Amz-Signature=deadbeef01",
      "deadbeef01",
    ],
    ["a password in a URL", "connect ECONNREFUSED redis://default:pa55w0rd@10.0.0.1:6379", "pa55w0rd"],
    ["a password without a user", "redis://:hunter2hunter2@cache:6379/0", "hunter2hunter2"],
    ["a token as the URL's user", "fetch https://ghp_abcdefghijklmnop0123@github.com/o/r", "ghp_abcdefghijklmnop0123"],
    ["an OpenAI project key", "Incorrect API key provided: sk-proj-AbCdEf0123456789", "sk-proj-AbCdEf0123456789"],
    ["a Stripe-style key", "key sk_live_51Habcdefghijk", "sk_live_51Habcdefghijk"],
    ["a Groq key", "invalid gsk_abcdefghij0123456789", "gsk_abcdefghij0123456789"],
    [
      "a JWT",
      "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U rejected",
      "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
    ["an AWS access key id", "The AWS Access Key Id AKIAIOSFODNN7EXAMPLE does not exist", "AKIAIOSFODNN7EXAMPLE"],
    ["a password field", 'body {"user":"bob","password":"s3cr3t-pw"}', "s3cr3t-pw"],
  ];
  it.each(leaks)("scrubs %s", (_, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  const prose: string[] = [
    "Invalid ModelRegistry options: apiKey: must be a string",
    "models.yaml:5:19: models[0].config.api_key: expected a string, got a number",
    "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (max_tokens: 100).",
    "GET https://api.example/v1/models?api-version=2024-06-01&limit=20 returned 404",
    "connect ECONNREFUSED http://127.0.0.1:11434/api/chat",
    "token: must be a non-empty string",
  ];
  it.each(prose)("leaves ordinary messages readable: %s", (text) => {
    expect(redact(text)).toBe(text);
  });

  it("keeps the user of a URL and the name of a parameter, so the message still says where", () => {
    expect(redact("redis://default:pa55w0rd@10.0.0.1:6379")).toBe(`redis://default:${REDACTED}@10.0.0.1:6379`);
    expect(redact("https://h/p?sv=1&sig=abc123&se=2")).toBe(`https://h/p?sv=1&sig=${REDACTED}&se=2`);
  });

  it("is linear on hostile input (1 MB of near-matches: milliseconds to a few hundred, never quadratic)", () => {
    const inputs = [
      "//a:".repeat(250_000),
      "?a-b-c-d=".repeat(110_000),
      "authorization: ".repeat(70_000),
      "sk-".repeat(330_000),
      "&sig".repeat(250_000),
    ];
    for (const input of inputs) {
      const t0 = performance.now();
      redact(input);
      expect(performance.now() - t0).toBeLessThan(2_000);
    }
  });
});

describe("redactObject", () => {
  it("redacts credential-named fields however they are spelled, headers included, and keeps the rest", () => {
    // Values no pattern would recognise: only the field's name says they are secret.
    const out = redactObject({
      headers: { "x-api-key": "plain-words-key", Authorization: "Bearer opaque", accept: "application/json" },
      master_key: "letmein",
      name: "gateway",
    });
    expect(out).toEqual({
      headers: { "x-api-key": "[REDACTED]", Authorization: "[REDACTED]", accept: "application/json" },
      master_key: "[REDACTED]",
      name: "gateway",
    });
  });
});

describe("registerSecretHeaders", () => {
  it("registers the values of credential headers only, whatever their shape", () => {
    registerSecretHeaders({
      "X-Portkey-Api-Key": "plainproxyvalue",
      Authorization: "Custom zzqqxxww",
      "content-type": "application/json",
      "x-trace": "trace-visible-1",
    });
    const echoed = redact(
      "server says: bad key plainproxyvalue for zzqqxxww; content-type application/json; trace trace-visible-1",
    );
    expect(echoed).not.toContain("plainproxyvalue");
    expect(echoed).not.toContain("zzqqxxww");
    expect(echoed).toContain("application/json");
    expect(echoed).toContain("trace-visible-1");
  });
});

describe("redact: registered secrets", () => {
  it("scrubs registered secrets, the longest first when one extends another", () => {
    registerSecret("alpha-secret");
    registerSecret("alpha-secret-longer");
    expect(redact("a alpha-secret-longer b alpha-secret c")).toBe("a [REDACTED] b [REDACTED] c");
    expect(redact("nothing here")).toBe("nothing here");
  });

  it("stays fast and exact with thousands of secrets (a config of 8,000 keyed models took 47 s and 700 MB)", () => {
    const started = performance.now();
    // Registration interleaved with redaction, as a config loader does (a Secret per model, an issue per model).
    for (let i = 0; i < 10_000; i++) {
      new Secret(`sk-many-${i}-abcdefgh`);
      if (i % 10 === 0) redact(`model ${i}: bad value sk-many-${i}-abcdefgh`);
    }
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(redact("x sk-many-4242-abcdefgh y alpha-secret-longer z alpha-secret")).toBe(
      "x [REDACTED] y [REDACTED] z [REDACTED]",
    );
    expect(redact("sk-many-99999-abcdefgh is not registered but looks like a key")).toBe(
      "[REDACTED] is not registered but looks like a key",
    );
    expect(redact("plain text that holds no secret")).toBe("plain text that holds no secret");
  });
});
