// The gateway against the floor and the field, side by side in one run, each server in a process
// of its own, all in front of one loopback OpenAI upstream (another process): the openai SDK
// straight to the upstream; through a minimal pass-through proxy (node:http in, undici out, the
// floor for any Node gateway); through the Portkey gateway; through our gateway.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import OpenAI from "openai";
import { Pool } from "undici";
import type { CaseResult } from "../harness";
import { type ClimbStep, type RateRun, climbRates } from "../gateway/climb";
import { type PairedRatio, pairedRatio } from "../gateway/paired";
import { type ProcessStats, type ServerChild, spawnServer } from "../gateway/processes";
import { startServerProcess } from "../server-process";

const KEY = "sk-bench-0000000000000000";
const MODEL = "gpt-4o-mini";
const GATEWAY_DIR = resolve(import.meta.dirname, "../gateway");
const ROOT = resolve(import.meta.dirname, "../../../..");

export interface GatewayCaseOptions {
  /** Measured plain calls per contender at concurrency 1 (64 runs 3.2× as many). */
  iterations: number;
  /** Measured whole streams per contender at concurrency 1 (64 runs 3.2× as many). */
  streamIterations: number;
  /**
   * Warm-up calls per contender, scenario and concurrency, before its measured rounds (default
   * 1,000): a Node server's first thousand requests run partly unoptimised and cost more, the
   * more code per request the more. Their CPU is reported on its own (`warmupCpuUsPerRequest`).
   */
  warmup?: number;
  /** Interleaved rounds per scenario. */
  rounds?: number;
  /** How long each step of the sustained-rate search holds its rate (the issue's goal: 60 s). */
  rateSeconds: number;
  /** The rates tried, lowest first, until one fails. */
  rates?: readonly number[];
  /** Requests for the RSS-growth measure (the issue's goal: 200,000). */
  rssRequests: number;
  /** Which contenders to run besides the direct call (all by default). */
  only?: readonly ("proxy" | "portkey" | "orchestrator" | "orchestrator-no-metrics" | "orchestrator-responses")[];
  /** Told of every server process started (the smoke test checks they are all gone afterwards). */
  onServer?: (server: ServerChild) => void;
}

const DEFAULT_RATES = [100, 200, 300, 500, 600, 750, 900, 1000, 1200, 1400, 2000, 2800, 4000];
const CONCURRENCIES = [1, 64] as const;

interface Target {
  name: string;
  /**
   * `orchestrator-no-metrics` is our gateway without /metrics, `orchestrator-responses` our gateway
   * asked through OpenAI's Responses API (the same upstream, reached with chat completions): latency
   * and CPU only, to show what the metrics and the Responses face cost.
   */
  key: "direct" | "proxy" | "portkey" | "orchestrator" | "orchestrator-no-metrics" | "orchestrator-responses";
  /** Base URL of the OpenAI API (`…/v1`). */
  baseURL: string;
  headers: Record<string, string>;
  server?: ServerChild;
  client: OpenAI;
  pool: Pool;
}

/** What a server process spent while some calls ran: CPU, the part of it in GC, and its upstream reads. */
interface ServerUsage {
  cpuUs: number;
  gcUs: number;
  reads: number;
}

interface Sampled extends ServerUsage {
  latUs: number[];
  ttftUs: number[];
  errors: number;
  requests: number;
  rounds: GatewayRound[];
}

const emptySampled = (): Sampled => ({
  latUs: [],
  ttftUs: [],
  errors: 0,
  cpuUs: 0,
  gcUs: 0,
  reads: 0,
  requests: 0,
  rounds: [],
});

/** One contender's measured round: what it read, and what every process that took part spent on it. */
export interface GatewayRound {
  /** Median latency of the round's calls. */
  medianUs: number;
  /** The server process's CPU per call; undefined for the direct call. */
  serverCpuUsPerRequest?: number;
  /** The bench process's CPU per call (the openai SDK client, shared by every contender). */
  clientCpuUsPerRequest: number;
  /** The upstream process's CPU per call (shared by every contender; /proc, 10 ms ticks: undefined elsewhere). */
  upstreamCpuUsPerRequest?: number;
}

/** A process's CPU time (user + system) in µs from /proc, or undefined where there is none (not Linux). */
function procCpuUs(pid: number): number | undefined {
  try {
    // The fields after the command (which may hold spaces) start after the last ')'; utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
  } catch {
    return undefined;
  }
}
// USER_HZ: 100 on every Linux build that matters here (the kernel's ABI value for /proc).
const CLOCK_TICKS = 100;

/** min / median / max of some numbers, or undefined without any. */
function spread(values: readonly (number | undefined)[]): { min: number; median: number; max: number } | undefined {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (known.length === 0) return undefined;
  return { min: Math.min(...known), median: quantile(known, 0.5), max: Math.max(...known) };
}

/** What `target`'s server process spent while `work` ran; undefined for the direct call, which has none. */
async function serverUsageDuring(target: Target, work: () => Promise<void>): Promise<ServerUsage | undefined> {
  const before = target.server ? await target.server.stats() : undefined;
  await work();
  if (!target.server || !before) return undefined;
  const after = await target.server.stats();
  return { cpuUs: after.cpuUs - before.cpuUs, gcUs: after.gcUs - before.gcUs, reads: after.reads - before.reads };
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function runConcurrent(
  n: number,
  concurrency: number,
  call: () => Promise<number | undefined>,
  into: Sampled,
): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      const t0 = performance.now();
      try {
        const firstText = await call();
        into.latUs.push((performance.now() - t0) * 1000);
        if (firstText !== undefined) into.ttftUs.push(firstText * 1000);
      } catch {
        into.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/** Open loop: `rate` requests per second for `seconds`, each timed from when it was due (no coordinated omission). */
async function openLoop(
  target: Target,
  body: string,
  rate: number,
  seconds: number,
): Promise<{ latUs: number[]; errors: number }> {
  const total = Math.max(1, Math.round(rate * seconds));
  const intervalMs = 1000 / rate;
  const latUs: number[] = [];
  let errors = 0;
  let sent = 0;
  let done = 0;
  const maxInFlight = 4096;
  let inFlight = 0;
  const start = performance.now();
  return new Promise((resolveRun) => {
    const finish = () => {
      if (++done === total) resolveRun({ latUs, errors });
    };
    const fire = (due: number) => {
      if (inFlight >= maxInFlight) {
        errors++;
        finish();
        return;
      }
      inFlight++;
      target.pool
        .request({
          method: "POST",
          path: `${new URL(target.baseURL).pathname}/chat/completions`,
          headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, ...target.headers },
          body,
        })
        .then(
          async (res) => {
            await res.body.dump({ limit: Number.POSITIVE_INFINITY });
            if (res.statusCode === 200) latUs.push((performance.now() - due) * 1000);
            else errors++;
          },
          () => {
            errors++;
          },
        )
        .finally(() => {
          inFlight--;
          finish();
        });
    };
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
      while (sent < due) fire(start + sent++ * intervalMs);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

async function closedLoop(target: Target, body: string, n: number, concurrency: number): Promise<number> {
  let started = 0;
  let errors = 0;
  const path = `${new URL(target.baseURL).pathname}/chat/completions`;
  const worker = async () => {
    while (started < n) {
      started++;
      try {
        const res = await target.pool.request({
          method: "POST",
          path,
          headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, ...target.headers },
          body,
        });
        await res.body.dump({ limit: Number.POSITIVE_INFINITY });
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return errors;
}

function portkeyScript(): string {
  const require = createRequire(join(ROOT, "tools/bench/package.json"));
  return join(dirname(require.resolve("@portkey-ai/gateway/package.json")), "build/start-server.js");
}

/**
 * Our gateway as a user starts it: `orchestrator serve --config models.yaml --port 0`, one OpenAI
 * model pointing at the upstream, no cache (every benchmark request is the same prompt).
 */
async function startOrchestrator(upstreamURL: string, metrics = true): Promise<{ child: ServerChild; how: string }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-gateway-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, "models.yaml");
  writeFileSync(
    config,
    [
      "models:",
      `  - name: ${MODEL}`,
      "    provider: openai",
      `    config: { api_key: "\${BENCH_UPSTREAM_KEY}", base_url: "${upstreamURL}/v1" }`,
      "",
    ].join("\n"),
  );
  const bin = join(ROOT, "packages/orchestrator/bin/orchestrator.js");
  const args = ["serve", "--config", config, "--port", "0", ...(metrics ? [] : ["--no-metrics"])];
  const child = await spawnServer(metrics ? "orchestrator serve" : "orchestrator serve --no-metrics", bin, args, {
    env: { BENCH_UPSTREAM_KEY: KEY, ORCHESTRATOR_HOME: dir },
    cwd: dir,
  });
  return { child, how: "`orchestrator serve --config models.yaml` (one OpenAI model, /metrics on, no key gate)" };
}

const mb = (bytes: number) => bytes / (1024 * 1024);
const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n)
    ? "–"
    : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** a / b, or undefined when b is not a positive number (an added latency lost in the noise has no ratio). */
const divide = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a / b) ? undefined : a / b;
const ratio = (a: number | undefined, b: number | undefined) => {
  const r = divide(a, b);
  return r === undefined ? "–" : `${r.toFixed(2)}×`;
};

export interface GatewayRow {
  contender: string;
  scenario: "plain" | "stream";
  concurrency: number;
  requests: number;
  errors: number;
  medianUs: number;
  p99Us: number;
  /** Over the direct call in the same run. */
  addedMedianUs: number;
  addedP99Us: number;
  ttftMedianUs?: number;
  ttftP99Us?: number;
  addedTtftMedianUs?: number;
  addedTtftP99Us?: number;
  /** The server process's CPU (user + system) per request; undefined for the direct call. */
  serverCpuUsPerRequest?: number;
  /** Of that CPU, the time in garbage collection, per request. */
  serverGcUsPerRequest?: number;
  /** Reads the server took of its upstream's answers, per request (how the answer's bytes arrived). */
  upstreamReadsPerRequest?: number;
  /** The same over the warm-up calls before the measured ones (for plain c1: a fresh process's first calls). */
  warmupCpuUsPerRequest?: number;
  /** Round by round: shows whether the machine drifted during the phase (the direct call and the shared processes too). */
  rounds: GatewayRound[];
}

export interface GatewayExtra {
  upstream: string;
  orchestrator: string;
  /** Warm-up calls per contender before each scenario and concurrency was measured. */
  warmup: number;
  rows: GatewayRow[];
  rss: Record<string, { beforeMb: number; afterMb: number }>;
  rate: {
    seconds: number;
    rates: readonly number[];
    /** Every run of the direct call, in order (a failed step's second try has its own). */
    direct: { rate: number; run: RateRun }[];
    highest: Record<string, number | undefined>;
    /** Every step tried, in order; a failed step's second try is `attempt` 2. */
    steps: ClimbStep[];
    /** The rate the direct call itself could not hold, where the climb ended (the machine's ceiling). */
    ceiling?: number;
  };
  rssGrowth: {
    requests: number;
    concurrency: number;
    byContender: Record<string, { beforeMb: number; afterMb: number; growthMb: number; errors: number }>;
  };
  /** `ok` is undefined when the floor's own number is lost in the noise (not positive), so no ratio exists. */
  goals: {
    goal: string;
    contender: string;
    value: string;
    ok: boolean | undefined;
    /** The same ratio round by round (CPU goals): whether this run decides the goal, whatever the pooled value says. */
    rounds?: PairedRatio;
  }[];
}

/** Runs the whole comparison; returns the JSON result and its Markdown. */
export async function gatewayCase(options: GatewayCaseOptions): Promise<{ result: CaseResult; markdown: string }> {
  const warmup = options.warmup ?? 1_000;
  const rounds = options.rounds ?? 10;
  const rates = options.rates ?? DEFAULT_RATES;
  const want = new Set(
    options.only ?? ["proxy", "portkey", "orchestrator", "orchestrator-no-metrics", "orchestrator-responses"],
  );
  const upstream = await startServerProcess("startOpenAIServer", { apiKey: KEY });
  const servers: ServerChild[] = [];
  const targets: Target[] = [];
  const mkTarget = (
    key: Target["key"],
    name: string,
    baseURL: string,
    headers: Record<string, string>,
    server?: ServerChild,
  ): Target => ({
    key,
    name,
    baseURL,
    headers,
    ...(server ? { server } : {}),
    client: new OpenAI({ apiKey: KEY, baseURL, maxRetries: 0, defaultHeaders: headers }),
    pool: new Pool(new URL(baseURL).origin, { connections: 128, keepAliveTimeout: 60_000 }),
  });
  let orchestratorHow = "not run";
  try {
    targets.push(mkTarget("direct", "openai SDK → upstream (direct)", `${upstream.url}/v1`, {}));
    if (want.has("proxy")) {
      const proxy = await spawnServer("minimal proxy", join(GATEWAY_DIR, "minimal-proxy.mjs"), [], {
        env: { UPSTREAM_URL: upstream.url },
        cwd: GATEWAY_DIR,
      });
      servers.push(proxy);
      options.onServer?.(proxy);
      targets.push(mkTarget("proxy", "minimal proxy (node:http + undici)", `${proxy.url}/v1`, {}, proxy));
    }
    if (want.has("portkey")) {
      const portkey = await spawnServer("Portkey", portkeyScript(), ["--port=0", "--headless"], { cwd: ROOT });
      servers.push(portkey);
      options.onServer?.(portkey);
      targets.push(
        mkTarget(
          "portkey",
          "Portkey gateway 1.15.2",
          `${portkey.url}/v1`,
          { "x-portkey-provider": "openai", "x-portkey-custom-host": `${upstream.url}/v1` },
          portkey,
        ),
      );
    }
    if (want.has("orchestrator")) {
      const { child, how } = await startOrchestrator(upstream.url);
      orchestratorHow = how;
      servers.push(child);
      options.onServer?.(child);
      targets.push(mkTarget("orchestrator", "orchestrator gateway", `${child.url}/v1`, {}, child));
    }
    if (want.has("orchestrator-no-metrics")) {
      const { child } = await startOrchestrator(upstream.url, false);
      servers.push(child);
      options.onServer?.(child);
      targets.push(
        mkTarget("orchestrator-no-metrics", "orchestrator gateway without /metrics", `${child.url}/v1`, {}, child),
      );
    }
    if (want.has("orchestrator-responses")) {
      const { child } = await startOrchestrator(upstream.url);
      servers.push(child);
      options.onServer?.(child);
      targets.push(
        mkTarget("orchestrator-responses", "orchestrator gateway, Responses API", `${child.url}/v1`, {}, child),
      );
    }
    const rssStart = new Map<string, ProcessStats>();
    for (const t of targets) if (t.server) rssStart.set(t.key, await t.server.stats({ gc: true }));

    const plainMessages = [{ role: "user" as const, content: "Summarise the benefits of caching in two sentences." }];
    // The upstream echoes the prompt word by word: 40 words stream as 40 text chunks.
    const streamMessages = [
      { role: "user" as const, content: Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ") },
    ];
    const plainCall = (t: Target) => async () => {
      if (t.key === "orchestrator-responses")
        await t.client.responses.create({ model: MODEL, input: plainMessages[0]?.content ?? "" });
      else await t.client.chat.completions.create({ model: MODEL, messages: plainMessages });
      return undefined;
    };
    const streamCall = (t: Target) => async () => {
      const t0 = performance.now();
      let first: number | undefined;
      if (t.key === "orchestrator-responses") {
        const events = await t.client.responses.create({
          model: MODEL,
          input: streamMessages[0]?.content ?? "",
          stream: true,
        });
        for await (const event of events)
          if (first === undefined && event.type === "response.output_text.delta" && event.delta.length > 0)
            first = performance.now() - t0;
        if (first === undefined) throw new Error("a stream without text");
        return first;
      }
      const stream = await t.client.chat.completions.create({
        model: MODEL,
        messages: streamMessages,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream)
        if (first === undefined && (chunk.choices[0]?.delta?.content ?? "").length > 0) first = performance.now() - t0;
      if (first === undefined) throw new Error("a stream without text");
      return first;
    };

    const rows: GatewayRow[] = [];
    for (const scenario of ["plain", "stream"] as const) {
      for (const concurrency of CONCURRENCIES) {
        const perContender = Math.round(
          (scenario === "plain" ? options.iterations : options.streamIterations) * (concurrency === 1 ? 1 : 3.2),
        );
        const perRound = Math.max(1, Math.ceil(perContender / rounds));
        const call = scenario === "plain" ? plainCall : streamCall;
        const sampled = targets.map(emptySampled);
        const warmupCpuUs = new Map<Target, number | undefined>();
        for (const t of targets)
          warmupCpuUs.set(
            t,
            (await serverUsageDuring(t, () => runConcurrent(warmup, concurrency, call(t), emptySampled())))?.cpuUs,
          );
        for (let round = 0; round < rounds; round++) {
          for (let k = 0; k < targets.length; k++) {
            const index = (k + round) % targets.length;
            const t = targets[index] as Target;
            const into = sampled[index] as Sampled;
            const from = into.latUs.length;
            const clientBefore = process.cpuUsage();
            const upstreamBefore = procCpuUs(upstream.pid);
            const usage = await serverUsageDuring(t, () => runConcurrent(perRound, concurrency, call(t), into));
            const client = process.cpuUsage(clientBefore);
            const upstreamAfter = procCpuUs(upstream.pid);
            into.cpuUs += usage?.cpuUs ?? 0;
            into.gcUs += usage?.gcUs ?? 0;
            into.reads += usage?.reads ?? 0;
            into.requests += perRound;
            into.rounds.push({
              medianUs: quantile(into.latUs.slice(from), 0.5),
              ...(usage ? { serverCpuUsPerRequest: usage.cpuUs / perRound } : {}),
              clientCpuUsPerRequest: (client.user + client.system) / perRound,
              ...(upstreamBefore !== undefined && upstreamAfter !== undefined
                ? { upstreamCpuUsPerRequest: (upstreamAfter - upstreamBefore) / perRound }
                : {}),
            });
          }
        }
        const direct = sampled[0] as Sampled;
        const dMed = quantile(direct.latUs, 0.5);
        const dP99 = quantile(direct.latUs, 0.99);
        const dTtftMed = quantile(direct.ttftUs, 0.5);
        const dTtftP99 = quantile(direct.ttftUs, 0.99);
        targets.forEach((t, i) => {
          const s = sampled[i] as Sampled;
          const med = quantile(s.latUs, 0.5);
          const p99 = quantile(s.latUs, 0.99);
          const row: GatewayRow = {
            contender: t.name,
            scenario,
            concurrency,
            requests: s.requests,
            errors: s.errors,
            medianUs: med,
            p99Us: p99,
            addedMedianUs: med - dMed,
            addedP99Us: p99 - dP99,
            rounds: s.rounds,
          };
          if (scenario === "stream") {
            row.ttftMedianUs = quantile(s.ttftUs, 0.5);
            row.ttftP99Us = quantile(s.ttftUs, 0.99);
            row.addedTtftMedianUs = row.ttftMedianUs - dTtftMed;
            row.addedTtftP99Us = row.ttftP99Us - dTtftP99;
          }
          if (t.server) {
            row.serverCpuUsPerRequest = s.cpuUs / s.requests;
            row.serverGcUsPerRequest = s.gcUs / s.requests;
            row.upstreamReadsPerRequest = s.reads / s.requests;
          }
          const warmCpu = warmupCpuUs.get(t);
          if (warmCpu !== undefined) row.warmupCpuUsPerRequest = warmCpu / warmup;
          rows.push(row);
        });
        process.stderr.write(`bench: gateway ${scenario} c${concurrency} done\n`);
      }
    }

    // Sustained rate: every server climbs the ladder of rates together, each step beside a direct
    // call measured right before it (climbRates); each server warmed up first.
    const plainBody = JSON.stringify({ model: MODEL, messages: plainMessages });
    const highest: Record<string, number | undefined> = {};
    const direct = targets[0] as Target;
    const warmSeconds = Math.min(2, options.rateSeconds);
    const climbing = targets
      .slice(1)
      .filter((t) => t.key !== "orchestrator-no-metrics" && t.key !== "orchestrator-responses");
    await openLoop(direct, plainBody, rates[0] as number, warmSeconds);
    for (const t of climbing) await openLoop(t, plainBody, rates[0] as number, warmSeconds);
    const climb = await climbRates({
      rates,
      contenders: climbing,
      nameOf: (t) => t.name,
      direct: async (rate) => {
        const d = await openLoop(direct, plainBody, rate, options.rateSeconds);
        return { p99Us: quantile(d.latUs, 0.99), errors: d.errors };
      },
      run: async (t, rate) => {
        const r = await openLoop(t, plainBody, rate, options.rateSeconds);
        return { p99Us: quantile(r.latUs, 0.99), errors: r.errors };
      },
      maxAddedP99Us: 5_000,
      onStop: (t, top) => process.stderr.write(`bench: gateway rate ${t.name}: ${top ?? "none"}/s\n`),
    });
    for (const [t, top] of climb.highest) highest[t.name] = top;

    // RSS growth over many requests: warm up, collect garbage, RSS; the requests; collect, RSS.
    const rssGrowth: GatewayExtra["rssGrowth"] = { requests: options.rssRequests, concurrency: 64, byContender: {} };
    for (const t of targets) {
      if (!t.server || t.key === "orchestrator-no-metrics" || t.key === "orchestrator-responses") continue;
      await closedLoop(t, plainBody, Math.min(2_000, options.rssRequests), 64);
      const before = await t.server.stats({ gc: true });
      const errors = await closedLoop(t, plainBody, options.rssRequests, 64);
      const after = await t.server.stats({ gc: true });
      rssGrowth.byContender[t.name] = {
        beforeMb: mb(before.rssBytes),
        afterMb: mb(after.rssBytes),
        growthMb: mb(after.rssBytes - before.rssBytes),
        errors,
      };
      process.stderr.write(
        `bench: gateway rss ${t.name}: ${mb(after.rssBytes - before.rssBytes).toFixed(1)} MB over ${options.rssRequests}\n`,
      );
    }

    const rss: GatewayExtra["rss"] = {};
    for (const t of targets) {
      if (!t.server || t.key === "orchestrator-no-metrics" || t.key === "orchestrator-responses") continue;
      const end = await t.server.stats({ gc: true });
      rss[t.name] = { beforeMb: mb((rssStart.get(t.key) as ProcessStats).rssBytes), afterMb: mb(end.rssBytes) };
    }

    const extra: GatewayExtra = {
      upstream: "@orchestrator-ts/testing startOpenAIServer in a child process",
      orchestrator: orchestratorHow,
      warmup,
      rows,
      rss,
      rate: {
        seconds: options.rateSeconds,
        rates,
        direct: climb.direct,
        highest,
        steps: climb.steps,
        ...(climb.ceiling === undefined ? {} : { ceiling: climb.ceiling }),
      },
      rssGrowth,
      goals: goalsOf(rows, highest, rssGrowth, targets),
    };
    const result: CaseResult = {
      case: "gateway",
      date: new Date().toISOString(),
      node: process.version,
      notes:
        "Each server in its own process in front of one loopback OpenAI upstream (its own process); the client is the openai SDK (latency) and undici (rate, RSS).",
      results: [],
      extra: extra as unknown as Record<string, unknown>,
    };
    return { result, markdown: markdownOf(extra, options) };
  } finally {
    for (const t of targets) await t.pool.close().catch(() => undefined);
    for (const s of servers) await s.stop();
    await upstream.stop();
  }
}

function goalsOf(
  rows: GatewayRow[],
  highest: Record<string, number | undefined>,
  growth: GatewayExtra["rssGrowth"],
  targets: Target[],
): GatewayExtra["goals"] {
  const goals: GatewayExtra["goals"] = [];
  const proxy = targets.find((t) => t.key === "proxy");
  const ours = targets.filter((t) => t.key === "orchestrator" || t.key === "portkey");
  for (const t of ours) {
    if (proxy) {
      for (const scenario of ["plain", "stream"] as const) {
        for (const concurrency of CONCURRENCIES) {
          const mine = rows.find(
            (r) => r.contender === t.name && r.scenario === scenario && r.concurrency === concurrency,
          );
          const floor = rows.find(
            (r) => r.contender === proxy.name && r.scenario === scenario && r.concurrency === concurrency,
          );
          if (!mine || !floor) continue;
          const check = (
            goal: string,
            a: number | undefined,
            b: number | undefined,
            max: number,
            rounds?: PairedRatio,
          ) => {
            const r = divide(a, b);
            goals.push({
              goal,
              contender: t.name,
              value: r === undefined ? `${fmt(a)} vs ${fmt(b)} µs` : `${r.toFixed(2)}×`,
              ok: r === undefined ? undefined : r <= max,
              ...(rounds === undefined ? {} : { rounds }),
            });
          };
          check(
            `added median latency, ${scenario} c${concurrency} ≤ 1.2× proxy`,
            mine.addedMedianUs,
            floor.addedMedianUs,
            1.2,
          );
          if (scenario === "stream")
            check(
              `added median time to first text, c${concurrency} ≤ 1.2× proxy`,
              mine.addedTtftMedianUs,
              floor.addedTtftMedianUs,
              1.2,
            );
          check(
            `server CPU per request, ${scenario} c${concurrency} ≤ 1.3× proxy`,
            mine.serverCpuUsPerRequest,
            floor.serverCpuUsPerRequest,
            1.3,
            // Latency is not paired so: a round's added latency subtracts the direct call's median
            // from another moment of the round, and at c64 that difference is mostly the drift.
            pairedRatio(mine.rounds, floor.rounds, (r) => r.serverCpuUsPerRequest, 1.3),
          );
        }
      }
      const rate = divide(highest[t.name] ?? 0, highest[proxy.name]);
      goals.push({
        goal: "sustained rate ≥ 0.8× proxy",
        contender: t.name,
        value: `${fmt(highest[t.name])} vs ${fmt(highest[proxy.name])}/s`,
        ok: rate === undefined ? undefined : rate >= 0.8,
      });
    }
    const g = growth.byContender[t.name];
    if (g)
      goals.push({
        goal: `RSS growth over ${fmt(growth.requests)} requests ≤ 30 MB`,
        contender: t.name,
        // A run with failed requests does not count, whatever its growth: say so beside the figure.
        value: `${g.growthMb.toFixed(1)} MB${g.errors > 0 ? ` (${fmt(g.errors)} failed requests)` : ""}`,
        ok: g.growthMb <= 30 && g.errors === 0,
      });
  }
  return goals;
}

/** `1.42× [1.28–1.57×]` (the interval's coverage is in the text above the table), or `1.42× (n rounds: no interval)`. */
function pairedText(p: PairedRatio | undefined): string {
  if (p === undefined) return "";
  return p.low === undefined || p.high === undefined
    ? `${p.median.toFixed(2)}× (${p.rounds} rounds: no interval)`
    : `${p.median.toFixed(2)}× [${p.low.toFixed(2)}–${p.high.toFixed(2)}×]`;
}

function markdownOf(extra: GatewayExtra, options: GatewayCaseOptions): string {
  const us = (n: number | undefined) => fmt(n);
  const proxyName = extra.rows.find((r) => r.contender.startsWith("minimal proxy"))?.contender;
  const floorOf = (r: GatewayRow) =>
    extra.rows.find((x) => x.contender === proxyName && x.scenario === r.scenario && x.concurrency === r.concurrency);
  const cpuLessGc = (r: GatewayRow | undefined) =>
    r?.serverCpuUsPerRequest === undefined || r.serverGcUsPerRequest === undefined
      ? undefined
      : r.serverCpuUsPerRequest - r.serverGcUsPerRequest;
  const lines = [
    "### gateway",
    "",
    `Each server in its own process, in front of one loopback OpenAI upstream (its own process); latency through the openai SDK, ${extra.rows[0]?.requests ?? 0} plain calls per contender at concurrency 1 (3.2× at 64), interleaved rounds, each scenario and concurrency measured after ${fmt(extra.warmup)} warm-up calls per contender. Added = over the direct call in the same run; ratios are to the minimal proxy's added latency and CPU. Our gateway: ${extra.orchestrator}; the same without /metrics shows what the metrics cost, and the same asked through the Responses API what that face costs (latency and CPU only). Portkey sleeps ~25 ms before a stream's first chunk. Our gateway hands on text deltas that it read together as one chunk, so its client parses fewer events than the direct call's: through it a stream's latency can be below the direct call's (added latency negative).`,
    "",
    "| contender | scenario | conc. | median µs | p99 µs | added median µs | added p99 µs | first text: added median µs | added p99 µs | server CPU µs/req | added median vs proxy | CPU vs proxy | errors |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...extra.rows.map((r) => {
      const floor = floorOf(r);
      const direct = r.serverCpuUsPerRequest === undefined;
      return `| ${r.contender} | ${r.scenario} | ${r.concurrency} | ${us(r.medianUs)} | ${us(r.p99Us)} | ${direct ? "" : us(r.addedMedianUs)} | ${direct ? "" : us(r.addedP99Us)} | ${direct || r.scenario === "plain" ? "" : us(r.addedTtftMedianUs)} | ${direct || r.scenario === "plain" ? "" : us(r.addedTtftP99Us)} | ${direct ? "" : us(r.serverCpuUsPerRequest)} | ${direct ? "" : ratio(r.addedMedianUs, floor?.addedMedianUs)} | ${direct ? "" : ratio(r.serverCpuUsPerRequest, floor?.serverCpuUsPerRequest)} | ${r.errors} |`;
    }),
    "",
    "Where the server's CPU went, in the measured rounds: the part spent in garbage collection, and how many reads of the upstream's answer each request took. The minimal proxy's cost follows its reads (each is forwarded as it comes), which depend on timing: the upstream writes a stream's frames one by one, and a server that reads them later gets more of them per read. A gateway that parses the answer pays per event as well.",
    "",
    "| contender | scenario | conc. | server CPU µs/req | GC µs/req | CPU less GC vs proxy | upstream reads/req |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...extra.rows
      .filter((r) => r.serverCpuUsPerRequest !== undefined)
      .map(
        (r) =>
          `| ${r.contender} | ${r.scenario} | ${r.concurrency} | ${us(r.serverCpuUsPerRequest)} | ${us(r.serverGcUsPerRequest)} | ${ratio(cpuLessGc(r), cpuLessGc(floorOf(r)))} | ${fmt(r.upstreamReadsPerRequest, 1)} |`,
      ),
    "",
    "Round by round (min / median / max over the measured rounds): the direct call's median and what the processes every contender shares spent per call (the upstream, over all contenders' rounds; the bench's client, over the direct call's), beside the proxy's and our server's CPU. The upstream's CPU comes from /proc in 10 ms ticks: a round of it is a few ticks, so each of its figures is ±1 tick over the round's calls. A phase in which the direct call's own medians spread widely drifted: its ratios are weaker evidence.",
    "",
    "| scenario | conc. | direct median µs | direct max / min | upstream CPU µs/call | client CPU µs/call (direct) | proxy CPU µs/req | our CPU µs/req |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...(["plain", "stream"] as const).flatMap((scenario) =>
      CONCURRENCIES.map((concurrency) => {
        const rows = extra.rows.filter((r) => r.scenario === scenario && r.concurrency === concurrency);
        const direct = rows.find((r) => r.serverCpuUsPerRequest === undefined);
        const proxy = rows.find((r) => r.contender === proxyName);
        const ours = rows.find((r) => r.contender === "orchestrator gateway");
        const span = (x: ReturnType<typeof spread>) =>
          x === undefined ? "–" : `${fmt(x.min)} / ${fmt(x.median)} / ${fmt(x.max)}`;
        const medians = spread(direct?.rounds.map((r) => r.medianUs) ?? []);
        return `| ${scenario} | ${concurrency} | ${span(medians)} | ${ratio(medians?.max, medians?.min)} | ${span(spread(rows.flatMap((r) => r.rounds.map((x) => x.upstreamCpuUsPerRequest))))} | ${span(spread(direct?.rounds.map((r) => r.clientCpuUsPerRequest) ?? []))} | ${span(spread(proxy?.rounds.map((r) => r.serverCpuUsPerRequest) ?? []))} | ${span(spread(ours?.rounds.map((r) => r.serverCpuUsPerRequest) ?? []))} |`;
      }),
    ),
    "",
    `While warming: each server's CPU per request over those ${fmt(extra.warmup)} warm-up calls, which run partly unoptimised (the plain c1 row is a fresh process's first calls; the stream rows follow the plain ones).`,
    "",
    "| contender | scenario | conc. | warm-up CPU µs/req | vs proxy | measured CPU µs/req |",
    "|---|---|---:|---:|---:|---:|",
    ...extra.rows
      .filter((r) => r.warmupCpuUsPerRequest !== undefined)
      .map(
        (r) =>
          `| ${r.contender} | ${r.scenario} | ${r.concurrency} | ${us(r.warmupCpuUsPerRequest)} | ${ratio(r.warmupCpuUsPerRequest, floorOf(r)?.warmupCpuUsPerRequest)} | ${us(r.serverCpuUsPerRequest)} |`,
      ),
    "",
    `Sustained rate: the highest step of ${extra.rate.rates.join(", ")} req/s that each server holds for ${options.rateSeconds} s (open loop, undici client, plain calls) with no error and p99 ≤ the direct call's p99 at that rate (measured just before) + 5 ms; each server warmed up first. The servers climb together: at each rate the direct call, then each server still climbing, one after another, so their steps are minutes apart, not a whole search. A failed step is tried once more, after a fresh direct call, for every server alike: on 2 shared vCPUs a moment that stalls every process would otherwise end a search by itself; a server stops at a step it fails twice in a row. The direct call must hold each rate as well (no error, p99 at most 5 ms over its own at the first rate, in one of two tries): where it does not, the machine's client and upstream are past what they sustain alone, and the climb ends there${extra.rate.ceiling === undefined ? "" : ` — in this run at ${fmt(extra.rate.ceiling)}/s`}. RSS growth: ${fmt(extra.rssGrowth.requests)} plain requests at concurrency ${extra.rssGrowth.concurrency}, after a warm-up; each RSS reading is settled: GC, a 1 s pause, GC.`,
    "",
    "| server | highest rate req/s | vs proxy | stopped at | RSS at start MB | RSS at end MB | RSS growth MB |",
    "|---|---:|---:|---|---:|---:|---:|",
    ...Object.keys(extra.rss).map((name) => {
      const g = extra.rssGrowth.byContender[name];
      const lastTried = extra.rate.steps.filter((s) => s.contender === name && !s.undecided).at(-1);
      const failed =
        lastTried && !lastTried.ok
          ? extra.rate.steps.filter((s) => s.contender === name && s.rate === lastTried.rate)
          : [];
      const stopped =
        failed.length > 0
          ? `${failed[0]?.rate}/s: p99 ${failed.map((s) => `+${fmt(s.addedP99Us / 1000, 1)} ms`).join(", then ")}; ${failed.map((s) => s.errors).join(" and ")} errors`
          : extra.rate.ceiling !== undefined
            ? `the machine's ceiling: the direct call alone did not hold ${fmt(extra.rate.ceiling)}/s`
            : "";
      return `| ${name} | ${fmt(extra.rate.highest[name])} | ${ratio(extra.rate.highest[name], proxyName ? extra.rate.highest[proxyName] : undefined)} | ${stopped} | ${fmt(extra.rss[name]?.beforeMb, 1)} | ${fmt(extra.rss[name]?.afterMb, 1)} | ${fmt(g?.growthMb, 1)} |`;
    }),
    "",
    "The climb, step by step, in the order run (p99 in ms; a second try follows the first):",
    "",
    "| req/s | server | try | direct p99 | server p99 | added p99 | errors | held |",
    "|---:|---|---:|---:|---:|---:|---:|:---:|",
    ...extra.rate.steps.map(
      (s) =>
        `| ${fmt(s.rate)} | ${s.contender} | ${s.attempt} | ${fmt(s.directP99Us / 1000, 1)} | ${fmt(s.p99Us / 1000, 1)} | ${fmt(s.addedP99Us / 1000, 1)} | ${s.errors} | ${s.undecided ? "undecided (ceiling)" : s.ok ? "yes" : "**no**"} |`,
    ),
    "",
    "The goals, read as the issue sets them: the phase's pooled figures. For CPU, also round by round: each round's ratio (the two servers' turns in a round are seconds apart), the median of those and an interval that holds the true median with ≥ 90% whatever the distribution (order statistics). Where that interval lies across the line, this run does not decide the goal, whichever way its pooled value fell.",
    "",
    "| goal | contender | value | met | round by round: median [interval] | decided by this run |",
    "|---|---|---:|:---:|---:|:---:|",
    ...extra.goals.map(
      (g) =>
        `| ${g.goal} | ${g.contender} | ${g.value} | ${g.ok === undefined ? "– (proxy's number in the noise)" : g.ok ? "yes" : "**no**"} | ${pairedText(g.rounds)} | ${g.rounds === undefined ? "" : g.rounds.verdict === "undecided" ? "undecided" : g.rounds.verdict === "met" ? "met" : "**not met**"} |`,
    ),
    "",
  ];
  return lines.join("\n");
}
