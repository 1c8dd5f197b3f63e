import { ConfigError, type ModelSelector, OrchestratorError } from "@orchestrator-ts/core";
import { FakeModel, collectAll } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import { CostBasedSelector, PerformanceSelector } from "../cost-performance-selectors";
import { ModelRegistry } from "../registry";
import { RoundRobinSelector } from "../simple-selectors";
import { ask } from "../test-helpers";
import { CascadeRoute, extractors, RouteNotFoundError, SelectorRoute } from "./index";

function setup() {
  const registry = new ModelRegistry({
    modelSelector: new CostBasedSelector(),
    maxRetries: 0,
    maxFallbacks: 2,
    backoff: { initialMs: 1, maxMs: 2 },
    fallbacks: { pricey: ["mid"] },
  });
  const cheap = registry.registerModel(
    new FakeModel({ name: "cheap", capabilities: { inputCostPerToken: 1e-7, outputCostPerToken: 1e-7 } }),
  );
  const mid = registry.registerModel(
    new FakeModel({
      name: "mid",
      capabilities: { inputCostPerToken: 5e-7, outputCostPerToken: 5e-7, codeGeneration: true },
    }),
  );
  const pricey = registry.registerModel(
    new FakeModel({
      name: "pricey",
      capabilities: { inputCostPerToken: 1e-5, outputCostPerToken: 1e-5, codeGeneration: true },
    }),
  );
  return { registry, cheap, mid, pricey };
}

describe("routes: auto, a model's name, a route's name", () => {
  it("route: <model name> asks that model, not the selector's choice, and the model never sees the route field", async () => {
    const { registry, pricey } = setup();
    expect((await registry.generate(ask("hi"))).model).toBe("cheap");
    const r = await registry.generate({ ...ask("hi"), route: "pricey" });
    expect(r.model).toBe("pricey");
    expect(r.explanation.candidates.find((c) => c.chosen)?.note).toBe("requested by name (fallbacks: mid)");
    expect(pricey.lastRequest).toBeDefined();
    expect(pricey.lastRequest).not.toHaveProperty("route");
    // "auto" is the selector over every model.
    expect((await registry.generate({ ...ask("hi"), route: "auto" })).model).toBe("cheap");
  });

  it("a pinned model that fails falls back along its configured fallbacks only, never to the selector's pick", async () => {
    const { registry, pricey, mid } = setup();
    pricey.enqueue({ fail: "server-error" });
    const r = await registry.generate({ ...ask("hi"), route: "pricey" });
    expect(r.attempts.map((a) => `${a.model}${a.success ? "" : "✗"}`).join(" ")).toBe("pricey✗ mid");
    pricey.enqueue({ fail: "server-error" });
    mid.enqueue({ fail: "server-error" });
    // "cheap" is the selector's favourite, but the request asked for "pricey": no silent switch.
    await expect(registry.generate({ ...ask("hi"), route: "pricey" })).rejects.toMatchObject({
      code: "provider_error",
    });
  });

  it("a selector route applies its requirements and its own selector; the call's requirements add up", async () => {
    const { registry } = setup();
    registry.addRoute(new SelectorRoute({ name: "code", requirements: { capabilities: ["codeGeneration"] } }));
    expect((await registry.generate({ ...ask("x"), route: "code" })).model).toBe("mid");
    const robin: ModelSelector = new RoundRobinSelector();
    registry.addRoute(new SelectorRoute({ name: "spread", selector: robin }));
    const models = [];
    for (let i = 0; i < 3; i++) models.push((await registry.generate({ ...ask("x"), route: "spread" })).model);
    expect(new Set(models).size).toBe(3);
    const r = await registry.generate({ ...ask("x"), route: "spread" });
    expect(r.explanation.selector).toBe(robin.name);
    // The registry's own selector is unchanged for other calls.
    expect((await registry.generate(ask("x"))).explanation.selector).toBe(registry.selector.name);
    await expect(registry.generate({ ...ask("x"), route: "code" }, { providers: ["nowhere"] })).rejects.toMatchObject({
      code: "no_eligible_model",
    });
  });

  it("streams through routes too", async () => {
    const { registry } = setup();
    registry.addRoute(
      new SelectorRoute({
        name: "code",
        requirements: { capabilities: ["codeGeneration"] },
        selector: new PerformanceSelector(),
      }),
    );
    let text = "";
    let model: string | undefined;
    for await (const c of registry.stream({ ...ask("hello there"), route: "pricey" })) {
      if (c.type === "text") text += c.text;
      if (c.type === "finish") model = c.model;
    }
    expect(model).toBe("pricey");
    expect(text).toBe("pricey: hello there");
  });

  it("an unknown route is a typed RouteNotFoundError naming close routes and models, from generate, stream and resolveRoute", async () => {
    const { registry } = setup();
    registry.addRoute(new SelectorRoute({ name: "coding" }));
    const r = registry.generate({ ...ask("x"), route: "codin" });
    await expect(r).rejects.toBeInstanceOf(RouteNotFoundError);
    await expect(r).rejects.toMatchObject({ code: "route_not_found", suggestions: ["coding"] });
    await expect(r).rejects.toThrow(
      /No route or model named "codin"\. Did you mean "coding"\? Routes: coding\. Models: cheap, mid, pricey\./,
    );
    // A stream fails the same way, at its first chunk (never a throw from stream() itself).
    const stream = registry.stream({ ...ask("x"), route: "nope" });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(RouteNotFoundError);
    await expect(collectAll(registry.stream(ask("x"), { maxCost: -1 }))).rejects.toThrow(/maxCost/);
    expect(OrchestratorError.isInstance(new RouteNotFoundError("x", [], []))).toBe(true);
    expect(registry.resolveRoute("auto")).toEqual({ type: "auto", id: "auto" });
    expect(registry.resolveRoute("mid")).toMatchObject({ type: "model", model: { name: "mid" } });
    expect(registry.resolveRoute("coding")).toMatchObject({ type: "route", route: { name: "coding" } });
    expect(() => registry.resolveRoute("x".repeat(10_000))).toThrow(/x{200}…/);
  });

  it("route and model names cannot collide; a cascade's models must be registered", () => {
    const { registry } = setup();
    expect(() => registry.addRoute(new SelectorRoute({ name: "mid" }))).toThrow(/a model is named "mid"/);
    expect(() => registry.addRoute(new SelectorRoute({ name: "auto" }))).toThrow(/reserved/);
    registry.addRoute(new SelectorRoute({ name: "r" }));
    expect(() => registry.addRoute(new SelectorRoute({ name: "r" }))).toThrow(/already exists/);
    expect(() => registry.registerModel(new FakeModel({ name: "r" }))).toThrow(ConfigError);
    const cascade = new CascadeRoute({
      name: "c",
      stages: [{ models: ["cheap", "mdi"] }, { models: ["pricey"] }],
      extract: extractors.choiceLetter,
    });
    expect(() => registry.addRoute(cascade)).toThrow(/Model "mdi" is not registered\. Did you mean "mid"\?/);
    expect(registry.removeRoute("r")).toBe(true);
    expect(registry.listRoutes().map((r) => r.name)).toEqual([]);
  });
});
