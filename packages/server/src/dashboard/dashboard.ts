// The dashboard at /ui: a ServerObserver (finished requests), listeners on the registry's events
// and the routes createServer serves (`extraRoutes`). The request path only appends to rings
// (Activity); pages, JSON and SSE frames are made when someone looks.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError, Secret } from "@orchestrator-ts/core";
import type { RequestRecord } from "../contract";
import type { ServerRoute } from "../server";
import { Activity, type Decision } from "./activity";
import { cascadeView } from "./cascade-view";
import { fromDecisionRecord } from "./decision-record";
import {
  type ModelView,
  type SpendView,
  esc,
  renderCharts,
  renderDecision,
  renderFeed,
  renderLogin,
  renderModels,
  renderPage,
  renderSpend,
  renderTotals,
} from "./page";
import { checkMasterKey } from "../keys/key-material";
import { LoginThrottle } from "./login-throttle";
import { Sessions, clearCookie } from "./session";
import { readForm } from "./form";
import type { Dashboard, DashboardOptions, DashboardState } from "./types";

/** Bytes an SSE client may have unsent before it is dropped: a slow reader never grows memory. */
const MAX_BUFFERED = 256 * 1024;

/**
 * The dashboard for a gateway: pass it in `createServer`'s `observers` and its `routes` in
 * `extraRoutes`. Throws a ConfigError without a master key.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const registry = options.registry;
  const master = Secret.from(options.masterKey ?? process.env.ORCHESTRATOR_MASTER_KEY);
  if (!master)
    throw new ConfigError([
      {
        path: "masterKey",
        message:
          "the dashboard needs a master key (masterKey, or ORCHESTRATOR_MASTER_KEY): it shows spend and decisions and must not be open",
      },
    ]);
  checkMasterKey(master.reveal());
  const base = (options.path ?? "/ui").replace(/\/+$/, "");
  if (!/^\/[A-Za-z0-9/_-]*$/.test(base))
    throw new ConfigError([
      { path: "path", message: `the dashboard's path must look like /ui, got ${JSON.stringify(options.path)}` },
    ]);
  const sessions = new Sessions(master.reveal(), options.sessionTtlMs ?? 12 * 3_600_000);
  const throttle = new LoginThrottle(options.loginThrottle);
  const activity = new Activity(options.feedSize ?? 200, options.minutes ?? 60);
  const maxClients = options.maxClients ?? 32;
  const clients = new Set<ServerResponse>();
  let queued: Decision[] = [];
  let flushing = false;

  const offSelection = registry.on("selection", (e) => activity.onSelection(e));
  const offOutcome = registry.on("outcome", (e) => activity.onOutcome(e));

  const heartbeat = setInterval(() => {
    for (const res of clients) send(res, ": heartbeat\n\n");
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  function send(res: ServerResponse, frame: string): void {
    if (res.writableLength > MAX_BUFFERED) {
      clients.delete(res);
      res.destroy();
      return;
    }
    res.write(frame);
  }

  /** A new decision for the live clients, sent with the others of this turn. */
  function live(decision: Decision | undefined): void {
    if (decision === undefined || clients.size === 0) return;
    queued.push(decision);
    if (queued.length > 200) queued.shift();
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  }

  function flush(): void {
    flushing = false;
    const batch = queued;
    queued = [];
    if (clients.size === 0) return;
    let frames = "";
    for (const d of batch)
      frames += `event: decision\ndata: ${JSON.stringify({ seq: d.seq, html: renderDecision(d) })}\n\n`;
    for (const res of clients) send(res, frames);
  }

  /** What the model's limits leave now: free concurrent slots, the per-minute limit and whether it is reached. */
  function headroom(name: string): string | undefined {
    const model = registry.listModels().find((m) => m.name === name);
    if (!model) return undefined;
    const { maxConcurrentRequests: concurrent, maxRequestsPerMinute: rpm } = model.constraints;
    if (concurrent === undefined && rpm === undefined) return undefined;
    const limiter = model.rateLimiter;
    const parts: string[] = [];
    if (concurrent !== undefined)
      parts.push(`${Math.max(0, concurrent - limiter.inFlight)} of ${concurrent} slots free`);
    if (rpm !== undefined) parts.push(`${rpm} rpm${limiter.isSaturated() ? " · saturated" : ""}`);
    return parts.join(" · ");
  }

  function models(): ModelView[] {
    const stats = registry.getStatistics();
    const health = registry.health as typeof registry.health & { circuit?: (name: string) => string | undefined };
    return stats.models.map((m) => {
      const a = health.availability(m.model);
      const mean = m.meanReward;
      const n = m.trials;
      return {
        name: m.model,
        provider: m.provider,
        calls: m.metrics.requests,
        successRate: m.metrics.successRate,
        p50: m.metrics.latencyP50Ms,
        p95: m.metrics.latencyP95Ms,
        tokensPerSecond: m.metrics.tokensPerSecond,
        costUsd: m.metrics.totalCost,
        meanReward: mean,
        // Rewards are in [0, 1], so their variance is at most mean·(1 − mean).
        rewardBound: mean === undefined || n < 2 ? undefined : 1.96 * Math.sqrt(Math.max(mean * (1 - mean), 0) / n),
        trials: n,
        health: a.status,
        available: a.available,
        reason: a.reason,
        circuit: typeof health.circuit === "function" ? health.circuit(m.model) : undefined,
        headroom: headroom(m.model),
      };
    });
  }

  async function spend(): Promise<SpendView | undefined> {
    const source = options.spend;
    if (!source) return undefined;
    const now = new Date();
    const since = new Date(now.getTime() - 30 * 86_400_000);
    const [keys, byModel] = await Promise.all([source.listKeys(), source.spend({ by: "model", since })]);
    // Per day: spend since each of the last 7 UTC midnights, differenced.
    const midnights: Date[] = [];
    for (let i = 6; i >= 0; i--)
      midnights.push(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - i)));
    const sums = await Promise.all(
      midnights.map(async (d) => (await source.spend({ by: "model", since: d })).reduce((s, r) => s + r.costUsd, 0)),
    );
    const days = midnights
      .map((d, i) => ({ day: d.toISOString().slice(0, 10), costUsd: Math.max(0, (sums[i] ?? 0) - (sums[i + 1] ?? 0)) }))
      .reverse();
    return {
      keys: keys.map((k) => ({
        name: k.name,
        budgetUsd: k.budgetUsd,
        period: k.period,
        spentUsd: k.spentUsd ?? 0,
        resetsAt: k.resetsAt,
        revoked: k.revokedAt !== undefined,
      })),
      models: byModel.map((r) => ({ name: r.name, costUsd: r.costUsd, requests: r.requests })),
      days,
    };
  }

  async function replay(): Promise<string> {
    if (!options.replay)
      return `<p class="empty">No replay configured. Record decisions with a decision log, then run <code>orchestrator replay --log decisions.jsonl --svg curve.svg</code>, or give the dashboard the log (<code>replay:</code>) to draw the quality-vs-cost curve here.</p>`;
    try {
      const r = await options.replay();
      if ("hint" in r) return `<p class="empty">${esc(r.hint)}</p>`;
      return `<img alt="quality vs cost" src="${base}/replay.svg" style="max-width:100%">`;
    } catch (error) {
      return `<p class="empty">The replay could not be drawn: ${esc(error instanceof Error ? error.message : String(error))}</p>`;
    }
  }

  function decisionJson(d: Decision): DashboardState["feed"][number] {
    const r = d.record;
    const e = d.selections[0]?.explanation;
    const chosen = e?.candidates.find((c) => c.chosen);
    return {
      seq: d.seq,
      at: new Date(d.at).toISOString(),
      endpoint: r.endpoint,
      status: r.status,
      ...(r.requested === undefined ? {} : { requested: r.requested }),
      ...(r.model === undefined ? {} : { model: r.model }),
      // An untried model scores Infinity with optimistic selectors: no number to show.
      ...(chosen && Number.isFinite(chosen.score) ? { score: chosen.score } : {}),
      excluded: (e?.excluded ?? []).map((x) => ({ model: x.model, reason: x.reason })),
      alternatives: (e?.candidates ?? [])
        .filter((c) => !c.chosen)
        .map((c) => ({
          model: c.model,
          ...(Number.isFinite(c.score) ? { score: c.score } : { note: c.note ?? "untried" }),
        })),
      latencyMs: r.latencyMs,
      ...(r.costUsd === undefined ? {} : { costUsd: r.costUsd }),
      ...(r.cached === undefined ? {} : { cached: r.cached }),
      fallbacks: d.selections.filter((s) => s.fallback > 0).length,
      ...(r.errorCode === undefined ? {} : { errorCode: r.errorCode }),
      ...(r.keyName === undefined ? {} : { keyName: r.keyName }),
      ...(r.cascade === undefined ? {} : { cascade: cascadeView(r.cascade) }),
    };
  }

  async function state(): Promise<DashboardState> {
    const t = activity.totals;
    return {
      totals: {
        requests: t.requests,
        errors: t.errors,
        errorRate: t.requests === 0 ? undefined : t.errors / t.requests,
        costUsd: t.costUsd,
        cacheHitRate: t.cacheLookups === 0 ? undefined : t.cacheHits / t.cacheLookups,
      },
      selector: registry.selector.name,
      models: models(),
      feed: activity.recent().map(decisionJson),
      spend: await spend(),
    };
  }

  const securityHeaders = (nonce?: string): Record<string, string> => ({
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": `default-src 'none'; ${nonce ? `script-src 'nonce-${nonce}'; ` : ""}style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  });

  function html(
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
    nonce?: string,
  ): void {
    res.writeHead(status, {
      "content-type": "text/html; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      ...securityHeaders(nonce),
      ...headers,
    });
    res.end(body);
  }

  function json(res: ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      ...securityHeaders(),
    });
    res.end(body);
  }

  /**
   * Whether the request may see the dashboard; answers it when not: 429 while its address is
   * refused for guessing, else the login form or 401. A wrong Bearer key counts as a wrong guess.
   */
  function admitted(req: IncomingMessage, res: ServerResponse, page: boolean): boolean {
    const address = req.socket.remoteAddress ?? "";
    if (tooMany(res, address, page)) return false;
    if (sessions.allows(req)) return true;
    if (req.headers.authorization !== undefined) throttle.fail(address);
    refuse(req, res, page);
    return false;
  }

  function tooMany(res: ServerResponse, address: string, page: boolean): boolean {
    const waitMs = throttle.waitMs(address);
    if (waitMs === 0) return false;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    const message = `Too many wrong keys from this address: try again in ${seconds} s.`;
    const headers = { "retry-after": String(seconds) };
    if (page) html(res, 429, renderLogin(base, message), headers);
    else {
      const body = JSON.stringify({ error: { message, type: "rate_limit_error", code: "too_many_login_attempts" } });
      res.writeHead(429, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        ...securityHeaders(),
        ...headers,
      });
      res.end(body);
    }
    return true;
  }

  /** Unauthenticated: the login form for a page, 401 JSON for tools. */
  function refuse(req: IncomingMessage, res: ServerResponse, page: boolean): void {
    const message = req.headers.authorization === undefined ? undefined : "That key is not the master key.";
    if (page)
      html(res, 401, renderLogin(base, message), { "www-authenticate": 'Bearer realm="orchestrator dashboard"' });
    else
      json(res, 401, {
        error: {
          message: "The dashboard needs the master key: Authorization: Bearer <master key>, or sign in at " + base,
          type: "authentication_error",
          code: "invalid_api_key",
        },
      });
  }

  async function page(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!admitted(req, res, true)) return;
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const series = activity.series(Date.now(), options.minutes ?? 60);
    if (url.searchParams.get("part") === "live") {
      json(res, 200, {
        totals: renderTotals(activity.totals),
        "models-body": renderModels(models(), registry.selector.name),
        "spend-body": renderSpend(await spend()),
        "charts-body": renderCharts(series),
      });
      return;
    }
    const nonce = randomBytes(16).toString("base64");
    const body = renderPage({
      title: "Orchestrator dashboard",
      base,
      nonce,
      totals: renderTotals(activity.totals),
      models: renderModels(models(), registry.selector.name),
      feed: renderFeed(activity.recent()),
      charts: renderCharts(series),
      spend: renderSpend(await spend()),
      replay: await replay(),
      live: true,
    });
    html(res, 200, body, {}, nonce);
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? "";
    if (tooMany(res, address, true)) {
      req.resume();
      return;
    }
    const body = await readForm(req);
    const key = body?.get("key") ?? undefined;
    if (!sessions.isMasterKey(key)) {
      if (key !== undefined) throttle.fail(address);
      html(res, 401, renderLogin(base, key === undefined ? "Type the master key." : "That key is not the master key."));
      return;
    }
    throttle.succeed(address);
    res.writeHead(303, {
      location: base,
      "set-cookie": sessions.cookie(sessions.issue(), base, options.secureCookie === true),
      "cache-control": "no-store",
      "content-length": 0,
    });
    res.end();
  }

  function logout(_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(303, {
      location: base,
      "set-cookie": clearCookie(base),
      "cache-control": "no-store",
      "content-length": 0,
    });
    res.end();
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    if (!admitted(req, res, false)) return;
    if (clients.size >= maxClients) {
      json(res, 503, {
        error: {
          message: `Too many live dashboard clients (at most ${maxClients}).`,
          type: "overloaded_error",
          code: "too_many_clients",
        },
      });
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
      "x-content-type-options": "nosniff",
    });
    res.write("retry: 3000\n: connected\n\n");
    clients.add(res);
    res.once("close", () => clients.delete(res));
  }

  async function stateRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!admitted(req, res, false)) return;
    json(res, 200, await state());
  }

  async function replaySvg(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!admitted(req, res, false)) return;
    const r = options.replay ? await options.replay() : undefined;
    if (!r || !("svg" in r)) {
      json(res, 404, {
        error: { message: "No replay curve is configured.", type: "not_found_error", code: "not_found" },
      });
      return;
    }
    // Served as an image (an <img> runs no script in it), with a CSP that forbids script anyway.
    res.writeHead(200, {
      "content-type": "image/svg+xml",
      "content-length": Buffer.byteLength(r.svg),
      ...securityHeaders(),
    });
    res.end(r.svg);
  }

  const routes: ServerRoute[] = [
    { method: "GET", path: base, handle: page },
    { method: "GET", path: `${base}/`, handle: page },
    { method: "POST", path: `${base}/login`, handle: login },
    { method: "POST", path: `${base}/logout`, handle: logout },
    { method: "GET", path: `${base}/events`, handle: events },
    { method: "GET", path: `${base}/state`, handle: stateRoute },
    { method: "GET", path: `${base}/replay.svg`, handle: replaySvg },
  ];

  return {
    routes,
    get clients() {
      return clients.size;
    },
    onRequest(record: RequestRecord): void {
      live(activity.onRequest(record));
    },
    ingest(value: unknown): void {
      const parsed = fromDecisionRecord(value);
      if (parsed !== undefined) live(activity.onRequest(parsed.record, parsed.at, parsed.selections));
    },
    state,
    close(): void {
      clearInterval(heartbeat);
      offSelection();
      offOutcome();
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
