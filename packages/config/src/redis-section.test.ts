// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text; ${VAR} in them is the subject under test.
import { inspect } from "node:util";
import { ConfigError, type ConfigIssue, Secret, formatConfigIssue } from "@orchestrator-ts/core";
import { describe, expect, it } from "vitest";
import { type ParseOptions, parseModelConfig } from "./index";

function problems(text: string, options: ParseOptions = {}): string[] {
  try {
    parseModelConfig(text, { source: "models.yaml", env: {}, ...options });
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    return error.issues.map((i: ConfigIssue) => formatConfigIssue(i));
  }
  throw new Error("expected a ConfigError");
}

const models = "models:\n  - name: a\n    provider: fake\n";

describe("redis: one server, a Redis Cluster or Sentinel, for every shared part", () => {
  it("one server by URL, with which parts share and what limits do without Redis", () => {
    const config = parseModelConfig(
      `${models}redis:\n  url: redis://cache.internal:6379/0\n  key_prefix: "app:"\n  operation_timeout: 500ms\n  statistics: true\n  health: false\n  limits: true\n  when_unavailable: reject\n`,
      { env: {} },
    );
    expect(config.redis).toEqual({
      url: "redis://cache.internal:6379/0",
      keyPrefix: "app:",
      operationTimeoutMs: 500,
      statistics: true,
      health: false,
      limits: true,
      whenUnavailable: "reject",
    });
  });

  it("a cluster by its seed nodes, in any spelling; passwords are secrets", () => {
    const config = parseModelConfig(
      `${models}redis:\n  cluster:\n    - 10.0.0.1:6379\n    - "[::1]:7000"\n    - { host: redis-3.internal, port: 6379 }\n  username: app\n  password: \${REDIS_PASSWORD}\n`,
      { env: { REDIS_PASSWORD: "cl4ster-pass-0123" } },
    );
    expect(config.redis?.cluster).toEqual(["10.0.0.1:6379", "[::1]:7000", { host: "redis-3.internal", port: 6379 }]);
    expect(config.redis?.username).toBe("app");
    expect(config.redis?.password).toBeInstanceOf(Secret);
    expect(config.redis?.password?.reveal()).toBe("cl4ster-pass-0123");
    expect(JSON.stringify(config)).not.toContain("cl4ster-pass");
    expect(inspect(config, { depth: 10 })).not.toContain("cl4ster-pass");
  });

  it("Sentinel by its Sentinels and the master group's name", () => {
    const config = parseModelConfig(
      `${models}redis:\n  sentinels: [s1:26379, s2:26379, s3:26379]\n  name: mymaster\n  sentinel_password: s3ntinel-pass\n`,
      { env: {} },
    );
    expect(config.redis?.sentinels).toEqual(["s1:26379", "s2:26379", "s3:26379"]);
    expect(config.redis?.name).toBe("mymaster");
    expect(config.redis?.sentinelPassword).toBeInstanceOf(Secret);
  });

  it("cache.redis takes the same shapes; a node URL with a password is a secret", () => {
    const config = parseModelConfig(
      `${models}cache:\n  backend: redis\n  redis:\n    cluster: ["redis://:n0de-pass@10.0.0.1:6379", "10.0.0.2:6379"]\n    key_prefix: "c:"\n`,
      { env: {} },
    );
    const nodes = config.cache?.redis?.cluster ?? [];
    expect(nodes[0]).toBeInstanceOf(Secret);
    expect(nodes[1]).toBe("10.0.0.2:6379");
    expect(config.cache?.redis?.keyPrefix).toBe("c:");
    expect(JSON.stringify(config)).not.toContain("n0de-pass");
  });

  const cases: [string, string, string[]][] = [
    [
      "two shapes at once",
      "redis:\n  url: redis://a:6379\n  cluster: [b:6379]\n",
      [
        "models.yaml:6:3: redis.cluster: give one of url, cluster and sentinels (one server, a Redis Cluster, or Sentinel), not url and cluster",
      ],
    ],
    [
      "sentinels without a name",
      "redis:\n  sentinels: [s1:26379]\n",
      [
        'models.yaml:5:3: redis.sentinels: needs "name": the master group name the Sentinels monitor (sentinel monitor <name> …)',
      ],
    ],
    [
      "a name without sentinels",
      "redis:\n  url: redis://a:6379\n  name: mymaster\n",
      ['models.yaml:6:3: redis.name: "name" is the master group of Sentinel: it needs "sentinels"'],
    ],
    ["an empty cluster", "redis:\n  cluster: []\n", ["models.yaml:5:12: redis.cluster: must not be empty"]],
    [
      "a node that is no address",
      "redis:\n  cluster:\n    - 10.0.0.1:6379\n    - not an address\n",
      ['models.yaml:7:7: redis.cluster[1]: expected "host:port" or a redis:// URL, got "not an address"'],
    ],
    [
      "a number for a node",
      "redis:\n  cluster: [6379]\n",
      ['models.yaml:5:13: redis.cluster[0]: expected "host:port", a redis:// URL or { host, port }, got 6379'],
    ],
    [
      "a node mapping without a port",
      "redis:\n  cluster: [{ host: a }]\n",
      ["models.yaml:5:13: redis.cluster[0]: port must be a whole number from 1 to 65535, got nothing"],
    ],
    [
      "a port out of range",
      "redis:\n  sentinels: [s1:99999]\n  name: m\n",
      ["models.yaml:5:15: redis.sentinels[0]: port must be from 1 to 65535, got 99999"],
    ],
    [
      "a URL of another scheme",
      "redis:\n  url: http://cache:6379\n",
      ['models.yaml:5:8: redis.url: expected a redis:// or rediss:// URL, got "http://cache:6379"'],
    ],
    [
      "a misspelt key",
      "redis:\n  clustr: [a:6379]\n",
      ['models.yaml:5:3: redis.clustr: unknown key "clustr" — did you mean "cluster"?'],
    ],
    [
      "an unknown policy",
      "redis:\n  when_unavailable: open\n",
      ['models.yaml:5:21: redis.when_unavailable: expected one of "share", "local", "reject", got "open"'],
    ],
    [
      "cache.redis: two shapes",
      "cache:\n  backend: redis\n  redis:\n    url: redis://a\n    sentinels: [s:26379]\n    name: m\n",
      [
        "models.yaml:8:5: cache.redis.sentinels: give one of url, cluster and sentinels (one server, a Redis Cluster, or Sentinel), not url and sentinels",
      ],
    ],
  ];

  it.each(cases)("%s: a ConfigError at the line", (_title, text, expected) => {
    expect(problems(`${models}${text}`)).toEqual(expected);
  });

  it("a redis.url that cannot be parsed (a port over 65535) is an error at its line, without its password", () => {
    const [message] = problems(`${models}redis: { url: "redis://default:hunter2-SECRET@redis.internal:99999" }\n`);
    expect(message).toMatch(/:\d+:\d+: redis\.url: not a valid URL/);
    expect(message).not.toContain("hunter2");
  });

  it("never shows a password from a node URL in an error", () => {
    const [message] = problems(`${models}redis:\n  cluster: ["redis://:s3cret-pass@@bad host"]\n`);
    expect(message).toMatch(/redis\.cluster\[0\]/);
    expect(message).not.toContain("s3cret-pass");
  });
});
