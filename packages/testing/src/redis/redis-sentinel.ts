// A real primary + replica watched by Sentinels, for tests: free loopback ports, fast failover.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServerHandle, freePort, startRedisProcess } from "./redis-server";
import { respCommand } from "./resp";

export interface RedisSentinelHandle {
  /** The master group's name (`redis: { sentinels, name }`). */
  name: string;
  /** `{ host, port }` of every Sentinel. */
  sentinels: { host: string; port: number }[];
  /** The data nodes: `[0]` starts as the primary, `[1]` as its replica. */
  nodes: RedisServerHandle[];
  /** The Sentinel processes. */
  sentinelNodes: RedisServerHandle[];
  /** The node the Sentinels name as primary now. */
  primary(): Promise<RedisServerHandle>;
  /**
   * Resolves once the Sentinels name a running node other than `previous` as primary and it
   * answers as one (`role:master`): after `previous` was killed or paused.
   */
  waitForFailover(previous: RedisServerHandle, timeoutMs?: number): Promise<RedisServerHandle>;
  stop(): Promise<void>;
}

export interface RedisSentinelOptions {
  /** Master group name. Default `"orcprimary"`. */
  name?: string;
  /** Sentinels (quorum: a majority of them). Default 3. */
  sentinels?: number;
  /** `down-after-milliseconds`: how long the primary may not answer before a failover. Default 1,000 ms. */
  downAfterMs?: number;
}

/**
 * Start a primary, one replica and `sentinels` Sentinels (`redis-server <conf> --sentinel`, the
 * same binary; Debian's `redis-sentinel` package only adds a service for it) on free loopback
 * ports. Resolves once every Sentinel knows the primary, the replica and the other Sentinels, so
 * a failover can happen at once.
 */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelHandle> {
  const name = options.name ?? "orcprimary";
  const count = options.sentinels ?? 3;
  const quorum = Math.floor(count / 2) + 1;
  const downAfterMs = options.downAfterMs ?? 1_000;
  const dir = mkdtempSync(join(tmpdir(), "orc-redis-sentinel-"));
  const started: RedisServerHandle[] = [];
  try {
    // No diskless-sync delay (5 s by default): a replica syncs at once, here and after a failover.
    const data = ["--save", "", "--appendonly", "no", "--dir", dir, "--repl-diskless-sync-delay", "0"];
    const primary = await startRedisProcess({ port: await freePort(), args: data });
    started.push(primary);
    const replica = await startRedisProcess({
      port: await freePort(),
      args: [...data, "--replicaof", "127.0.0.1", String(primary.port)],
    });
    started.push(replica);
    await waitFor(
      async () => String(await respCommand(replica.port, ["INFO", "replication"])).includes("master_link_status:up"),
      10_000,
      "the replica to sync",
    );
    const sentinelNodes: RedisServerHandle[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const config = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its config file as it learns: each gets its own, writable.
      writeFileSync(
        config,
        [
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} ${Math.max(3 * downAfterMs, 3_000)}`,
          `sentinel parallel-syncs ${name} 1`,
          `dir ${dir}`,
          "",
        ].join("\n"),
      );
      const sentinel = await startRedisProcess({ port, config, args: ["--sentinel"] });
      sentinelNodes.push(sentinel);
      started.push(sentinel);
    }
    const handle = handleFor(name, [primary, replica], sentinelNodes, dir);
    // Sentinels find the replica (through the primary's INFO) and each other (hello messages on the primary) within a few seconds.
    await waitFor(
      async () => {
        for (const s of sentinelNodes) {
          const info = (await respCommand(s.port, ["SENTINEL", "MASTER", name])) as string[];
          const field = (k: string) => Number(info[info.indexOf(k) + 1]);
          if (field("num-slaves") < 1 || field("num-other-sentinels") < count - 1) return false;
        }
        return true;
      },
      20_000,
      "the Sentinels to find the replica and each other",
    );
    return handle;
  } catch (error) {
    await Promise.all(started.map((s) => s.kill().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

function handleFor(
  name: string,
  nodes: RedisServerHandle[],
  sentinelNodes: RedisServerHandle[],
  dir: string,
): RedisSentinelHandle {
  const primaryPort = async (): Promise<number> => {
    let last: unknown;
    for (const s of sentinelNodes) {
      try {
        const reply = (await respCommand(s.port, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name], {
          timeoutMs: 500,
        })) as string[];
        return Number(reply[1]);
      } catch (error) {
        last = error;
      }
    }
    throw new Error(`no Sentinel answers: ${String(last)}`);
  };
  const nodeAt = (port: number): RedisServerHandle => {
    const node = nodes.find((n) => n.port === port);
    if (!node) throw new Error(`the Sentinels name an unknown primary (port ${port})`);
    return node;
  };
  return {
    name,
    sentinels: sentinelNodes.map((s) => ({ host: "127.0.0.1", port: s.port })),
    nodes,
    sentinelNodes,
    async primary() {
      return nodeAt(await primaryPort());
    },
    async waitForFailover(previous: RedisServerHandle, timeoutMs = 20_000) {
      let next: RedisServerHandle | undefined;
      await waitFor(
        async () => {
          const port = await primaryPort();
          if (port === previous.port) return false;
          const role = String(await respCommand(port, ["ROLE"], { timeoutMs: 500 }).then((r) => (r as unknown[])[0]));
          if (role !== "master") return false;
          next = nodeAt(port);
          return true;
        },
        timeoutMs,
        "a failover",
      );
      return next as RedisServerHandle;
    },
    async stop() {
      await Promise.all([...sentinelNodes, ...nodes].map((n) => n.stop().catch(() => n.kill())));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
