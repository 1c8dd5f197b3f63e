import { SelectorRoute } from "@orchestrator-ts/registry";
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
