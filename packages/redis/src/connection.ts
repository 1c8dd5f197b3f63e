import { ConfigError, type ConfigIssue, OrchestratorError, Secret, redact, scrubUrls } from "@orchestrator-ts/core";
import { timeLimit } from "@orchestrator-ts/core/internal";
import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import { ioredis } from "./ioredis";

/** A Redis node: `"host:port"`, `"redis://[user:password@]host:port"` (or a `Secret` holding it) or `{ host, port }`. */
export type RedisNodeAddress = string | Secret | { host: string; port: number };

/**
 * Where Redis is, in one of four shapes (give one):
 * - `url`: one server (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS);
 * - `cluster`: some nodes of a Redis Cluster (the others are discovered);
 * - `sentinels` + `name`: the Sentinels watching the primary called `name`;
 * - `client`: an ioredis `Redis` or `Cluster` you made (used as is, not closed by `close()`).
 * With none, `REDIS_URL`, else `redis://127.0.0.1:6379`.
 */
export interface RedisConnectionOptions {
  /** One server (or a `Secret` holding its URL). */
  url?: string | Secret;
  /** Redis Cluster: seed nodes (`"host:port"`, a `redis://` URL, or `{ host, port }`); a password in a URL applies to every node. */
  cluster?: readonly RedisNodeAddress[];
  /** Redis Sentinel: the Sentinels (`"host:port"`, default port 26379), with `name`. */
  sentinels?: readonly RedisNodeAddress[];
  /** The master group name the Sentinels monitor (`sentinel monitor <name> …`). */
  name?: string;
  /** Password of the data nodes (cluster nodes, or the primary and replicas behind Sentinel). */
  password?: string | Secret;
  /** ACL user of the data nodes. */
  username?: string;
  /** Password of the Sentinels themselves, when they require one. */
  sentinelPassword?: string | Secret;
  /** A client you own; it is used as is and not closed by `close()`. */
  client?: Redis | Cluster;
  /** Longest one Redis command may take. Past it the operation fails over (bypass, local view, local limits). */
  operationTimeoutMs?: number;
  /** Extra ioredis options for a client created here (for a cluster: every node's connection). */
  redisOptions?: RedisOptions;
  /** Extra ioredis `Cluster` options, with `cluster`. */
  clusterOptions?: ClusterOptions;
}

/** Which of the shapes a connection uses. */
export type RedisTopology = "server" | "cluster" | "sentinel";

/** Redis could not be reached in time; the caller fell back (it is reported, never thrown to a model call). */
export class RedisUnavailableError extends OrchestratorError {
  static override readonly errorName: string = "RedisUnavailableError";
  override readonly code = "redis_unavailable";
  override readonly retryable = true;
}

const TITLE = "Invalid Redis options";

/** Checks the connection options without connecting: one `ConfigError` naming every problem. */
export function validateRedisConnectionOptions(options: RedisConnectionOptions): void {
  const issues: ConfigIssue[] = [];
  const given = (["url", "cluster", "sentinels", "client"] as const).filter(
    (k) => options[k] !== undefined && options[k] !== null,
  );
  if (given.length > 1)
    issues.push({
      path: given[1] as string,
      message: `give one of url, cluster, sentinels and client, not ${given.join(" and ")}`,
    });
  if (options.url !== undefined && typeof options.url !== "string" && !Secret.isSecret(options.url))
    issues.push({ path: "url", message: "must be a string (redis://host:port) or a Secret" });
  else if (options.url !== undefined) {
    // Checked here, not by ioredis: its TypeError carries the whole URL, password included, as `input`.
    const url = Secret.isSecret(options.url) ? options.url.reveal() : options.url;
    if (url.includes("://") && parseNode(url, 6379) === undefined)
      issues.push({
        path: "url",
        message: `expected a redis:// or rediss:// URL with a host and a port from 1 to 65535, got ${JSON.stringify(scrubUrls(url))}`,
      });
  }
  for (const key of ["cluster", "sentinels"] as const) {
    const list = options[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) {
      issues.push({ path: key, message: 'must be a non-empty list of nodes ("host:port" or { host, port })' });
      continue;
    }
    list.forEach((node, i) => {
      const problem = nodeProblem(node);
      if (problem) issues.push({ path: `${key}[${i}]`, message: problem });
    });
  }
  if (options.sentinels !== undefined && (typeof options.name !== "string" || options.name === "")) {
    issues.push({ path: "name", message: "is required with sentinels: the master group name the Sentinels monitor" });
  }
  if (options.name !== undefined && options.sentinels === undefined)
    issues.push({ path: "name", message: "only applies with sentinels" });
  if (
    options.client !== undefined &&
    !(options.client instanceof ioredis().Redis || options.client instanceof ioredis().Cluster) &&
    typeof (options.client as { sendCommand?: unknown })?.sendCommand !== "function"
  ) {
    issues.push({ path: "client", message: "must be an ioredis Redis or Cluster" });
  }
  const timeout = options.operationTimeoutMs;
  if (timeout !== undefined && !(typeof timeout === "number" && Number.isFinite(timeout) && timeout > 0)) {
    issues.push({
      path: "operationTimeoutMs",
      message: `must be a positive number of milliseconds, got ${JSON.stringify(timeout)}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, { title: TITLE });
}

function nodeProblem(node: RedisNodeAddress): string | undefined {
  if (Secret.isSecret(node))
    return parseNode(node, 6379) ? undefined : 'expected "host:port" or a redis:// URL (in a Secret)';
  if (typeof node === "object" && node !== null) {
    if (typeof node.host !== "string" || node.host === "") return "needs a host";
    if (!isPort(node.port)) return `port must be an integer from 1 to 65535, got ${JSON.stringify(node.port)}`;
    return undefined;
  }
  if (typeof node !== "string" || node === "") return 'expected "host:port" or { host, port }';
  return parseNode(node, 6379)
    ? undefined
    : `expected "host:port" or a redis:// URL, got ${JSON.stringify(redact(node))}`;
}

function isPort(port: unknown): port is number {
  return typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65_535;
}

interface ParsedNode {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls?: boolean;
}

function parseNode(address: RedisNodeAddress, defaultPort: number): ParsedNode | undefined {
  const node = Secret.isSecret(address) ? address.reveal() : address;
  if (typeof node === "object") return { host: node.host, port: node.port };
  if (node.includes("://")) {
    try {
      const url = new URL(node);
      if (!/^rediss?:$/.test(url.protocol) || url.hostname === "") return undefined;
      const port = url.port === "" ? defaultPort : Number(url.port);
      if (!isPort(port)) return undefined;
      const parsed: ParsedNode = { host: url.hostname.replace(/^\[|\]$/g, ""), port };
      if (url.username) parsed.username = decodeURIComponent(url.username);
      if (url.password) parsed.password = decodeURIComponent(url.password);
      if (url.protocol === "rediss:") parsed.tls = true;
      return parsed;
    } catch {
      return undefined;
    }
  }
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/@[\]]+))(?::(\d+))?$/.exec(node);
  if (!match) return undefined;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  return isPort(port) ? { host: (match[1] ?? match[2]) as string, port } : undefined;
}

function reveal(value: string | Secret | undefined): string | undefined {
  if (value === undefined) return undefined;
  const secret = Secret.from(value);
  return secret?.reveal();
}

/**
 * An ioredis client for the options (`url`, `cluster` or `sentinels`), with the failure behaviour
 * this package wants: commands fail fast while the server is unreachable (one retry after a
 * reconnect), the connection is retried in the background, and `commandTimeoutMs` bounds a
 * command (undefined: the caller bounds it itself). A `client` option is returned as is.
 * For stores built on this package (they take the same options).
 */
export function createRedisClient(
  options: RedisConnectionOptions,
  commandTimeoutMs: number | undefined,
): { client: Redis | Cluster; owned: boolean; topology: RedisTopology } {
  validateRedisConnectionOptions(options);
  if (options.client) return { client: options.client, owned: false, topology: topologyOf(options.client) };
  const timeoutMs = commandTimeoutMs ?? options.operationTimeoutMs ?? 1_000;
  const base: RedisOptions = {
    // A dead server must not stall calls: fail fast, retry the connection in the background.
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(1_000, timeoutMs),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
  };
  if (commandTimeoutMs !== undefined) base.commandTimeout = commandTimeoutMs;
  const password = reveal(options.password);
  if (password) new Secret(password);
  if (options.cluster) {
    const nodes = options.cluster.map((n) => parseNode(n, 6379) as ParsedNode);
    const fromUrl = nodes.find((n) => n.password !== undefined || n.username !== undefined || n.tls);
    if (fromUrl?.password) new Secret(fromUrl.password);
    const nodeOptions: RedisOptions = { ...base, ...options.redisOptions };
    const nodePassword = password ?? fromUrl?.password;
    const nodeUser = options.username ?? fromUrl?.username;
    if (nodePassword !== undefined) nodeOptions.password = nodePassword;
    if (nodeUser !== undefined) nodeOptions.username = nodeUser;
    if (fromUrl?.tls && nodeOptions.tls === undefined) nodeOptions.tls = {};
    // Per-node connections are not retried by ioredis (a lost node is found again through the
    // slot map); the cluster as a whole reconnects with clusterRetryStrategy.
    delete nodeOptions.retryStrategy;
    const client = new (ioredis().Cluster)(
      nodes.map((n) => ({ host: n.host, port: n.port })),
      {
        redisOptions: nodeOptions,
        clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
        // A primary's failover takes seconds (cluster-node-timeout + election); the callers here
        // bound every command and retry on their own schedule, so ioredis only retries briefly.
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        slotsRefreshTimeout: Math.max(500, Math.min(timeoutMs, 2_000)),
        ...options.clusterOptions,
      },
    );
    return { client, owned: true, topology: "cluster" };
  }
  if (options.sentinels) {
    const sentinels = options.sentinels.map((n) => parseNode(n, 26379) as ParsedNode);
    const sentinelPassword = reveal(options.sentinelPassword) ?? sentinels.find((s) => s.password)?.password;
    if (sentinelPassword) new Secret(sentinelPassword);
    const client = new (ioredis().Redis)({
      ...base,
      sentinels: sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: options.name as string,
      ...(password === undefined ? {} : { password }),
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
      sentinelRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
      ...options.redisOptions,
    });
    return { client, owned: true, topology: "sentinel" };
  }
  const url =
    Secret.from(options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379")?.reveal() ?? "redis://127.0.0.1:6379";
  registerUrlSecrets(url);
  const client = new (ioredis().Redis)(url, {
    ...base,
    ...(password === undefined ? {} : { password }),
    ...options.redisOptions,
  });
  return { client, owned: true, topology: "server" };
}

function topologyOf(client: Redis | Cluster): RedisTopology {
  if ((client as { isCluster?: boolean }).isCluster === true || client instanceof ioredis().Cluster) return "cluster";
  return (client as Redis).options?.sentinels ? "sentinel" : "server";
}

/** The client's own per-command timeout (a cluster: its nodes'), when it has one. */
export function commandTimeoutOf(client: Redis | Cluster): number | undefined {
  const options = (client as Cluster).isCluster ? (client as Cluster).options?.redisOptions : (client as Redis).options;
  const timeout = options?.commandTimeout;
  return typeof timeout === "number" && timeout > 0 ? timeout : undefined;
}

/**
 * One Redis client with the failure behaviour every part of this package wants: commands time
 * out instead of queueing for ever, reconnection happens in the background, and while the server
 * is known to be down operations fail at once rather than waiting for their timeout.
 */
export class RedisConnection {
  readonly client: Redis | Cluster;
  readonly owned: boolean;
  readonly topology: RedisTopology;
  readonly #probeKey: string | undefined;
  readonly #probeTimeoutMs: number;
  #everReady = false;
  #stalled = false;
  readonly #recoveryListeners = new Set<() => void>();
  lastError: string | undefined;

  /**
   * `defaults.commandTimeoutMs` (default `operationTimeoutMs`; `null`: none, the part bounds its
   * commands itself) applies to a client created here. `probeKey`: after a failure, the
   * connection counts as back once a command on this key's slot is answered (on a cluster,
   * the part's own shard, not any node; without it every primary must answer).
   */
  constructor(
    options: RedisConnectionOptions,
    defaults: { operationTimeoutMs: number; commandTimeoutMs?: number | null; probeKey?: string },
  ) {
    const timeoutMs = options.operationTimeoutMs ?? defaults.operationTimeoutMs;
    const created = createRedisClient(
      options,
      defaults.commandTimeoutMs === null ? undefined : (defaults.commandTimeoutMs ?? timeoutMs),
    );
    this.client = created.client;
    this.owned = created.owned;
    this.topology = created.topology;
    this.#probeKey = defaults.probeKey;
    this.#probeTimeoutMs = timeoutMs;
    if (this.client.status === "ready") this.#everReady = true;
    this.client.on("ready", () => {
      const again = this.#everReady;
      this.#everReady = true;
      // The server answered the ready check on a fresh connection.
      this.#stalled = false;
      if (again) this.#recovered();
    });
    // Without a listener an ioredis "error" event would crash the process.
    this.client.on("error", (error: Error) => {
      this.lastError = redact(error.message);
    });
    if (this.topology === "cluster") {
      this.client.on("node error", (error: Error) => {
        this.lastError = redact(error?.message ?? String(error));
      });
    }
  }

  /**
   * Whether sending a command makes sense now: connected, or still making the first connection
   * (commands then wait in ioredis' queue, bounded by the command timeout). After an outage
   * begins, operations fail at once until the connection is back.
   */
  get available(): boolean {
    const s = this.client.status;
    if (s === "ready") return !this.#stalled;
    return !this.#everReady && (s === "wait" || s === "connecting" || s === "connect");
  }

  /** A command failed on a connection that looked fine, and no probe has been answered since. */
  get stalled(): boolean {
    return this.#stalled;
  }

  /**
   * Report a command that failed (timed out, or refused while a cluster shard fails over) while
   * the connection was up: a frozen or overloaded server keeps its connections open, so nothing
   * else would tell. Until a probe sent now is answered, `available` is false and operations
   * fall back at once instead of each waiting out its own timeout.
   */
  commandFailed(error?: unknown): void {
    if (error instanceof Error) this.lastError = redact(error.message);
    if (this.#stalled || this.client.status !== "ready") return;
    this.#stalled = true;
    void this.#probe();
  }

  /** `listener` runs each time Redis answers again after an outage or a stall (not on the first connection). */
  onRecovered(listener: () => void): void {
    this.#recoveryListeners.add(listener);
  }

  #recovered(): void {
    for (const listener of this.#recoveryListeners) {
      try {
        listener();
      } catch {
        // One listener's bug must not keep the others from catching up.
      }
    }
  }

  /** One probe: the part's key (its shard), else PING (every primary of a cluster). */
  #probeOnce(): Promise<unknown> {
    const client = this.client;
    if (this.#probeKey !== undefined) return client.exists(this.#probeKey);
    if (this.topology === "cluster") return Promise.all((client as Cluster).nodes("master").map((node) => node.ping()));
    return client.ping();
  }

  async #probe(): Promise<void> {
    while (this.#stalled && this.client.status !== "end") {
      try {
        await bounded(this.#probeOnce(), this.#probeTimeoutMs);
        if (!this.#stalled) return;
        this.#stalled = false;
        this.#recovered();
      } catch (error) {
        if (error instanceof Error) this.lastError = redact(error.message);
        // A frozen primary gives ioredis no error to learn the new slot map from (its commands
        // only time out): ask the cluster who serves what now, so a promoted replica is found.
        if (this.topology === "cluster") (this.client as Cluster).refreshSlotsCache();
        // Timed out (still frozen), refused (a shard failing over) or the connection broke: ask again shortly.
        await new Promise((resolve) => setTimeout(resolve, 100).unref());
      }
    }
  }

  unavailable(what: string, cause?: unknown): RedisUnavailableError {
    const reason =
      cause instanceof Error ? redact(cause.message) : (this.lastError ?? `connection ${this.client.status}`);
    return new RedisUnavailableError(`Redis is unavailable for ${what}: ${reason}`);
  }

  async close(): Promise<void> {
    if (!this.owned || this.client.status === "end") return;
    try {
      if (this.client.status === "ready") {
        await Promise.race([this.client.quit(), new Promise((resolve) => setTimeout(resolve, 500).unref())]);
      }
    } catch {
      // Closing a broken connection may fail; disconnect below regardless.
    }
    this.client.disconnect();
  }
}

/** `promise`, or a rejection ("Command timed out") after `ms`. */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  return timeLimit(promise, ms, () => new Error("Command timed out"));
}

// The ioredis client holds the password in its options: never print it.
Object.defineProperty(RedisConnection.prototype, Symbol.for("nodejs.util.inspect.custom"), {
  value(this: RedisConnection): string {
    return `RedisConnection ${JSON.stringify({ topology: this.topology, status: this.client.status, owned: this.owned })}`;
  },
});
Object.defineProperty(RedisConnection.prototype, "toJSON", {
  value(this: RedisConnection): Record<string, unknown> {
    return { topology: this.topology, status: this.client.status, owned: this.owned };
  },
});

function registerUrlSecrets(url: string): void {
  try {
    const parsed = new URL(url);
    if (parsed.password) new Secret(decodeURIComponent(parsed.password));
  } catch {
    // ioredis reports a malformed URL itself.
  }
}
