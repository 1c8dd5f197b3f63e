import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { ModelRegistry } from "./registry";
import { ask } from "./test-helpers";

const STILL_PENDING = "still pending";
/** The value of `promise`, or `STILL_PENDING` when it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof STILL_PENDING> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof STILL_PENDING>((resolve) => {
    timer = setTimeout(() => resolve(STILL_PENDING), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe("leaving a registry stream while it waits", () => {
  it("return() during a retry's backoff settles the pending next() at once, and no retry follows", async () => {
    const registry = new ModelRegistry({ backoff: { initialMs: 5_000, jitter: "none" } });
    const model = registry.registerModel(new FakeModel({ name: "a", script: [{ fail: "server-error" }] }));
    const failed = new Promise<void>((resolve) => registry.on("outcome", () => resolve()));
    const iterator = registry.stream(ask("x"))[Symbol.asyncIterator]();
    const next = iterator.next();
    await failed;
    // The stream now sleeps 5 s before retrying; the caller leaves.
    expect(await within(iterator.return?.() ?? Promise.resolve(undefined), 500)).toEqual({
      done: true,
      value: undefined,
    });
    expect(await within(next, 500)).toEqual({ done: true, value: undefined });
    expect(await within(iterator.next(), 500)).toEqual({ done: true, value: undefined });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(model.calls).toBe(1);
    expect(registry.explainSelection().candidates[0]?.pending).toBe(0);
  });

  it("return() while every model is at its limits settles the pending next() at once", async () => {
    const registry = new ModelRegistry({ waitForCapacityMs: 10_000 });
    const model = registry.registerModel(
      new FakeModel({ name: "a", latencyMs: 10_000, constraints: { maxConcurrentRequests: 1 } }),
    );
    const busy = new AbortController();
    const running = registry.generate(ask("long", { signal: busy.signal })).catch(() => undefined);
    while (!model.rateLimiter.isSaturated()) await new Promise((resolve) => setTimeout(resolve, 1));
    const iterator = registry.stream(ask("x"))[Symbol.asyncIterator]();
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await within(iterator.return?.() ?? Promise.resolve(undefined), 500)).toEqual({
      done: true,
      value: undefined,
    });
    expect(await within(next, 500)).toEqual({ done: true, value: undefined });
    busy.abort();
    await running;
    expect(model.calls).toBe(1);
    expect(registry.explainSelection().candidates[0]?.pending).toBe(0);
  });

  it("an abort during a retry's backoff rejects the pending next() at once with AbortError", async () => {
    const registry = new ModelRegistry({ backoff: { initialMs: 5_000, jitter: "none" } });
    const model = registry.registerModel(new FakeModel({ name: "a", script: [{ fail: "server-error" }] }));
    const controller = new AbortController();
    registry.on("outcome", () => controller.abort());
    const iterator = registry.stream(ask("x", { signal: controller.signal }))[Symbol.asyncIterator]();
    const outcome = await within(
      iterator.next().then(
        () => "resolved",
        (error: unknown) => (error as { code?: string }).code,
      ),
      500,
    );
    expect(outcome).toBe("abort_error");
    expect(model.calls).toBe(1);
    expect(registry.explainSelection().candidates[0]?.pending).toBe(0);
  });
});
