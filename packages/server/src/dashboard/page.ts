// The dashboard's HTML, rendered on the server. Every value that comes from outside (model names,
// error messages, key names, reasons) goes through `esc`; the page's CSP allows only its own
// nonce'd script, so even a value that slipped through could not run.
import type { Decision, MinuteBucket } from "./activity";
import { renderCascade } from "./cascade-view";
import { esc } from "./escape";

export { esc };

/** One model's row of the dashboard: its counters, latency, reward, health and circuit. */
export interface ModelView {
  name: string;
  provider: string;
  calls: number;
  successRate: number | undefined;
  p50: number | undefined;
  p95: number | undefined;
  tokensPerSecond: number | undefined;
  costUsd: number;
  meanReward: number | undefined;
  /** Half-width of the 95% confidence interval of the mean reward. */
  rewardBound: number | undefined;
  trials: number;
  health: string;
  available: boolean;
  reason: string | undefined;
  circuit: string | undefined;
  headroom: string | undefined;
}

/** Spend per key against its budget, per model (30 days) and per UTC day (the last 7). */
export interface SpendView {
  keys: {
    name: string;
    budgetUsd: number | undefined;
    period: string | undefined;
    spentUsd: number;
    resetsAt: string | undefined;
    revoked: boolean;
  }[];
  models: { name: string; costUsd: number; requests: number }[];
  days: { day: string; costUsd: number }[];
}

export interface Totals {
  requests: number;
  errors: number;
  costUsd: number;
  cacheHits: number;
  cacheLookups: number;
}

const pct = (v: number | undefined): string => (v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const ms = (v: number | undefined): string =>
  v === undefined ? "—" : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(2)} s`;
export const usd = (v: number | undefined): string =>
  v === undefined ? "—" : v === 0 ? "$0" : v < 0.01 ? `$${v.toFixed(6)}` : `$${v.toFixed(2)}`;
const num = (v: number | undefined, digits = 0): string =>
  v === undefined ? "—" : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** "1 trial", "2 trials": a count with its noun in the right number. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

function badge(text: string, tone: "good" | "warn" | "bad" | "muted", title?: string): string {
  return `<span class="badge ${tone}"${title ? ` title="${esc(title)}"` : ""}>${esc(text)}</span>`;
}

function healthBadge(m: ModelView): string {
  const tone =
    m.health === "healthy" ? "good" : m.health === "degraded" ? "warn" : m.health === "unhealthy" ? "bad" : "muted";
  return badge(m.health, tone, m.reason);
}

function circuitBadge(m: ModelView): string {
  const state = m.circuit ?? (m.available ? "closed" : "open");
  return badge(state, state === "closed" ? "good" : state === "half-open" ? "warn" : "bad", m.reason);
}

export function renderTotals(t: Totals): string {
  const errorRate = t.requests === 0 ? undefined : t.errors / t.requests;
  const hitRate = t.cacheLookups === 0 ? undefined : t.cacheHits / t.cacheLookups;
  const card = (label: string, value: string, id: string, tone = "") =>
    `<div class="card ${tone}"><div class="label">${label}</div><div class="value" data-total="${id}">${value}</div></div>`;
  return `<div class="cards">${card("Requests", num(t.requests), "requests")}${card("Error rate", pct(errorRate), "error-rate", errorRate !== undefined && errorRate > 0.05 ? "alert" : "")}${card("Spend", usd(t.costUsd), "spend")}${card("Cache hit rate", pct(hitRate), "cache-hit-rate")}</div>`;
}

export function renderModels(models: readonly ModelView[], selector: string): string {
  if (models.length === 0) return `<p class="empty">No models are registered.</p>`;
  const rows = models
    .map(
      (
        m,
      ) => `<tr data-model="${esc(m.name)}"><td class="name">${esc(m.name)}<div class="sub">${esc(m.provider)}</div></td>
<td class="n" data-col="calls">${num(m.calls)}</td><td class="n">${pct(m.successRate)}</td><td class="n">${ms(m.p50)}</td><td class="n">${ms(m.p95)}</td>
<td class="n">${num(m.tokensPerSecond, 1)}</td><td class="n">${usd(m.costUsd)}</td>
<td class="n">${m.meanReward === undefined ? "—" : `${m.meanReward.toFixed(3)}${m.rewardBound === undefined ? "" : ` <span class="pm">± ${m.rewardBound.toFixed(3)}</span>`}`}<div class="sub">${plural(m.trials, "trial")}</div></td>
<td>${healthBadge(m)}</td><td>${circuitBadge(m)}</td><td class="n">${m.headroom === undefined ? `<span class="muted">no limit</span>` : esc(m.headroom)}</td></tr>`,
    )
    .join("");
  return `<table class="grid" id="models-table"><thead><tr><th>Model</th><th class="n">Calls</th><th class="n">Success</th><th class="n">p50</th><th class="n">p95</th><th class="n">Tokens/s</th><th class="n">Cost</th><th class="n">Mean reward</th><th>Health</th><th>Circuit</th><th class="n">Headroom</th></tr></thead><tbody>${rows}</tbody></table>
<p class="foot">Selector: <b>${esc(selector)}</b> · reward ± its 95% confidence bound · latency and tokens/s over each model's recent calls</p>`;
}

/** UCB-style selectors score an untried model Infinity: say so rather than print it. */
function score(value: number, note: string | undefined): string {
  return Number.isFinite(value) ? `score ${value.toFixed(3)}` : (note ?? "untried");
}

function why(d: Decision): string {
  const parts: string[] = [];
  for (const s of d.selections) {
    const e = s.explanation;
    if (!e) continue;
    for (const c of e.candidates) if (!c.chosen) parts.push(`${c.model}: ${score(c.score, c.note)}`);
    for (const x of e.excluded) parts.push(`${x.model}: ${x.reason}`);
    break;
  }
  return parts.slice(0, 6).join(" · ");
}

export function renderDecision(d: Decision): string {
  const r = d.record;
  const first = d.selections[0];
  const chosen = first?.explanation?.candidates.find((c) => c.chosen);
  const fallbacks = d.selections.filter((s) => s.fallback > 0).length;
  const failedAttempts = d.outcomes.filter((o) => !o.success).length;
  const ok = r.status < 400;
  const time = new Date(d.at).toISOString().slice(11, 19);
  const route = r.requested !== undefined && r.requested !== r.model ? r.requested : (r.requested ?? "—");
  const flags = [
    r.cached ? badge("cache hit", "good") : "",
    r.cascade
      ? badge(
          r.cascade.escalated ? `cascade · escalated ×${r.cascade.stages.length - 1}` : "cascade · stage 1",
          r.cascade.escalated ? "warn" : "good",
        )
      : "",
    fallbacks > 0
      ? badge(`fallback ×${fallbacks}`, "warn", `${plural(failedAttempts, "failed attempt")} before this answer`)
      : "",
    r.stream ? badge("stream", "muted") : "",
    ok ? "" : badge(r.errorCode ?? String(r.status), "bad"),
  ].join("");
  // A model asked for by name was not chosen by the selector: no score, no alternatives to show.
  const named = r.requested !== undefined && r.requested === (r.model ?? first?.model);
  const alternatives = named || r.cascade !== undefined ? "" : why(d);
  return `<tr class="decision" data-seq="${d.seq}"><td class="t">${time}</td><td>${esc(r.endpoint)}<div class="sub">${esc(r.keyName ?? "")}</div></td><td>${esc(route)}</td>
<td class="name nw">${esc(r.model ?? first?.model ?? "—")}${ok ? "" : `<div class="sub">failed: ${esc(r.errorCode ?? `HTTP ${r.status}`)}</div>`}</td><td class="n">${r.cascade ? `<span class="muted">cascade</span>` : named ? `<span class="muted">by name</span>` : chosen ? esc(score(chosen.score, chosen.note)) : "—"}</td><td class="why">${r.cascade ? renderCascade(r.cascade) : alternatives === "" ? `<span class="muted">${named ? "asked for by name" : first?.explanation ? "no alternative" : "—"}</span>` : esc(alternatives)}</td>
<td class="n">${ms(r.latencyMs)}</td><td class="n">${usd(r.costUsd)}</td><td>${badge(String(r.status), ok ? "good" : "bad")}${flags}</td></tr>`;
}

export function renderFeed(decisions: readonly Decision[]): string {
  return `<table class="grid" id="feed-table"><thead><tr><th>Time</th><th>Endpoint</th><th>Asked for</th><th>Chosen</th><th class="n">Score</th><th>Alternatives and why not</th><th class="n">Latency</th><th class="n">Cost</th><th>Result</th></tr></thead><tbody id="feed">${decisions.map(renderDecision).join("")}</tbody></table>${decisions.length === 0 ? `<p class="empty" id="feed-empty">No decisions yet: send a request to /v1/chat/completions and it appears here live.</p>` : ""}`;
}

const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

function chart(
  title: string,
  series: MinuteBucket[],
  models: string[],
  value: (cell: { requests: number; errors: number; latencyMs: number; costUsd: number }) => number | undefined,
  format: (v: number) => string,
): string {
  const w = 320;
  const h = 90;
  let max = 0;
  const lines = models.map((model) =>
    series.map((b) => {
      const cell = b.models.get(model);
      const v = cell ? value(cell) : undefined;
      if (v !== undefined && v > max) max = v;
      return v;
    }),
  );
  const x = (i: number) => (series.length <= 1 ? 0 : (i / (series.length - 1)) * w);
  const y = (v: number) => h - 4 - (max === 0 ? 0 : (v / max) * (h - 12));
  const paths = lines
    .map((vals, k) => {
      const pts = vals.map((v, i) => `${x(i).toFixed(1)},${y(v ?? 0).toFixed(1)}`).join(" ");
      return `<polyline fill="none" stroke="${PALETTE[k % PALETTE.length]}" stroke-width="1.6" points="${pts}"><title>${esc(models[k])}</title></polyline>`;
    })
    .join("");
  return `<figure class="chart"><figcaption>${esc(title)} <span class="muted">max ${format(max)}</span></figcaption><svg viewBox="0 0 ${w} ${h}" width="100%" height="${h}" role="img" aria-label="${esc(title)}"><line x1="0" y1="${h - 4}" x2="${w}" y2="${h - 4}" stroke="#e5e7eb"/>${paths}</svg></figure>`;
}

export function renderCharts(series: MinuteBucket[]): string {
  const names = new Set<string>();
  for (const b of series) for (const n of b.models.keys()) names.add(n);
  const models = [...names].slice(0, PALETTE.length);
  if (models.length === 0) return `<p class="empty">No traffic in the last ${series.length} minutes.</p>`;
  const legend = models
    .map((m, k) => `<span class="key"><i style="background:${PALETTE[k]}"></i>${esc(m)}</span>`)
    .join("");
  return `<div class="legend">${legend}<span class="muted"> · last ${series.length} minutes, per minute</span></div><div class="charts">${chart(
    "Requests / min",
    series,
    models,
    (c) => c.requests,
    (v) => num(v),
  )}${chart("Mean latency", series, models, (c) => (c.requests === 0 ? undefined : c.latencyMs / c.requests), ms)}${chart("Cost / min", series, models, (c) => c.costUsd, usd)}</div>`;
}

export function renderSpend(spend: SpendView | undefined): string {
  if (!spend)
    return `<p class="empty">Spend per key appears when the gateway runs with keys (set <code>ORCHESTRATOR_MASTER_KEY</code> or add a <code>keys:</code> section).</p>`;
  const bar = (spent: number, budget: number | undefined) => {
    if (budget === undefined || budget <= 0) return `<span class="muted">no budget</span>`;
    const share = Math.min(1, spent / budget);
    const tone = share >= 0.9 ? "bad" : share >= 0.7 ? "warn" : "good";
    return `<div class="meter ${tone}"><div style="width:${(share * 100).toFixed(1)}%"></div></div><span class="sub">${pct(spent / budget)} of ${usd(budget)}</span>`;
  };
  const keys =
    spend.keys.length === 0
      ? `<p class="empty">No keys yet.</p>`
      : `<table class="grid"><thead><tr><th>Key</th><th class="n">Spent</th><th>Budget</th><th>Period</th></tr></thead><tbody>${spend.keys.map((k) => `<tr><td class="name">${esc(k.name)}${k.revoked ? ` ${badge("revoked", "muted")}` : ""}</td><td class="n">${usd(k.spentUsd)}</td><td>${bar(k.spentUsd, k.budgetUsd)}</td><td>${esc(k.period ?? "—")}${k.resetsAt ? `<div class="sub">resets ${esc(k.resetsAt.slice(0, 16).replace("T", " "))}</div>` : ""}</td></tr>`).join("")}</tbody></table>`;
  const models = `<table class="grid"><thead><tr><th>Model (30 days)</th><th class="n">Requests</th><th class="n">Spend</th></tr></thead><tbody>${spend.models.map((m) => `<tr><td class="name">${esc(m.name)}</td><td class="n">${num(m.requests)}</td><td class="n">${usd(m.costUsd)}</td></tr>`).join("") || `<tr><td colspan="3" class="muted">nothing spent yet</td></tr>`}</tbody></table>`;
  const maxDay = Math.max(0, ...spend.days.map((d) => d.costUsd));
  const days = `<table class="grid"><thead><tr><th>Day (UTC)</th><th class="n">Spend</th><th></th></tr></thead><tbody>${spend.days.map((d) => `<tr><td>${esc(d.day)}</td><td class="n">${usd(d.costUsd)}</td><td><div class="meter good"><div style="width:${maxDay === 0 ? 0 : ((d.costUsd / maxDay) * 100).toFixed(1)}%"></div></div></td></tr>`).join("")}</tbody></table>`;
  return `<div class="cols3">${keys}${models}${days}</div>`;
}

export interface PageParts {
  title: string;
  base: string;
  nonce: string;
  totals: string;
  models: string;
  feed: string;
  charts: string;
  spend: string;
  replay: string;
  live: boolean;
}

const STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--good:#15803d;--good-bg:#dcfce7;--warn:#a16207;--warn-bg:#fef3c7;--bad:#b91c1c;--bad-bg:#fee2e2;--accent:#2563eb}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;gap:16px;padding:14px 24px;background:#0f172a;color:#fff}header h1{font-size:17px;margin:0;font-weight:600}header .live{font-size:12px;color:#a7f3d0}header .live.off{color:#fca5a5}
header form{margin-left:auto}header button{background:transparent;border:1px solid #475569;color:#cbd5e1;border-radius:6px;padding:4px 10px;cursor:pointer}
nav{display:flex;gap:4px;padding:0 24px;background:#0f172a}nav a{color:#cbd5e1;text-decoration:none;padding:8px 12px;border-radius:6px 6px 0 0;font-size:13px}nav a:hover{background:#1e293b}
main{padding:18px 24px;max-width:1400px;margin:0 auto}section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin-bottom:16px}
h2{font-size:15px;margin:0 0 10px;font-weight:600}.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:26px;font-weight:600;font-variant-numeric:tabular-nums}.card.alert .value{color:var(--bad)}
table.grid{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}table.grid th{font-size:12px;color:var(--muted);font-weight:500;text-align:left;border-bottom:1px solid var(--line);padding:6px 8px;white-space:nowrap}
table.grid td{border-bottom:1px solid #f1f5f9;padding:7px 8px;vertical-align:top}.n{text-align:right;white-space:nowrap}.name{font-weight:600;overflow-wrap:anywhere}.nw{white-space:nowrap}.sub{font-size:11px;color:var(--muted);font-weight:400}
.pm,.muted{color:var(--muted)}.cascade .stage{margin:1px 0}.cascade .ans{white-space:nowrap}.bad-text{color:var(--bad)}.why{font-size:12px;color:#374151;max-width:420px}.t{font-family:ui-monospace,monospace;font-size:12px;color:var(--muted)}
.badge{display:inline-block;font-size:11px;font-weight:600;border-radius:999px;padding:1px 8px;margin:0 4px 2px 0;white-space:nowrap}.badge.good{background:var(--good-bg);color:var(--good)}.badge.warn{background:var(--warn-bg);color:var(--warn)}.badge.bad{background:var(--bad-bg);color:var(--bad)}.badge.muted{background:#f1f5f9;color:var(--muted)}
tr.fresh td{animation:fresh 2s ease-out}@keyframes fresh{from{background:#dbeafe}to{background:transparent}}
.charts{display:grid;grid-template-columns:repeat(3,1fr);gap:16px}.chart{margin:0}.chart figcaption{font-size:12px;color:#374151;margin-bottom:4px}.legend{font-size:12px;margin-bottom:8px}.key{margin-right:12px}.key i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.meter{display:inline-block;width:120px;height:8px;background:#f1f5f9;border-radius:4px;overflow:hidden;vertical-align:middle;margin-right:6px}.meter div{height:100%}.meter.good div{background:#22c55e}.meter.warn div{background:#f59e0b}.meter.bad div{background:#ef4444}
.cols3{display:grid;grid-template-columns:1.3fr 1fr 1fr;gap:16px}.empty,.foot{color:var(--muted);font-size:13px;margin:6px 0 0}.feedwrap{max-height:560px;overflow:auto}
code{background:#f1f5f9;padding:1px 4px;border-radius:4px}
`;

export function renderPage(p: PageParts): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(p.title)}</title><style nonce="${p.nonce}">${STYLE}</style></head>
<body><header><h1>Orchestrator</h1><span class="live off" id="live">● connecting…</span><form method="post" action="${p.base}/logout"><button type="submit">Sign out</button></form></header>
<nav><a href="#models">Models</a><a href="#feed-section">Decisions</a><a href="#spend">Spend</a><a href="#charts">Over time</a><a href="#replay">Quality vs cost</a></nav>
<main><div id="totals">${p.totals}</div>
<section id="models"><h2>Models</h2><div id="models-body">${p.models}</div></section>
<section id="feed-section"><h2>Live decisions</h2><div class="feedwrap" id="feed-body">${p.feed}</div></section>
<section id="spend"><h2>Spend</h2><div id="spend-body">${p.spend}</div></section>
<section id="charts"><h2>Over time</h2><div id="charts-body">${p.charts}</div></section>
<section id="replay"><h2>Quality vs cost (replay)</h2>${p.replay}</section></main>
${p.live ? `<script nonce="${p.nonce}">${SCRIPT(p.base)}</script>` : ""}</body></html>`;
}

/** The page's only script: the SSE feed, and a refresh of the numbers when decisions arrive. */
const SCRIPT = (base: string) => `(()=>{const live=document.getElementById("live");let timer=null;
const refresh=()=>{timer=null;fetch(${JSON.stringify(`${base}?part=live`)},{credentials:"same-origin"}).then(r=>r.ok?r.json():null).then(p=>{if(!p)return;for(const k of ["totals","models-body","spend-body","charts-body"]){const el=document.getElementById(k);if(el&&p[k]!==undefined)el.innerHTML=p[k];}}).catch(()=>{});};
const es=new EventSource(${JSON.stringify(`${base}/events`)});
es.onopen=()=>{live.textContent="● live";live.className="live";};
es.onerror=()=>{live.textContent="● reconnecting…";live.className="live off";};
es.addEventListener("decision",(ev)=>{const d=JSON.parse(ev.data);const body=document.getElementById("feed");if(!body)return;
const empty=document.getElementById("feed-empty");if(empty)empty.remove();
if(body.querySelector('tr[data-seq="'+d.seq+'"]'))return;body.insertAdjacentHTML("afterbegin",d.html);const row=body.firstElementChild;if(row)row.classList.add("fresh");
while(body.children.length>200)body.lastElementChild.remove();if(!timer)timer=setTimeout(refresh,400);});})();`;

export function renderLogin(base: string, message: string | undefined): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Orchestrator — sign in</title><style>
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#0f172a;font:14px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
form{background:#fff;border-radius:12px;padding:28px 32px;width:360px;box-shadow:0 10px 30px rgba(0,0,0,.3)}h1{font-size:18px;margin:0 0 4px}p{color:#6b7280;margin:0 0 16px}
label{display:block;font-size:12px;color:#374151;margin-bottom:4px}input{width:100%;padding:8px 10px;border:1px solid #d1d5db;border-radius:6px;font:inherit;box-sizing:border-box}
button{margin-top:14px;width:100%;padding:9px;background:#2563eb;color:#fff;border:0;border-radius:6px;font:inherit;font-weight:600;cursor:pointer}.error{color:#b91c1c;background:#fee2e2;border-radius:6px;padding:8px 10px;margin-bottom:12px}
</style></head><body><form method="post" action="${base}/login"><h1>Orchestrator dashboard</h1><p>Sign in with the master key.</p>${message ? `<div class="error" role="alert">${esc(message)}</div>` : ""}
<label for="key">Master key</label><input id="key" name="key" type="password" autocomplete="current-password" required autofocus><button type="submit">Sign in</button></form></body></html>`;
}
