import v8 from "node:v8";
import { createServer } from "../server";
import { UsageError, number, parse } from "./args";
import { EXIT, type Io } from "./report";

/**
 * V8 optimises a function once it has run a budget of bytecode (67,584 bytes in Node 20). A gateway
 * runs much code once per request, so at that budget a fresh process spends its first few thousand
 * requests largely unoptimised, at up to twice its steady CPU per request (measured here: a 40-chunk
 * stream at concurrency 64 costs ~1,450 µs in the first 200 streams, ~550 µs after 3,000; with a
 * quarter of the budget ~880 µs at first, the same ~550 µs after). Fleets restart processes on
 * every deploy, so that is most of a short-lived process's life.
 */
export const V8_SERVE_FLAG = "--interrupt-budget=16384";

/** Lowers V8's optimisation budget for a serving process, unless node was started with its own. */
function tuneV8ForServing(): void {
  if (!process.execArgv.some((arg) => /^--interrupt[-_]budget(=|$)/.test(arg))) v8.setFlagsFromString(V8_SERVE_FLAG);
}

export const SERVE_HELP = `orchestrator serve [--config <file>] [--port <n>] [--host <address>] [--redis <url>] [--no-metrics]

Serves the configured models over HTTP: POST /v1/chat/completions and POST /v1/responses
(OpenAI's APIs; the Responses API stateless), POST /v1/messages and /v1/messages/count_tokens
(Anthropic's) — model: a model's name, a route's name or "auto" —, GET /v1/models, POST /v1/feedback, GET /healthz,
GET /readyz, GET /metrics (Prometheus), GET /ui (the dashboard; with a master key). Prints the URL once listening.
Every model initialises at start-up (its SDK, a local model's load); /readyz answers 503 until they all have,
and a model that cannot is printed ("not initialised: …") and tries again at its next request and /readyz probe.
Keys: with ORCHESTRATOR_MASTER_KEY set or keys: in the config, every request needs a key
(Authorization: Bearer …): virtual keys made with \`orchestrator keys create\` (the admin API,
/admin/*, takes the master key) or declared in keys:. With a redis: section (or --redis) keys,
budgets and rate limits are shared by every process on that Redis.
SIGTERM or SIGINT: stop accepting, let requests and streams in flight finish (up to --drain-timeout), close Redis, exit 0.

Options:
  -c, --config <file>         the YAML config (default ./models.yaml, else the embedded default)
      --port <n>              default 4000 (0: any free port)
      --host <address>        default 127.0.0.1 (0.0.0.0: every interface)
      --redis <url>           share statistics, health and limits through this Redis (replaces the config's redis: connection)
      --drain-timeout <ms>    how long shutdown waits for requests in flight (default 30000)
      --request-timeout <ms>  deadline of one API call, retries and fallbacks included
      --body-limit <bytes>    largest request body (default 4 MiB)
      --receive-timeout <ms>  how long a client has to send a whole request (default 66000; then 408)
      --no-metrics            no GET /metrics (the Prometheus metrics are on by default)

V8: serve lowers V8's optimisation budget (${V8_SERVE_FLAG}): V8 then optimises the gateway's code
sooner, and a fresh process spends less CPU on its first few thousand requests (the same after).
Start node with your own --interrupt-budget=<bytes> to choose another (Node 20's default: 67584).`;

/** `orchestrator serve`: runs until SIGTERM/SIGINT, then drains and resolves with the exit code. */
export async function serve(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    port: { type: "string" },
    host: { type: "string" },
    redis: { type: "string" },
    "drain-timeout": { type: "string" },
    "request-timeout": { type: "string" },
    "body-limit": { type: "string" },
    "receive-timeout": { type: "string" },
    "no-metrics": { type: "boolean" },
  });
  if (values.help) {
    io.out(SERVE_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments (got "${positionals[0]}")`);
  const port = number(values.port, "port") ?? 4000;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port expects a port number (0-65535), got "${String(values.port)}"`);
  const drainTimeoutMs = number(values["drain-timeout"], "drain-timeout");
  const requestTimeoutMs = number(values["request-timeout"], "request-timeout");
  const bodyLimitBytes = number(values["body-limit"], "body-limit");
  const receiveTimeoutMs = number(values["receive-timeout"], "receive-timeout");
  if (receiveTimeoutMs !== undefined && !(receiveTimeoutMs > 0 && receiveTimeoutMs <= 2_147_483_647))
    throw new UsageError(
      `--receive-timeout expects milliseconds (1-2147483647), got "${String(values["receive-timeout"])}"`,
    );
  if (typeof values.redis === "string" && !/^rediss?:\/\//.test(values.redis))
    throw new UsageError(
      `--redis expects a redis:// or rediss:// URL, got "${values.redis.replace(/\/\/[^@/]*@/, "//***@")}"`,
    );

  tuneV8ForServing();
  const server = await createServer({
    ...(typeof values.config === "string" ? { config: values.config } : {}),
    ...(typeof values.redis === "string" ? { redis: values.redis } : {}),
    ...(typeof values.host === "string" ? { host: values.host } : {}),
    port,
    ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }),
    ...(receiveTimeoutMs === undefined ? {} : { receiveTimeoutMs }),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
    ...(bodyLimitBytes === undefined ? {} : { bodyLimitBytes }),
    ...(values["no-metrics"] === true ? { metrics: false } : {}),
  });
  const stop = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    await server.close();
    throw error;
  }
  io.out(`orchestrator serving on ${url}`);
  for (const s of server.skipped) io.err(`unavailable: ${s.name} (${s.provider}): ${s.reason}`);
  // Every model initialises now, not at its first request; the operator hears of one that cannot.
  let stopping = false;
  void server.initialized.then((failures) => {
    if (stopping) return;
    for (const f of failures) io.err(`not initialised: ${f.model} (${f.provider}): ${f.reason}`);
  });
  const signal = await stop;
  stopping = true;
  io.err(`${signal}: draining requests in flight, then closing`);
  await server.close();
  io.err("closed");
  return EXIT.ok;
}
