// How many commands a Redis server ran: INFO commandstats, and MONITOR to tell the commands
// clients sent from those Lua scripts ran inside them.
import { connect } from "node:net";
import { respCommand } from "./resp";

/** `INFO commandstats` of the server on `port`: command name → calls (inside scripts included). */
export async function redisCommandStats(port: number): Promise<Record<string, number>> {
  const info = String(await respCommand(port, ["INFO", "commandstats"]));
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1] as string] = Number(match[2]);
  return calls;
}

/** `after − before`, without the commands that took the measurement (INFO). */
export function commandStatsDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0);
    if (delta <= 0 || name === "info" || name === "monitor") continue;
    byCommand[name] = delta;
    total += delta;
  }
  return { total, byCommand };
}

export interface RedisCommandCounter {
  /** Commands clients sent (each one round trip; a script call counts once). */
  readonly sent: number;
  /** Commands that Lua scripts ran. */
  readonly fromScripts: number;
  /** Sent commands by name (lower case). */
  readonly sentByCommand: Readonly<Record<string, number>>;
  stop(): void;
}

/**
 * Counts what the server on `port` runs from now on, through `MONITOR` on a connection of its
 * own (itself not counted). MONITOR costs the server some throughput: for measurements.
 */
export function countRedisCommands(port: number): Promise<RedisCommandCounter> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let sent = 0;
    let fromScripts = 0;
    const sentByCommand: Record<string, number> = {};
    let buffer = "";
    let ready = false;
    const counter: RedisCommandCounter = {
      get sent() {
        return sent;
      },
      get fromScripts() {
        return fromScripts;
      },
      sentByCommand,
      stop: () => socket.destroy(),
    };
    socket.on("error", (error) => {
      if (!ready) reject(error);
    });
    socket.on("connect", () => socket.write("MONITOR\r\n"));
    socket.on("data", (data) => {
      buffer += data.toString("latin1");
      let end = buffer.indexOf("\r\n");
      while (end >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\r\n");
        if (!ready) {
          if (line === "+OK") {
            ready = true;
            resolve(counter);
          }
          continue;
        }
        // +<time> [<db> <client address | lua>] "<command>" "<arg>"…
        const match = /^\+[\d.]+ \[\d+ ([^\]]+)\] "([^"]*)"/.exec(line);
        if (!match) continue;
        if (match[1] === "lua") fromScripts++;
        else {
          sent++;
          const name = (match[2] as string).toLowerCase();
          sentByCommand[name] = (sentByCommand[name] ?? 0) + 1;
        }
      }
    });
  });
}
