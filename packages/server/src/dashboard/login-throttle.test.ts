// Guessing the master key at /ui: wrong keys from one address are refused for a while (429 with
// Retry-After), over HTTP against a real gateway; the per-address table stays bounded.
import { afterEach, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../test/gateway";
import { createDashboard } from "./dashboard";
import type { Dashboard } from "./types";
import { LoginThrottle } from "./login-throttle";

const MASTER = "sk-master-throttle-test-0123456789";
let gw: Gateway | undefined;
let dashboard: Dashboard | undefined;

afterEach(async () => {
  dashboard?.close();
  await gw?.close();
  gw = undefined;
  dashboard = undefined;
});

async function start(windowMs: number): Promise<Gateway> {
  let made: Dashboard | undefined;
  gw = await startGateway({
    setup: (registry) => {
      made = createDashboard({ registry, masterKey: MASTER, loginThrottle: { maxFailures: 3, windowMs } });
    },
    server: {
      get observers() {
        return made ? [made] : [];
      },
      get extraRoutes() {
        return made ? made.routes : [];
      },
    },
  });
  dashboard = made as Dashboard;
  return gw;
}

const login = (url: string, key: string) =>
  fetch(`${url}/ui/login`, { method: "POST", body: new URLSearchParams({ key }), redirect: "manual" });

describe("the login throttle", () => {
  it("refuses an address with 429 and Retry-After after repeated wrong keys, even the right key, until the window ends", async () => {
    const windowMs = 1_500;
    const gw = await start(windowMs);
    for (let i = 0; i < 3; i++) {
      const wrong = await login(gw.url, `guess-${i}`);
      expect(wrong.status).toBe(401);
      await wrong.text();
    }
    const lockedAt = Date.now();
    const refused = await login(gw.url, MASTER);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(windowMs / 1000));
    expect(refused.headers.get("set-cookie")).toBeNull();
    expect(await refused.text()).toContain("Too many wrong keys");
    // Bearer is refused as well while the address is locked out: it is the same guess by another door.
    const bearer = await fetch(`${gw.url}/ui/state`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(bearer.status).toBe(429);
    expect(((await bearer.json()) as { error: { code: string } }).error.code).toBe("too_many_login_attempts");

    // After the window the right key opens the dashboard again.
    await new Promise((r) => setTimeout(r, Math.max(0, lockedAt + windowMs + 50 - Date.now())));
    const good = await login(gw.url, MASTER);
    expect(good.status).toBe(303);
    expect(good.headers.get("set-cookie")).toMatch(/orchestrator_ui=/);
  });

  it("counts wrong Bearer keys too, and the right key clears the count", async () => {
    const gw = await start(60_000);
    const wrong = { authorization: "Bearer sk-wrong-guess" };
    for (let i = 0; i < 2; i++) expect((await fetch(`${gw.url}/ui/state`, { headers: wrong })).status).toBe(401);
    // The right key before the limit: allowed, and the failures are forgotten.
    const ok = await login(gw.url, MASTER);
    expect(ok.status).toBe(303);
    for (let i = 0; i < 2; i++) expect((await fetch(`${gw.url}/ui/state`, { headers: wrong })).status).toBe(401);
    expect((await fetch(`${gw.url}/ui/state`, { headers: { authorization: `Bearer ${MASTER}` } })).status).toBe(200);
    for (let i = 0; i < 3; i++) await fetch(`${gw.url}/ui/state`, { headers: wrong });
    expect((await fetch(`${gw.url}/ui/state`, { headers: { authorization: `Bearer ${MASTER}` } })).status).toBe(429);
  });

  it("keeps other addresses out of it, and its table bounded under a flood of addresses", () => {
    const throttle = new LoginThrottle({ maxFailures: 2, windowMs: 1_000, maxAddresses: 100 });
    const now = 1_000_000;
    throttle.fail("10.0.0.1", now);
    throttle.fail("10.0.0.1", now);
    expect(throttle.waitMs("10.0.0.1", now + 10)).toBe(990);
    expect(throttle.waitMs("10.0.0.2", now + 10)).toBe(0);
    for (let i = 0; i < 50_000; i++) throttle.fail(`192.168.${i >> 8}.${i & 255}`, now + 20);
    expect(throttle.size).toBeLessThanOrEqual(100);
    // Past the window the address may try again, and its entry is let go.
    const fresh = new LoginThrottle({ maxFailures: 2, windowMs: 1_000 });
    fresh.fail("a", now);
    fresh.fail("a", now);
    expect(fresh.waitMs("a", now + 1_000)).toBe(0);
    expect(fresh.size).toBe(0);
    expect(() => new LoginThrottle({ windowMs: -1 })).toThrow(/loginThrottle.windowMs/);
  });
});
