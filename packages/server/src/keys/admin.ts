import type { ServerResponse } from "node:http";
import type { BudgetPeriod, SpendDimension } from "@orchestrator-ts/core";
import type { ModelRegistry } from "@orchestrator-ts/registry";
import { readJson } from "../body";
import { GatewayError } from "../contract";
import { sendError as sendGatewayError, sendJson, toGatewayError } from "../errors";
import type { AdminHandler } from "../server";
import type { KeyGate, NewKey } from "./key-gate";

/** Largest admin request body: a key's settings are a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024;
const PERIODS: readonly BudgetPeriod[] = ["day", "month", "total"];
const DIMENSIONS: readonly SpendDimension[] = ["key", "model", "user"];
const MAX_MODELS = 1_000;
const MAX_TEXT = 256;

/** Options of `createAdminHandler`. */
export interface AdminHandlerOptions {
  /**
   * The registry the gateway serves: a new key's `models` must name its models, its routes or
   * `auto` (a key limited to names nothing answers could never be used). Without it they are not checked.
   */
  registry?: Pick<ModelRegistry, "listModels" | "listRoutes">;
}

/**
 * The admin API over a `KeyGate`, for the server's `admin` option:
 * `POST /admin/keys`, `GET /admin/keys`, `GET|DELETE /admin/keys/:id`, `GET /admin/spend`.
 * Only the master key's caller (`caller.admin`) gets in. Errors are in OpenAI's shape.
 */
export function createAdminHandler(gate: KeyGate, options: AdminHandlerOptions = {}): AdminHandler {
  return async (req, res, url, caller) => {
    const path = url.pathname.replace(/\/+$/, "");
    const route = matchRoute(req.method ?? "GET", path);
    if (!route) return false;
    try {
      if (!caller.admin) {
        if (caller.keyId === undefined)
          throw new GatewayError(
            401,
            "authentication_error",
            "The admin API needs the master key: send it as `Authorization: Bearer <ORCHESTRATOR_MASTER_KEY>`.",
            { code: "missing_api_key" },
          );
        throw new GatewayError(403, "permission_error", "Only the master key may use the admin API.", {
          code: "admin_only",
        });
      }
      if (route.kind === "method")
        throw new GatewayError(
          405,
          "invalid_request_error",
          `${req.method} is not allowed on ${path} (allowed: ${route.allowed}).`,
          { code: "method_not_allowed", headers: { allow: route.allowed } },
        );
      if (route.kind === "create") {
        const input = parseNewKey(await readJson(req, MAX_BODY_BYTES));
        if (input.models && options.registry) checkModels(input.models, options.registry);
        const { key, record } = await gate.createKey(input);
        send(res, 201, { ...record, key });
      } else if (route.kind === "list") {
        send(res, 200, { object: "list", data: await gate.listKeys() });
      } else if (route.kind === "get") {
        const view = await gate.getKey(route.id);
        if (!view) throw notFound(route.id);
        send(res, 200, view);
      } else if (route.kind === "revoke") {
        if (gate.isStaticKey(route.id))
          throw new GatewayError(
            400,
            "invalid_request_error",
            `The key "${route.id}" is declared in the config (keys:): remove it there.`,
            { code: "static_key" },
          );
        const record = await gate.revokeKey(route.id);
        if (!record) throw notFound(route.id);
        send(res, 200, { ...record, revoked: true });
      } else {
        const by = url.searchParams.get("by") ?? "key";
        if (!DIMENSIONS.includes(by as SpendDimension))
          throw invalid("by", `must be one of ${DIMENSIONS.join(", ")}, got ${JSON.stringify(by.slice(0, 40))}`);
        const since = parseSince(url.searchParams.get("since"));
        const data = await gate.spend({ by: by as SpendDimension, since });
        const totalUsd = data.reduce((sum, r) => sum + r.costUsd, 0);
        send(res, 200, { object: "list", by, since: since.toISOString(), totalUsd, data });
      }
    } catch (error) {
      sendError(res, error);
    }
    return true;
  };
}

type Route =
  | { kind: "create" | "list" | "spend" }
  | { kind: "get" | "revoke"; id: string }
  | { kind: "method"; allowed: string };

function matchRoute(method: string, path: string): Route | undefined {
  if (path === "/admin/keys")
    return method === "POST"
      ? { kind: "create" }
      : method === "GET"
        ? { kind: "list" }
        : { kind: "method", allowed: "GET, POST" };
  if (path === "/admin/spend") return method === "GET" ? { kind: "spend" } : { kind: "method", allowed: "GET" };
  const match = /^\/admin\/keys\/([^/]{1,200})$/.exec(path);
  if (match) {
    const id = decodePathSegment(match[1] as string);
    return method === "GET"
      ? { kind: "get", id }
      : method === "DELETE"
        ? { kind: "revoke", id }
        : { kind: "method", allowed: "GET, DELETE" };
  }
  return undefined;
}

function notFound(id: string): GatewayError {
  return new GatewayError(404, "not_found_error", `No key with id ${JSON.stringify(id.slice(0, 100))}.`, {
    code: "key_not_found",
  });
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError(400, "invalid_request_error", `${param}: ${message}`, { param, code: "invalid_value" });
}

/** The body of `POST /admin/keys`: `{ name, budgetUsd, budgetPeriod, rpm, tpm, models, metadata }` (snake_case accepted too). */
export function parseNewKey(body: unknown): NewKey {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw invalid("body", "must be a JSON object with at least a name");
  const b = body as Record<string, unknown>;
  const pick = (camel: string, snake: string) =>
    Object.hasOwn(b, camel) ? b[camel] : Object.hasOwn(b, snake) ? b[snake] : undefined;
  const known = new Set([
    "name",
    "budgetUsd",
    "budget_usd",
    "budgetPeriod",
    "budget_period",
    "rpm",
    "tpm",
    "models",
    "metadata",
  ]);
  const unknown = Object.keys(b).find((k) => !known.has(k));
  if (unknown !== undefined)
    throw invalid(
      unknown.slice(0, 60),
      "unknown field (expected name, budgetUsd, budgetPeriod, rpm, tpm, models, metadata)",
    );
  const name = b.name;
  if (typeof name !== "string" || name.trim() === "" || name.length > MAX_TEXT)
    throw invalid("name", `must be a non-empty string of at most ${MAX_TEXT} characters`);
  const out: NewKey = { name: name.trim() };
  const budget = pick("budgetUsd", "budget_usd");
  if (budget !== undefined && budget !== null) {
    if (!(typeof budget === "number" && Number.isFinite(budget) && budget > 0))
      throw invalid("budgetUsd", `must be a positive number of USD, got ${JSON.stringify(budget)}`);
    out.budgetUsd = budget;
  }
  const period = pick("budgetPeriod", "budget_period");
  if (period !== undefined && period !== null) {
    if (!PERIODS.includes(period as BudgetPeriod))
      throw invalid("budgetPeriod", `must be one of ${PERIODS.join(", ")}, got ${JSON.stringify(period)}`);
    if (out.budgetUsd === undefined) throw invalid("budgetPeriod", "needs budgetUsd");
    out.budgetPeriod = period as BudgetPeriod;
  }
  for (const field of ["rpm", "tpm"] as const) {
    const v = b[field];
    if (v === undefined || v === null) continue;
    if (!(typeof v === "number" && Number.isInteger(v) && v > 0))
      throw invalid(field, `must be a positive whole number, got ${JSON.stringify(v)}`);
    out[field] = v;
  }
  const models = b.models;
  if (models !== undefined && models !== null) {
    if (!Array.isArray(models) || models.length === 0 || models.length > MAX_MODELS)
      throw invalid("models", "must be a non-empty list of model or route names");
    models.forEach((m, i) => {
      if (typeof m !== "string" || m === "" || m.length > MAX_TEXT)
        throw invalid(`models[${i}]`, "must be a model or route name");
    });
    out.models = [...new Set(models as string[])];
  }
  const metadata = b.metadata;
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== "object" || Array.isArray(metadata))
      throw invalid("metadata", "must be an object of string values");
    const entries = Object.entries(metadata as Record<string, unknown>);
    if (entries.length > 100) throw invalid("metadata", "has more than 100 entries");
    const meta: Record<string, string> = {};
    for (const [k, v] of entries) {
      if (typeof v !== "string" || v.length > 1_024 || k.length > MAX_TEXT)
        throw invalid(`metadata.${k.slice(0, 60)}`, "must be a string of at most 1024 characters");
      Object.defineProperty(meta, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    out.metadata = meta;
  }
  return out;
}

/** The most known names an unknown model's 400 lists. */
const MAX_LISTED = 50;

/** A 400 naming the entries of a new key's `models` that are not `auto`, a registered model or a route. */
function checkModels(models: readonly string[], registry: NonNullable<AdminHandlerOptions["registry"]>): void {
  const known = ["auto", ...registry.listModels().map((m) => m.name), ...registry.listRoutes().map((r) => r.name)];
  const unknown = models.filter((m) => !known.includes(m));
  if (unknown.length === 0) return;
  const listed = known.slice(0, MAX_LISTED).join(", ");
  const more = known.length > MAX_LISTED ? ` and ${known.length - MAX_LISTED} more` : "";
  throw invalid(
    "models",
    `unknown model or route ${unknown.map((m) => JSON.stringify(m.slice(0, 100))).join(", ")}: the key could never be used (known: ${listed}${more})`,
  );
}

/** `since`: an ISO date or time, or a span back from now (`90m`, `24h`, `7d`). Default: 30 days back. */
export function parseSince(value: string | null): Date {
  if (value === null || value === "") return new Date(Date.now() - 30 * 86_400_000);
  const span = /^(\d{1,6})([mhd])$/.exec(value);
  if (span)
    return new Date(
      Date.now() - Number(span[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as "m" | "h" | "d"],
    );
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw invalid(
      "since",
      `expected an ISO date (2026-12-01, 2026-12-01T12:00:00Z) or a span back from now (90m, 24h, 7d), got ${JSON.stringify(value.slice(0, 40))}`,
    );
  return date;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, { "cache-control": "no-store" });
}

function sendError(res: ServerResponse, error: unknown): void {
  const e = toGatewayError(error);
  // An oversized body is not read to its end: the connection cannot carry another request.
  sendGatewayError(res, e, undefined, e.status === 413);
}

/** A path segment decoded; malformed percent-encoding (`%E0%A4%A`) stays as sent: no key has that id, so a 404, not a 500. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
