import { createServer } from "node:net";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ProviderError, closestNames, displayUrl } from "./index";
import { describeConnectionError, toOrchestratorError } from "./internal";

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function fetchError(url: string): Promise<unknown> {
  try {
    await fetch(url);
  } catch (error) {
    return error;
  }
  throw new Error(`fetch ${url} did not fail`);
}

describe("connection errors say where and why", () => {
  it("a refused connection names the address and the reason Node buried in cause.cause", async () => {
    const port = await closedPort();
    const error = toOrchestratorError(await fetchError(`http://127.0.0.1:${port}/v1/chat/completions`), {
      provider: "p",
      model: "m",
    });
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(
      `Connection to the provider failed: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it("an unknown host names the host", async () => {
    const error = toOrchestratorError(await fetchError("http://no-such-host.invalid/v1"));
    expect(error.message).toMatch(
      /^Connection to the provider failed: fetch failed \(getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid\)$/,
    );
  });

  it("one failure per address (an AggregateError without a message of its own) lists each", () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: "ECONNREFUSED" });
    const aggregate = Object.assign(new AggregateError([refused("::1:11434"), refused("127.0.0.1:11434")], ""), {
      code: "ECONNREFUSED",
    });
    const error = new TypeError("fetch failed", { cause: aggregate });
    expect(describeConnectionError(error)).toBe(
      "fetch failed (connect ECONNREFUSED ::1:11434; connect ECONNREFUSED 127.0.0.1:11434)",
    );
  });

  it("never shows a URL's userinfo or its query string", async () => {
    const port = await closedPort();
    const error = toOrchestratorError(
      await fetchError(`http://someone:pw-hunter2@127.0.0.1:${port}/v1?api-key=k-123456789&x=1`),
    );
    expect(error.message).toContain(`http://127.0.0.1:${port}/v1`);
    expect(error.message).not.toMatch(/someone|hunter2|k-123456789|api-key/);
    // Nor the cause it carries, as logs print it.
    expect(inspect(error)).not.toMatch(/someone|hunter2|k-123456789/);
    expect(JSON.stringify(error)).not.toMatch(/someone|hunter2|k-123456789/);
    expect(describeConnectionError(new Error("GET https://bob@example.com/path?token=abc failed"))).toBe(
      "GET https://example.com/path failed",
    );
  });

  it("displayUrl keeps scheme, host, port and path", () => {
    expect(displayUrl("https://user:pass@api.example.com:8443/v1/?key=secret#frag")).toBe(
      "https://api.example.com:8443/v1/",
    );
    expect(displayUrl("http://localhost:11434")).toBe("http://localhost:11434");
    expect(displayUrl("not a url")).toBeUndefined();
  });
});

it("closestNames suggests a name once even when it is listed twice", () => {
  expect(closestNames("visoin", ["textGeneration", "vision", "text_generation", "vision"], 2)).toEqual(["vision"]);
});

it("closestNames answers at once for a name no typo makes (a request's megabytes-long model name)", () => {
  const known = Array.from({ length: 20 }, (_, i) => `model-${i}-with-a-longer-name`);
  const huge = "m".repeat(3_000_000);
  const started = performance.now();
  expect(closestNames(huge, known)).toEqual([]);
  // The edit distance over it took ~6 s for these twenty names; skipped, it is a length check.
  expect(performance.now() - started).toBeLessThan(50);
  expect(closestNames("model-3-with-a-longer-nam", known)[0]).toBe("model-3-with-a-longer-name");
});
