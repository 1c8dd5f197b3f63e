// A real Redis Cluster for tests: N primaries with one replica each, on free loopback ports.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServerHandle, freePort, startRedisProcess } from "./redis-server";
import { respCommand } from "./resp";

export interface RedisClusterNode extends RedisServerHandle {
  host: "127.0.0.1";
}

export interface RedisClusterHandle {
  /** Every node, primaries first as created (their roles change after a failover). */
  nodes: RedisClusterNode[];
  /** `{ host, port }` of every node: the seed list for `new Cluster(…)` or `redis: { cluster }`. */
  seeds: { host: string; port: number }[];
  /** The node serving `key`'s hash slot as primary now (asked from the cluster). */
  primaryFor(key: string): Promise<RedisClusterNode>;
  /** Nodes that are primaries now. */
  primaries(): Promise<RedisClusterNode[]>;
  /**
   * Resolves once every slot is served by a primary that answers and every running node agrees
   * (`cluster_state:ok` everywhere): after a failover, or a killed node's restart.
   */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Stop every node and delete their files. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Primaries (each gets one replica). Default 3 (so 6 processes). */
  primaries?: number;
  /**
   * `cluster-node-timeout`: how long a primary may not answer before its replica takes over.
   * Default 1,000 ms (Redis' own default is 15 s), so a failover takes ~2-3 s in tests.
   */
  nodeTimeoutMs?: number;
}

let cliChecked = false;
function assertCli(): void {
  if (cliChecked) return;
  const probe = spawnSync("redis-cli", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      "redis-cli is not installed: the cluster tests need it (apt-get install -y redis-tools; .ci/run installs it).",
    );
  }
  cliChecked = true;
}

/**
 * Start a Redis Cluster on loopback: `primaries` × 2 `redis-server --cluster-enabled yes`
 * processes (each with its own free client port and bus port), joined by `redis-cli --cluster
 * create … --cluster-replicas 1`. Resolves once every slot is served (`cluster_state:ok` on every
 * node). Each node is a `RedisServerHandle` (kill, pause, restart…) for fault tests.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  assertCli();
  const count = (options.primaries ?? 3) * 2;
  if (count < 6) throw new Error("a Redis Cluster needs at least 3 primaries");
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const dir = mkdtempSync(join(tmpdir(), "orc-redis-cluster-"));
  const nodes: RedisClusterNode[] = [];
  try {
    const ports = await distinctFreePorts(count * 2);
    const started = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const port = ports[2 * i] as number;
        const busPort = ports[2 * i + 1] as number;
        const args = [
          "--cluster-enabled",
          "yes",
          "--cluster-port",
          String(busPort),
          "--cluster-config-file",
          join(dir, `nodes-${port}.conf`),
          "--cluster-node-timeout",
          String(nodeTimeoutMs),
          // A replica may always take over, however long it was cut off (a test kills and pauses nodes at will).
          "--cluster-replica-validity-factor",
          "0",
          "--dir",
          dir,
          "--repl-diskless-sync-delay",
          "0",
          "--save",
          "",
          "--appendonly",
          "no",
        ];
        const handle = await startRedisProcess({ port, args });
        return Object.assign(handle, { host: "127.0.0.1" as const });
      }),
    );
    nodes.push(...started);
    await createCluster(nodes.map((n) => n.port));
    const cluster = handleFor(nodes, dir);
    await cluster.waitUntilHealthy(15_000);
    // Slots are served before gossip has told every node which nodes are replicas: until then a
    // node's view lists six primaries (seen in CI). Resolve only once the replicas are known as such.
    const deadline = Date.now() + 15_000;
    while ((await cluster.primaries()).length !== count / 2) {
      if (Date.now() > deadline) throw new Error(`the cluster's replicas did not attach within 15000 ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return cluster;
  } catch (error) {
    await Promise.all(nodes.map((n) => n.kill().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function createCluster(ports: number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "1", "--cluster-yes"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0 && output.includes("[OK] All 16384 slots covered")) resolve();
      else reject(new Error(`redis-cli --cluster create failed (${code}): ${output.slice(-1_000)}`));
    });
  });
}

interface NodeLine {
  port: number;
  primary: boolean;
  failed: boolean;
  slots: [number, number][];
}

/** `CLUSTER NODES` as seen by the node on `port`. */
async function clusterNodes(port: number): Promise<NodeLine[]> {
  const text = String(await respCommand(port, ["CLUSTER", "NODES"], { timeoutMs: 1_000 }));
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const parts = line.split(" ");
      const address = parts[1] ?? "";
      const flags = (parts[2] ?? "").split(",");
      const slots: [number, number][] = [];
      for (const range of parts.slice(8)) {
        if (range.startsWith("[")) continue; // a slot being migrated
        const [from, to] = range.split("-").map(Number);
        if (from !== undefined && Number.isFinite(from)) slots.push([from, to ?? from]);
      }
      return {
        port: Number(address.split(":")[1]?.split("@")[0]),
        primary: flags.includes("master"),
        failed: flags.includes("fail") || flags.includes("fail?"),
        slots,
      };
    });
}

function handleFor(nodes: RedisClusterNode[], dir: string): RedisClusterHandle {
  const byPort = new Map(nodes.map((n) => [n.port, n]));
  /** Asks the running nodes in turn: a killed or paused one does not answer. */
  const view = async (): Promise<NodeLine[]> => {
    let last: unknown;
    for (const node of nodes) {
      try {
        return await clusterNodes(node.port);
      } catch (error) {
        last = error;
      }
    }
    throw new Error(`no cluster node answers: ${String(last)}`);
  };
  return {
    nodes,
    seeds: nodes.map((n) => ({ host: n.host, port: n.port })),
    async primaries() {
      return (await view()).filter((l) => l.primary && !l.failed).flatMap((l) => byPort.get(l.port) ?? []);
    },
    async primaryFor(key: string) {
      const slot = Number(
        await respCommand((nodes[0] as RedisClusterNode).port, ["CLUSTER", "KEYSLOT", key]).catch(async () =>
          respCommand((nodes[1] as RedisClusterNode).port, ["CLUSTER", "KEYSLOT", key]),
        ),
      );
      const line = (await view()).find(
        (l) => l.primary && !l.failed && l.slots.some(([from, to]) => slot >= from && slot <= to),
      );
      const node = line ? byPort.get(line.port) : undefined;
      if (!node) throw new Error(`no primary serves slot ${slot} (key ${JSON.stringify(key)})`);
      return node;
    },
    async waitUntilHealthy(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let why = "";
      while (Date.now() < deadline) {
        why = await healthProblem(nodes);
        if (why === "") return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the cluster was not healthy within ${timeoutMs} ms: ${why}`);
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop().catch(() => n.kill())));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** "" when every answering node reports `cluster_state:ok` and sees every slot served by a primary that answers. */
async function healthProblem(nodes: RedisClusterNode[]): Promise<string> {
  let answering = 0;
  const servingPorts = new Set<number>();
  for (const node of nodes) {
    let info: string;
    try {
      info = String(await respCommand(node.port, ["CLUSTER", "INFO"], { timeoutMs: 300 }));
    } catch {
      continue; // killed or paused: the others must cover for it
    }
    answering++;
    if (!info.includes("cluster_state:ok")) return `node ${node.port}: cluster_state is not ok`;
    const lines = await clusterNodes(node.port).catch(() => undefined);
    if (!lines) continue;
    let covered = 0;
    for (const line of lines) {
      if (!line.primary || line.failed || line.slots.length === 0) continue;
      servingPorts.add(line.port);
      for (const [from, to] of line.slots) covered += to - from + 1;
    }
    if (covered !== 16_384) return `node ${node.port} sees ${covered} of 16384 slots served`;
  }
  if (answering === 0) return "no node answers";
  // A primary just killed is still listed as serving until the others agree it failed.
  for (const port of servingPorts) {
    const pong = await respCommand(port, ["PING"], { timeoutMs: 300 }).catch(() => undefined);
    if (pong !== "PONG") return `primary ${port} does not answer`;
  }
  return "";
}
