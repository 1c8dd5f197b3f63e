import type { ServerResponse } from "node:http";
import { timeLimit } from "@orchestrator-ts/core/internal";
import type { ModelRegistry } from "@orchestrator-ts/registry";
import { GatewayError, type ServedOrchestrator } from "./contract";
import { sendJson, upstreamMessage } from "./errors";
import type { Exchange, ServerContext } from "./exchange";

const HEALTHY = JSON.stringify({ status: "ok" });

/** `GET /healthz`: the process is up and serving. */
export function healthz(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "application/json", "content-length": HEALTHY.length });
  res.end(HEALTHY);
}

/** How long `/readyz` waits for one check (Redis, a model's health) before counting it as failed. */
const READY_CHECK_MS = 2_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return timeLimit(promise, READY_CHECK_MS, () => new Error(`${what} did not answer within ${READY_CHECK_MS} ms`));
}

/**
 * `GET /readyz`: 200 when the config is loaded, the orchestrator's own checks pass (Redis
 * reachable, when it uses Redis), no model is still initialising and at least one model is healthy
 * (one whose initialisation failed is not); else 503 with every reason.
 */
export async function readyz(res: ServerResponse, served: ServedOrchestrator, context: ServerContext): Promise<void> {
  const reasons: string[] = [];
  if (context.draining) reasons.push("the server is shutting down");
  if (served.config === undefined && served.registry.listModels().length === 0)
    reasons.push("no config is loaded and no model is registered");
  if (served.readiness) {
    try {
      reasons.push(...(await within(served.readiness(), "the orchestrator's readiness check")));
    } catch (error) {
      reasons.push(`readiness check failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }
  const models = served.registry.listModels();
  const initialization = context.initialization;
  if (initialization) {
    const initialising = models.filter((model) => initialization.initialising(model)).map((model) => model.name);
    if (initialising.length > 0) reasons.push(`models still initialising: ${initialising.join(", ")}`);
    // A model that failed at start-up is tried again at each probe: no request reaches an unready instance.
    initialization.retryFailed();
  }
  let healthy = 0;
  const unhealthy: string[] = [];
  await Promise.all(
    models.map(async (model) => {
      const failedToStart = initialization?.failure(model);
      if (failedToStart) {
        unhealthy.push(`${model.name}: did not initialise: ${failedToStart.reason}`);
        return;
      }
      try {
        const status = await within(
          Promise.resolve(served.registry.health.getHealth(model.name)),
          `health of ${model.name}`,
        );
        if (status.isHealthy) healthy++;
        else
          unhealthy.push(
            `${model.name}: ${status.status}${status.issues.length > 0 ? ` (${status.issues.join("; ")})` : ""}`,
          );
      } catch (error) {
        unhealthy.push(`${model.name}: ${(error as Error)?.message ?? String(error)}`);
      }
    }),
  );
  if (models.length === 0) reasons.push("no model is registered");
  else if (healthy === 0) reasons.push(`no model is healthy (${unhealthy.join(", ")})`);
  if (reasons.length === 0) sendJson(res, 200, { status: "ready", models: models.length, healthy_models: healthy });
  // /readyz answers without a key: its reasons name no upstream (a health check's failure carries its URL).
  else
    sendJson(res, 503, {
      status: "not_ready",
      reasons: reasons.map(upstreamMessage),
      models: models.length,
      healthy_models: healthy,
    });
}

/** `GET /v1/models`: `auto`, the routes and the models, in OpenAI's list shape (only what the key may use). */
export async function listModels(exchange: Exchange, registry: ModelRegistry, created: number): Promise<void> {
  const allowed = exchange.caller?.models;
  const data: { id: string; object: "model"; created: number; owned_by: string; kind: string }[] = [];
  const add = (id: string, owner: string, kind: string) => {
    if (allowed === undefined || allowed.includes(id))
      data.push({ id, object: "model", created, owned_by: owner, kind });
  };
  add("auto", "orchestrator", "auto");
  for (const route of registry.listRoutes()) add(route.name, "orchestrator", "route");
  for (const model of registry.listModels()) add(model.name, model.provider, "model");
  sendJson(exchange.res, 200, { object: "list", data });
  exchange.record(200, {});
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `POST /v1/feedback { selection_id, quality }`: rates an answer so the selector learns from it. */
export async function feedback(exchange: Exchange, registry: ModelRegistry, body: unknown): Promise<void> {
  if (!isRecord(body))
    throw new GatewayError(
      400,
      "invalid_request_error",
      "The request body must be a JSON object: { selection_id, quality }.",
      { code: "invalid_value" },
    );
  const id = body.selection_id;
  if (typeof id !== "string" || id === "") {
    throw new GatewayError(
      400,
      "invalid_request_error",
      id === undefined
        ? "Missing required parameter: 'selection_id' (the x-orchestrator-selection-id header of an answer)."
        : "Invalid value for 'selection_id': expected a string.",
      { param: "selection_id", code: "invalid_value" },
    );
  }
  const quality = body.quality;
  if (typeof quality !== "number" || !(quality >= 0 && quality <= 1)) {
    throw new GatewayError(
      400,
      "invalid_request_error",
      "Invalid value for 'quality': expected a number from 0 (wrong) to 1 (right).",
      { param: "quality", code: "invalid_value" },
    );
  }
  // With a key gate, only the key an answer went to may rate it; another key's attempt reads as unknown.
  const caller = exchange.caller;
  const mayRate =
    caller?.keyId === undefined || caller.admin === true || exchange.context.raters.get(id) === caller.keyId;
  if (!mayRate || !registry.recordFeedback(id, { quality })) {
    throw new GatewayError(
      404,
      "not_found_error",
      `No answer with selection id "${id.length > 100 ? `${id.slice(0, 100)}…` : id}" awaits feedback from this key: it is unknown, too old, was served from the cache, was already rated, or was answered to another key.`,
      { param: "selection_id", code: "selection_not_found" },
    );
  }
  sendJson(exchange.res, 200, { ok: true, selection_id: id, quality });
  exchange.record(200, {});
}
