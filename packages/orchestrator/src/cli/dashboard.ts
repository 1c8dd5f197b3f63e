// `orchestrator dashboard`: the /ui page of `orchestrator serve` for applications that use the
// library, not the gateway. It builds the orchestrator from the same config; with a redis: section
// the models' statistics and health (and the keys' spend) are the ones every process shares.
// Only /ui is served: no API endpoint, nothing here calls a model.
import { type Server, createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Secret } from "@orchestrator-ts/core";
import { RedisDecisionStream, RedisKeyStore } from "@orchestrator-ts/redis";
import { replayFromFiles } from "@orchestrator-ts/replay";
import { type Dashboard, KeyGate, type ReplaySource, createDashboard } from "@orchestrator-ts/server";
import { decisionsKey, redisConnectionOptions, redisKeyPrefix } from "../shared-state";
import { withRedisUrl } from "../server";
import { createOrchestrator, loadConfig } from "../orchestrator";
import { UsageError, number, parse } from "./args";
import { DEFAULT_POLICY } from "./replay";
import { EXIT, type Io } from "./report";

export const DASHBOARD_HELP = `orchestrator dashboard [--config <file>] [--port <n>] [--host <address>] [--redis <url>] [--replay <csv>]

Serves the dashboard (the page \`orchestrator serve\` has at /ui) for applications that use the
library: models with their calls, latency, cost, reward, health and circuit state, and spend per
key, model and day. With a redis: section (or --redis) these are what every process on that Redis
shares. Sign in with the master key (ORCHESTRATOR_MASTER_KEY, required). Only /ui is served.
The live decision feed shows the decisions the library processes on that Redis publish (each
call's model, score, alternatives, latency, cost, cascade stages; redis: decisions: false turns
it off), starting with the most recent ones.

Options:
  -c, --config <file>   the YAML config (default ./models.yaml, else the embedded default)
      --port <n>        default 4001; 0 picks a free port
      --host <address>  default 127.0.0.1
      --redis <url>     read shared state from this Redis (replaces the config's redis: connection)
      --replay <data>   a RouterBench-style CSV file or folder: the replay's quality-vs-cost curve
                        (the default policy of \`orchestrator replay\`), drawn once at start`;

/**
 * The replay's curve, computed once before the page is served (a replay of a large CSV takes a
 * while and would otherwise stall the first page view). A decision log has no curve: say so.
 */
function replaySource(data: string): ReplaySource {
  const report = replayFromFiles({ data, split: "test", policy: DEFAULT_POLICY, seeds: [1, 2, 3] });
  const result = report.svg
    ? { svg: report.svg }
    : {
        hint: "A decision log gives an off-policy estimate of a policy, not a curve: run `orchestrator replay --data <log.jsonl>` for it, or give --replay a RouterBench-style CSV for the quality-vs-cost curve.",
      };
  return async () => result;
}

/** Shows the stream's recent decisions, then each new batch as it is written. Never rejects. */
async function follow(feed: RedisDecisionStream, board: Dashboard): Promise<void> {
  try {
    const recent = await feed.recent(20).catch(() => []);
    for (const batch of recent) for (const d of batch.decisions) board.ingest(d);
    await feed.tail(
      (batch) => {
        for (const d of batch.decisions) board.ingest(d);
      },
      recent.length > 0 ? { from: (recent[recent.length - 1] as { id: string }).id } : {},
    );
  } catch {
    // The page still shows models and spend; the feed stays as it is.
  }
}

export async function dashboard(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    port: { type: "string" },
    host: { type: "string" },
    redis: { type: "string" },
    replay: { type: "string" },
  });
  if (values.help) {
    io.out(DASHBOARD_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`dashboard takes no arguments (got "${positionals[0]}")`);
  const port = number(values.port, "port") ?? 4001;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port expects a port number (0-65535), got "${String(values.port)}"`);
  if (typeof values.redis === "string" && !/^rediss?:\/\//.test(values.redis))
    throw new UsageError(
      `--redis expects a redis:// or rediss:// URL, got "${values.redis.replace(/\/\/[^@/]*@/, "//***@")}"`,
    );
  const master = Secret.from(process.env.ORCHESTRATOR_MASTER_KEY);
  if (!master) throw new UsageError("the dashboard needs ORCHESTRATOR_MASTER_KEY: it is the key you sign in with");

  const replay = typeof values.replay === "string" ? replaySource(values.replay) : undefined;
  let config: Parameters<typeof createOrchestrator>[0] =
    typeof values.config === "string" ? { config: values.config } : {};
  if (typeof values.redis === "string")
    config = { config: withRedisUrl((await loadConfig(config)).config, values.redis) };
  // It reads the decisions stream below and makes no calls: nothing to publish.
  const orchestrator = await createOrchestrator({ ...config, startHealthMonitor: false, publishDecisions: false });
  const redis = orchestrator.config.redis;
  const gate = redis
    ? new KeyGate({
        store: new RedisKeyStore({ ...redisConnectionOptions(redis), keyPrefix: redisKeyPrefix(redis) }),
        ownsStore: true,
        masterKey: master,
        keys: orchestrator.config.keys ?? [],
      })
    : undefined;
  const board: Dashboard = createDashboard({
    registry: orchestrator.registry,
    masterKey: master,
    ...(gate ? { spend: gate } : {}),
    ...(replay ? { replay } : {}),
  });
  // The decisions library processes publish: the recent ones first, then live.
  const feed =
    redis && redis.decisions !== false
      ? new RedisDecisionStream({ ...redisConnectionOptions(redis), key: decisionsKey(redis) })
      : undefined;
  const tailing = feed ? follow(feed, board) : undefined;
  const routes = new Map(board.routes.map((r) => [`${r.method} ${r.path}`, r]));
  const server: Server = createHttpServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] as string;
    const route = routes.get(`${req.method ?? "GET"} ${path}`);
    if (!route) {
      res.writeHead(path === "/" ? 302 : 404, path === "/" ? { location: "/ui" } : { "content-type": "text/plain" });
      res.end(path === "/" ? undefined : "Not found: this server has only the dashboard, at /ui.\n");
      return;
    }
    Promise.resolve()
      .then(() => route.handle(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("The dashboard failed to render this page.\n");
      });
  });
  const stop = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  const host = typeof values.host === "string" ? values.host : "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
  } catch (error) {
    board.close();
    await feed?.close();
    await tailing;
    await gate?.close();
    await orchestrator.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  io.out(`orchestrator dashboard on http://${host.includes(":") ? `[${host}]` : host}:${address.port}/ui`);
  const signal = await stop;
  io.err(`${signal}: closing`);
  board.close();
  await feed?.close();
  await tailing;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await gate?.close();
  await orchestrator.close();
  return EXIT.ok;
}
