import type { Secret, SpendRow } from "@orchestrator-ts/core";
import type { ModelRegistry } from "@orchestrator-ts/registry";
import type { ServerObserver } from "../contract";
import type { ServerRoute } from "../server";
import type { CascadeView } from "./cascade-view";
import type { LoginThrottleOptions } from "./login-throttle";
import type { ModelView, SpendView } from "./page";

// What createDashboard takes, returns and shows: its options and sources, the handle, the state.

/** Where spend per key and per model comes from: the key gate (`KeyGate` fits), when keys are on. */
export interface SpendSource {
  /** Every key with its budget and what it spent this period. */
  listKeys(): Promise<
    { name: string; budgetUsd?: number; period?: string; spentUsd?: number; resetsAt?: string; revokedAt?: string }[]
  >;
  /** Spend since a moment, per key, model or user. */
  spend(query: { by: "key" | "model" | "user"; since: Date }): Promise<SpendRow[]>;
}

/** The quality-vs-cost curve of a replay, drawn by `@orchestrator-ts/replay` (an SVG document), or how to get one. */
export type ReplaySource = () => Promise<{ svg: string } | { hint: string }>;

/** Options of `createDashboard`. */
export interface DashboardOptions {
  /** The registry the server serves: statistics, health and its selection/outcome events. */
  registry: ModelRegistry;
  /** The key that opens the dashboard. Default `ORCHESTRATOR_MASTER_KEY`; without one, createDashboard throws a ConfigError. */
  masterKey?: string | Secret;
  /** Spend per key against its budget, per model, per day: the key gate. */
  spend?: SpendSource;
  /** The replay's quality-vs-cost curve. */
  replay?: ReplaySource;
  /** Mount point. Default `/ui`. */
  path?: string;
  /** Decisions kept for the feed. Default 200. */
  feedSize?: number;
  /** Minutes kept for the charts. Default 60. */
  minutes?: number;
  /** Live (SSE) clients at once; more get 503. Default 32. */
  maxClients?: number;
  /** SSE heartbeat period. Default 15 s. */
  heartbeatMs?: number;
  /** Login session lifetime. Default 12 h. */
  sessionTtlMs?: number;
  /** Set the cookie's `Secure` flag (behind HTTPS). Default false. */
  secureCookie?: boolean;
  /** Wrong master keys (form or Bearer) from one address: refused with 429 for a while after 5 in a minute. */
  loginThrottle?: LoginThrottleOptions;
}

/** The dashboard: an observer for createServer's `observers` and its routes for `extraRoutes`. */
export interface Dashboard extends ServerObserver {
  readonly routes: readonly ServerRoute[];
  /** Live SSE clients now. */
  readonly clients: number;
  /** The data the page shows, as JSON (GET /ui/state). */
  state(): Promise<DashboardState>;
  /**
   * A decision of a library process (a `DecisionRecord` read from Redis by `orchestrator
   * dashboard`): shown in the feed like the gateway's own. Checked field by field; ignored when it is not one.
   */
  ingest(record: unknown): void;
  /** Ends every SSE stream and stops listening to the registry. */
  close(): void;
}

/** What the dashboard shows, as `GET /ui/state` answers it: totals, models, the feed (newest first), spend. */
export interface DashboardState {
  totals: {
    requests: number;
    errors: number;
    errorRate: number | undefined;
    costUsd: number;
    cacheHitRate: number | undefined;
  };
  selector: string;
  models: ModelView[];
  feed: {
    seq: number;
    at: string;
    endpoint: string;
    status: number;
    requested?: string;
    model?: string;
    score?: number;
    excluded: { model: string; reason: string }[];
    alternatives: { model: string; score?: number; note?: string }[];
    latencyMs: number;
    costUsd?: number;
    cached?: boolean;
    fallbacks: number;
    errorCode?: string;
    keyName?: string;
    cascade?: CascadeView;
  }[];
  spend: SpendView | undefined;
}
