import { ModelRegistry, SelectorRoute } from "@orchestrator-ts/registry";
import { FakeModel } from "@orchestrator-ts/testing";
import { afterEach, describe, expect, it } from "vitest";
import { GatewayError, type RequestRecord } from "./contract";
import { type Gateway, ask, startGateway } from "./test/gateway";

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
async function gateway(...args: Parameters<typeof startGateway>): Promise<Gateway> {
  const g = await startGateway(...args);
  gateways.push(g);
  return g;
}

describe("GET /v1/models", () => {
  it("lists auto, the routes and the models in OpenAI's list shape (the SDK reads it)", async () => {
    const gw = await gateway({
      setup: (r) => r.addRoute(new SelectorRoute({ name: "cheap", requirements: { maxCost: 1 } })),
    });
    const ids: string[] = [];
    for await (const model of gw.client.models.list()) ids.push(model.id);
    expect(ids).toEqual(["auto", "cheap", "gpt-4o-mini", "claude-sonnet-4-6"]);
    const raw = (await (await fetch(`${gw.url}/v1/models`)).json()) as {
      object: string;
      data: { id: string; object: string; owned_by: string }[];
    };
    expect(raw.object).toBe("list");
    expect(raw.data.find((m) => m.id === "claude-sonnet-4-6")).toMatchObject({
      object: "model",
      owned_by: "anthropic",
    });
  });
});

describe("POST /v1/feedback", () => {
  it("rates an answer by its selection id; unknown ids are 404, bad quality 400", async () => {
    const gw = await gateway();
    const { response } = await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: ask("rate me") })
      .withResponse();
    const selectionId = response.headers.get("x-orchestrator-selection-id");
    const send = (body: unknown) =>
      fetch(`${gw.url}/v1/feedback`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const bad = await send({ selection_id: selectionId, quality: 3 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("quality");
    const missing = await send({ quality: 1 });
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe("selection_id");
    const before = gw.registry.getStatistics().models.find((m) => m.model === "gpt-4o-mini")?.meanQuality;
    const ok = await send({ selection_id: selectionId, quality: 0.25 });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, selection_id: selectionId });
    const after = gw.registry.getStatistics().models.find((m) => m.model === "gpt-4o-mini")?.meanQuality;
    expect(before).toBeUndefined();
    expect(after).toBe(0.25);
    // Rated already, and never issued: 404 in OpenAI's shape.
    const again = await send({ selection_id: selectionId, quality: 1 });
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("selection_not_found");
    expect((await send({ selection_id: "sel-nope", quality: 1 })).status).toBe(404);
  });
});

describe("GET /healthz and /readyz", () => {
  it("healthz is 200 while the process serves; readyz 503 with reasons when no model is healthy, 200 again when one is", async () => {
    const gw = await gateway();
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", models: 2, healthy_models: 2 });
  });

  it("readyz: 503 with every reason (the orchestrator's own check, unhealthy models)", async () => {
    const { ModelHealthMonitor } = await import("@orchestrator-ts/health");
    const monitor = new ModelHealthMonitor({ failureThreshold: 1 });
    const gw = await gateway({ registry: { healthMonitor: monitor } });
    // The orchestrator's own readiness check: an orchestrator whose Redis is away says so.
    const { createServer } = await import("./server");
    const server = createServer({
      orchestrator: {
        registry: gw.registry,
        readiness: async () => ["Redis is unreachable: connect ECONNREFUSED 10.9.9.9:6379"],
      },
      port: 0,
    });
    const url = await server.listen();
    try {
      for (const model of gw.registry.listModels())
        monitor.recordFailure(model.name, new Error("Connection to http://vllm-7.internal:8001/v1 failed"));
      const r = await fetch(`${url}/readyz`);
      expect(r.status).toBe(503);
      const body = (await r.json()) as { status: string; reasons: string[] };
      expect(body.status).toBe("not_ready");
      expect(body.reasons[0]).toContain("Redis is unreachable");
      expect(body.reasons[1]).toMatch(/no model is healthy/);
      // /readyz answers without a key: where the upstreams and Redis live is not shown.
      expect(body.reasons.join(" ")).not.toMatch(/10\.9\.9\.9|vllm-7|8001/);
      expect(body.reasons[1]).toContain("Connection to the provider failed");
    } finally {
      await server.close();
    }
  });
});

/** A model whose initialisation waits until `open()`, and throws `failNext` once when set. */
class GatedModel extends FakeModel {
  initializations = 0;
  failNext: Error | undefined;
  open!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.open = resolve;
  });
  protected override async doInitialize(): Promise<void> {
    this.initializations++;
    await this.#gate;
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
  }
}

describe("models initialise at start-up", () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  async function serve(models: FakeModel[], options: { initializeModels?: boolean } = {}) {
    const registry = new ModelRegistry({ maxRetries: 0 });
    for (const model of models) registry.registerModel(model);
    const { createServer } = await import("./server");
    const server = createServer({ orchestrator: { registry }, port: 0, ...options });
    servers.push(server);
    return { server, url: await server.listen(), registry };
  }
  const chat = (url: string, model: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
  const readiness = async (url: string) => {
    const r = await fetch(`${url}/readyz`);
    return { status: r.status, body: (await r.json()) as { reasons?: string[]; healthy_models: number } };
  };

  it("before any request; /readyz is 503 until every model has initialised", async () => {
    const slow = new GatedModel({ name: "slow" });
    const quick = new FakeModel({ name: "quick" });
    const { server, url } = await serve([slow, quick]);
    expect(slow.initializations).toBe(1);
    const waiting = await readiness(url);
    expect(waiting.status).toBe(503);
    expect(waiting.body.reasons).toEqual(["models still initialising: slow"]);
    expect(quick.isInitialized).toBe(true);
    expect(slow.isInitialized).toBe(false);
    slow.open();
    expect(await server.initialized).toEqual([]);
    expect(slow.isInitialized).toBe(true);
    const ready = await readiness(url);
    expect(ready.status).toBe(200);
    expect(ready.body.healthy_models).toBe(2);
    // The request that follows uses the model initialised: it does not initialise it again.
    expect((await chat(url, "slow")).status).toBe(200);
    expect(slow.initializations).toBe(1);
  });

  it("a model that cannot initialise is reported (upstream masked), not ready, and tries again at its next request", async () => {
    const broken = new GatedModel({ name: "broken" });
    broken.failNext = new Error("could not load the weights from http://10.1.2.3:8080/models/big.gguf");
    broken.open();
    const { server, url } = await serve([broken]);
    const failures = await server.initialized;
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ model: "broken", provider: "fake" });
    expect(failures[0]?.reason).toContain("could not load the weights from the provider");
    expect(JSON.stringify(failures)).not.toMatch(/10\.1\.2\.3|8080/);
    const notReady = await readiness(url);
    expect(notReady.status).toBe(503);
    expect(notReady.body.reasons?.[0]).toMatch(/^no model is healthy \(broken: did not initialise: could not load/);
    expect((await chat(url, "broken")).status).toBe(200);
    expect(broken.initializations).toBe(2);
    expect((await readiness(url)).status).toBe(200);
  });

  it("a model that failed at start-up is tried again at each /readyz probe (no request reaches an unready server)", async () => {
    const late = new GatedModel({ name: "late" });
    late.failNext = new Error("connect ECONNREFUSED 127.0.0.1:11434");
    late.open();
    const { server, url } = await serve([late]);
    expect(await server.initialized).toHaveLength(1);
    const first = await readiness(url);
    expect(first.status).toBe(503);
    expect(first.body.reasons?.[0]).toContain("late: did not initialise: connect ECONNREFUSED [upstream]");
    // That probe started another attempt, which succeeds now (the local server is up).
    await expect.poll(async () => (await readiness(url)).status).toBe(200);
    expect(late.initializations).toBe(2);
  });

  it("reasons carry no credentials; a model registered in a failed one's place is judged on its own", async () => {
    const broken = new GatedModel({ name: "chat" });
    broken.failNext = new Error(
      "GET http://admin:pa(ss)word@ollama.internal/api/tags failed (Authorization: Bearer sk-proj-ABCDEF0123456789abcdef)",
    );
    broken.open();
    const { server, url, registry } = await serve([broken]);
    const [failure] = await server.initialized;
    const before = await readiness(url);
    expect(before.status).toBe(503);
    const shown = JSON.stringify([failure, before.body]);
    expect(shown).toContain("did not initialise");
    expect(shown).not.toMatch(/admin|pa\(ss\)word|ss\)word|ollama\.internal|sk-proj-ABCDEF/);
    // A working model registered in its place: the old one's failure is not the new one's.
    registry.registerModel(new FakeModel({ name: "chat" }), { replace: true });
    const after = await readiness(url);
    expect([after.status, after.body.reasons]).toEqual([200, undefined]);
  });

  it("close() of a server that owns the orchestrator does not wait past drainTimeoutMs for a model still loading", async () => {
    const loading = new GatedModel({ name: "loading" });
    const registry = new ModelRegistry({ maxRetries: 0 });
    registry.registerModel(loading);
    const { createServer } = await import("./server");
    const server = createServer({
      orchestrator: { registry, close: () => registry.cleanup() },
      ownsOrchestrator: true,
      drainTimeoutMs: 300,
      port: 0,
    });
    await server.listen();
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(2_000);
    loading.open();
  });

  it("local models load one after another (each load's free-memory check sees the ones before); remote ones at once", async () => {
    const first = new GatedModel({ name: "gguf-a", isLocal: true });
    const second = new GatedModel({ name: "gguf-b", isLocal: true });
    const remote = new GatedModel({ name: "remote" });
    const { server } = await serve([first, second, remote]);
    expect([first.initializations, second.initializations, remote.initializations]).toEqual([1, 0, 1]);
    first.open();
    await expect.poll(() => second.initializations).toBe(1);
    second.open();
    remote.open();
    expect(await server.initialized).toEqual([]);
  });

  it("initializeModels: false leaves each model to its first request", async () => {
    const lazy = new GatedModel({ name: "lazy" });
    lazy.open();
    const { server, url } = await serve([lazy], { initializeModels: false });
    expect(await server.initialized).toEqual([]);
    expect(lazy.initializations).toBe(0);
    expect((await readiness(url)).status).toBe(200);
    expect(lazy.initializations).toBe(0);
  });
});

describe("the seams other parts plug in", () => {
  it("observers hear of every API request; extraRoutes are served; /admin needs a gatekeeper and the master key", async () => {
    const records: RequestRecord[] = [];
    const gw = await gateway({
      server: {
        observers: [{ onRequest: (r) => records.push(r) }],
        extraRoutes: [
          {
            method: "GET",
            path: "/metrics",
            handle: (_req, res) => {
              res.end("metric 1\n");
            },
          },
        ],
        gatekeeper: {
          authenticate: async (key) => {
            if (key === "sk-master") return { admin: true, keyName: "master" };
            if (key === "sk-gateway-client") return { keyId: "k1", keyName: "client" };
            throw new GatewayError(401, "authentication_error", "Unknown key.", { code: "invalid_api_key" });
          },
          admit: async () => ({ settle: async () => undefined }),
        },
        admin: async (_req, res, url) => {
          if (url.pathname !== "/admin/keys") return false;
          res.writeHead(200, { "content-type": "application/json" }).end('{"data":[]}');
          return true;
        },
      },
    });
    await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: ask("observe"), user: "u-7" });
    expect(records.at(-1)).toMatchObject({
      endpoint: "openai.chat",
      status: 200,
      requested: "gpt-4o-mini",
      model: "gpt-4o-mini",
      stream: false,
      keyId: "k1",
      keyName: "client",
      user: "u-7",
      cached: false,
    });
    expect(records.at(-1)?.costUsd).toBeGreaterThan(0);
    expect(await (await fetch(`${gw.url}/metrics`)).text()).toBe("metric 1\n");
    // A wrong key: 401 in OpenAI's shape, recorded.
    const denied = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-wrong" },
      body: JSON.stringify({ model: "auto", messages: ask("x") }),
    });
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    expect(records.at(-1)).toMatchObject({ status: 401, errorCode: "invalid_api_key" });
    expect(
      (await fetch(`${gw.url}/admin/keys`, { headers: { authorization: "Bearer sk-gateway-client" } })).status,
    ).toBe(403);
    const admin = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: "Bearer sk-master" } });
    expect([admin.status, await admin.json()]).toEqual([200, { data: [] }]);
    expect((await fetch(`${gw.url}/admin/nothing`, { headers: { authorization: "Bearer sk-master" } })).status).toBe(
      404,
    );
  });
});
