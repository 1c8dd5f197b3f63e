import { UsageError, number, parse } from "./args";
import { EXIT, type Io } from "./report";
import { table, usd } from "./output";

export const KEYS_HELP = `orchestrator keys <create|list|revoke|spend> [options]

Manage a running gateway's virtual keys over its admin API, with the master key.

  keys create --name <name> [--budget <usd>] [--period day|month|total] [--rpm <n>] [--tpm <n>] [--model <name>]…
                                 prints the new key once: it cannot be shown again
  keys list                      every key, its limits and this period's spend
  keys revoke <id>               the key stops working at once, on every gateway process
  keys spend [--by key|model|user] [--since 7d|24h|2026-12-01]

Options:
  --url <url>    the gateway (default: ORCHESTRATOR_URL, else http://127.0.0.1:4000)
  --json         machine-readable output
The master key is read from ORCHESTRATOR_MASTER_KEY (never from the command line, where other users could see it).`;

const OPTIONS = {
  url: { type: "string" },
  name: { type: "string" },
  budget: { type: "string" },
  period: { type: "string" },
  rpm: { type: "string" },
  tpm: { type: "string" },
  model: { type: "string", multiple: true },
  by: { type: "string" },
  since: { type: "string" },
} as const;

/** An answer of the admin API that was not a success: its message, as the server wrote it. */
class AdminApiError extends Error {}

// biome-ignore lint/suspicious/noExplicitAny: JSON from the admin API, printed as it comes
type Json = any;

export async function keys(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [sub, ...args] = positionals;
  if (values.help || sub === undefined) {
    io.out(KEYS_HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const base = (
    typeof values.url === "string" ? values.url : (process.env.ORCHESTRATOR_URL ?? "http://127.0.0.1:4000")
  ).replace(/\/+$/, "");
  if (!/^https?:\/\/[^\s]+$/.test(base))
    throw new UsageError(`--url must be an http(s) URL, got ${JSON.stringify(base)}`);
  const master = process.env.ORCHESTRATOR_MASTER_KEY;
  if (!master) throw new UsageError("set ORCHESTRATOR_MASTER_KEY to the gateway's master key");
  const json = values.json === true;
  const call = (method: string, path: string, body?: unknown) => request(base, master, method, path, body);
  try {
    if (sub === "create") return await create(values, call, io, json);
    if (sub === "list") return await list(call, io, json);
    if (sub === "revoke") {
      const id = args[0];
      if (!id) throw new UsageError("keys revoke needs the key's id (see `orchestrator keys list`)");
      const done = await call("DELETE", `/admin/keys/${encodeURIComponent(id)}`);
      io.out(json ? JSON.stringify(done, null, 2) : `revoked ${done.id} (${done.name}) at ${done.revokedAt}`);
      return EXIT.ok;
    }
    if (sub === "spend") {
      const query = new URLSearchParams();
      query.set("by", typeof values.by === "string" ? values.by : "key");
      if (typeof values.since === "string") query.set("since", values.since);
      const spend = await call("GET", `/admin/spend?${query}`);
      if (json) io.out(JSON.stringify(spend, null, 2));
      else {
        io.out(`spend by ${spend.by} since ${spend.since}: ${usd(spend.totalUsd)} USD`);
        io.out(
          table(
            [spend.by, "USD", "requests", "input tokens", "output tokens"],
            spend.data.map((r: Json) => [r.name, usd(r.costUsd), r.requests, r.inputTokens, r.outputTokens]),
          ),
        );
      }
      return EXIT.ok;
    }
    throw new UsageError(`unknown keys command "${sub}" (create, list, revoke, spend)`);
  } catch (error) {
    if (error instanceof AdminApiError) {
      io.err(`error: ${error.message}`);
      return EXIT.failure;
    }
    throw error;
  }
}

async function create(
  values: Record<string, unknown>,
  call: (method: string, path: string, body?: unknown) => Promise<Json>,
  io: Io,
  json: boolean,
): Promise<number> {
  if (typeof values.name !== "string" || values.name === "") throw new UsageError("keys create needs --name <name>");
  const body: Record<string, unknown> = { name: values.name };
  const budget = number(values.budget, "budget");
  if (budget !== undefined) body.budgetUsd = budget;
  if (typeof values.period === "string") body.budgetPeriod = values.period;
  const rpm = number(values.rpm, "rpm");
  if (rpm !== undefined) body.rpm = rpm;
  const tpm = number(values.tpm, "tpm");
  if (tpm !== undefined) body.tpm = tpm;
  if (Array.isArray(values.model)) body.models = values.model;
  const made = await call("POST", "/admin/keys", body);
  if (json) io.out(JSON.stringify(made, null, 2));
  else {
    io.out(`created ${made.id} (${made.name})`);
    io.out(`key: ${made.key}`);
    io.err("Store this key now: it is kept only as a hash and cannot be shown again.");
  }
  return EXIT.ok;
}

async function list(call: (method: string, path: string) => Promise<Json>, io: Io, json: boolean): Promise<number> {
  const listed = await call("GET", "/admin/keys");
  if (json) {
    io.out(JSON.stringify(listed.data, null, 2));
    return EXIT.ok;
  }
  io.out(
    table(
      ["id", "name", "status", "budget USD", "period", "spent USD", "rpm", "tpm", "models"],
      listed.data.map((k: Json) => [
        k.id,
        k.name,
        k.revokedAt ? "revoked" : k.source === "config" ? "active (config)" : "active",
        k.budgetUsd === undefined ? undefined : usd(k.budgetUsd),
        k.period,
        k.spentUsd === undefined ? undefined : usd(k.spentUsd),
        k.rpm,
        k.tpm,
        k.models ? k.models.join(",") : "all",
      ]),
    ),
  );
  return EXIT.ok;
}

async function request(base: string, master: string, method: string, path: string, body?: unknown): Promise<Json> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${master}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new AdminApiError(
      `cannot reach the gateway at ${base} (${cause?.code ?? cause?.message ?? (error as Error).message}); is \`orchestrator serve\` running there? (--url, ORCHESTRATOR_URL)`,
    );
  }
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AdminApiError(
      `${base}${path} answered ${res.status} with something that is not JSON: is it the gateway?`,
    );
  }
  if (!res.ok) throw new AdminApiError(`${res.status} ${parsed?.error?.message ?? text.slice(0, 200)}`);
  return parsed;
}
