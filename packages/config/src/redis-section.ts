// The `redis:` sections (top level and `cache.redis`): checks the schema cannot express, and the
// mapping to the camelCase shape `@orchestrator-ts/redis` takes.
import {
  type ConfigIssue,
  type RedisConfig,
  type RedisConnectionConfig,
  type RedisNodeConfig,
  Secret,
} from "@orchestrator-ts/core";
import { formatPath } from "@orchestrator-ts/core/internal";
import type { z } from "zod";
import { compact } from "./compact";
import { SECRET_ENV_NAME } from "./env";
import { type Locator, issueAt } from "./issues";
import type { REDIS_CONNECTION_SHAPE, redisSchema } from "./schema";
import { hasCredentials } from "./secrets";
import type { PathKey, YamlTree } from "./yaml-tree";

type RawConnection = z.output<z.ZodObject<typeof REDIS_CONNECTION_SHAPE>>;
type RawRedis = z.output<typeof redisSchema>;

const URL_PATTERN = /^rediss?:\/\/[^\s]+$/;
const NODE_PATTERN = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:/[\]@]+)(?::(\d{1,5}))?$/;

function nodeProblem(node: string): string | undefined {
  if (node.includes("://")) {
    if (!URL_PATTERN.test(node)) return `expected "host:port" or a redis:// URL, got ${quote(node)}`;
    try {
      const url = new URL(node);
      if (url.hostname === "") return `the URL names no host: ${quote(node)}`;
    } catch {
      return `not a valid URL: ${quote(node)}`;
    }
    return undefined;
  }
  const match = NODE_PATTERN.exec(node);
  if (!match) return `expected "host:port" or a redis:// URL, got ${quote(node)}`;
  const port = match[1] === undefined ? undefined : Number(match[1]);
  if (port !== undefined && (port < 1 || port > 65_535)) return `port must be from 1 to 65535, got ${port}`;
  return undefined;
}

function mappingProblem(node: unknown): string | undefined {
  if (node === null || typeof node !== "object" || Array.isArray(node)) {
    return `expected "host:port", a redis:// URL or { host, port }, got ${Array.isArray(node) ? "a list" : node === null ? "an empty value" : String(node)}`;
  }
  const record = node as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => k !== "host" && k !== "port");
  if (extra.length > 0) return `unknown key "${extra[0]}" in a node (expected host and port)`;
  if (typeof record.host !== "string" || record.host === "") return "a node needs a host";
  const port = record.port;
  if (!(typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65_535))
    return `port must be a whole number from 1 to 65535, got ${port === undefined ? "nothing" : JSON.stringify(port)}`;
  return undefined;
}

function quote(text: string): string {
  // Never echo credentials: the host part is enough to find the entry.
  const shown = text.replace(/\/\/[^@/]*@/, "//…@");
  return JSON.stringify(shown.length > 60 ? `${shown.slice(0, 60)}…` : shown);
}

/** Problems with a `redis:` (or `cache.redis:`) mapping that passed the schema, each at its line. */
export function checkRedisConnection(raw: RawConnection, path: readonly PathKey[], locator: Locator): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const given = (["url", "cluster", "sentinels"] as const).filter((k) => raw[k] !== undefined);
  if (given.length > 1) {
    issues.push(
      issueAt(
        locator,
        [...path, given[1] as string],
        `give one of url, cluster and sentinels (one server, a Redis Cluster, or Sentinel), not ${given.join(" and ")}`,
        "key",
      ),
    );
  }
  if (raw.url !== undefined) {
    // A URL that cannot be parsed (a port over 65535, a broken IPv6 host) failed only when Redis was first used.
    const problem = URL_PATTERN.test(raw.url)
      ? nodeProblem(raw.url)
      : `expected a redis:// or rediss:// URL, got ${quote(raw.url)}`;
    if (problem) issues.push(issueAt(locator, [...path, "url"], problem));
  }
  for (const key of ["cluster", "sentinels"] as const) {
    raw[key]?.forEach((node, i) => {
      const problem = typeof node === "string" ? nodeProblem(node) : mappingProblem(node);
      if (problem) issues.push(issueAt(locator, [...path, key, i], problem));
    });
  }
  if (raw.sentinels !== undefined && raw.name === undefined) {
    issues.push(
      issueAt(
        locator,
        [...path, "sentinels"],
        'needs "name": the master group name the Sentinels monitor (sentinel monitor <name> …)',
        "key",
      ),
    );
  }
  if (raw.name !== undefined && raw.sentinels === undefined) {
    issues.push(
      issueAt(locator, [...path, "name"], '"name" is the master group of Sentinel: it needs "sentinels"', "key"),
    );
  }
  if (raw.sentinel_password !== undefined && raw.sentinels === undefined) {
    issues.push(issueAt(locator, [...path, "sentinel_password"], '"sentinel_password" needs "sentinels"', "key"));
  }
  return issues;
}

/** A value read from a variable named like a secret (`${REDIS_PASSWORD}`) stays a `Secret`. */
function fromSecretVariable(tree: YamlTree, path: readonly PathKey[]): boolean {
  return (tree.envVariables.get(formatPath(path)) ?? []).some((v) => SECRET_ENV_NAME.test(v));
}

function secretUrl(value: string, tree: YamlTree, path: readonly PathKey[]): string | Secret {
  return fromSecretVariable(tree, path) || hasCredentials(value) ? new Secret(value) : value;
}

function nodes(
  list: RawConnection["cluster"],
  tree: YamlTree,
  path: readonly PathKey[],
): RedisNodeConfig[] | undefined {
  return list?.map((node, i) => {
    if (typeof node === "string") return secretUrl(node, tree, [...path, i]);
    const { host, port } = node as { host: string; port: number };
    return { host, port };
  });
}

/** The connection in the TypeScript spelling; passwords and URLs with credentials as `Secret`s. */
export function mapRedisConnection(
  raw: RawConnection,
  path: readonly PathKey[],
  tree: YamlTree,
): RedisConnectionConfig {
  return compact({
    url: raw.url === undefined ? undefined : secretUrl(raw.url, tree, [...path, "url"]),
    cluster: nodes(raw.cluster, tree, [...path, "cluster"]),
    sentinels: nodes(raw.sentinels, tree, [...path, "sentinels"]),
    name: raw.name,
    username: raw.username,
    password: raw.password === undefined ? undefined : new Secret(raw.password),
    sentinelPassword: raw.sentinel_password === undefined ? undefined : new Secret(raw.sentinel_password),
    operationTimeoutMs: raw.operation_timeout,
    keyPrefix: raw.key_prefix,
  });
}

/** The top-level section. */
export function mapRedis(raw: RawRedis, tree: YamlTree): RedisConfig {
  return compact({
    ...mapRedisConnection(raw, ["redis"], tree),
    statistics: raw.statistics,
    health: raw.health,
    limits: raw.limits,
    decisions: raw.decisions,
    whenUnavailable: raw.when_unavailable,
  });
}
