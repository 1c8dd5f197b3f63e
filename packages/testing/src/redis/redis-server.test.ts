import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "./redis-server";

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** Sends PING on a fresh connection; resolves with the ms until +PONG, or undefined after `waitMs`. */
function ping(port: number, waitMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const start = performance.now();
    const socket = connect({ port, host: "127.0.0.1" });
    const timer = setTimeout(() => done(undefined), waitMs);
    function done(result: number | undefined) {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on("error", () => done(undefined));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      if (d.toString().includes("+PONG")) done(performance.now() - start);
    });
  });
}

describe("startRedisServer", () => {
  it("pause() freezes the server (commands wait, unanswered) and resume() lets it answer them", async () => {
    expect(redis.pid).toBeGreaterThan(0);
    expect(await ping(redis.port, 1_000)).toBeDefined();
    redis.pause();
    try {
      const waiting = ping(redis.port, 3_000);
      await new Promise((r) => setTimeout(r, 300));
      redis.resume();
      // Sent while frozen, answered only after the resume.
      expect(await waiting).toBeGreaterThanOrEqual(280);
    } finally {
      redis.resume();
    }
  });

  it("stop() ends a paused server too", async () => {
    const other = await startRedisServer();
    other.pause();
    await other.stop();
    expect(await ping(other.port, 300)).toBeUndefined();
  });
});
