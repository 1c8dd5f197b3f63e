import { type Point, nonDecreasingHull } from "./metrics";

export interface SvgCurve {
  label: string;
  points: readonly Point[];
  /** CSS colour. Default from a small palette. */
  color?: string;
  /** Draw the curve's non-decreasing convex hull instead of the raw points in cost order. */
  hull?: boolean;
}

export interface SvgPlotOptions {
  title?: string;
  /** Labelled dots (single models, baselines). */
  points?: readonly Point[];
  /** Draw the hull of `points` as a dashed line. Default true. */
  pointsHull?: boolean;
  curves?: readonly SvgCurve[];
  /** Vertical guide lines (e.g. a budget), with labels. */
  markers?: readonly { cost: number; label: string }[];
  width?: number;
  height?: number;
  /** Log-scale cost axis (default true: model prices span two orders of magnitude). */
  logCost?: boolean;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function num(x: number): string {
  return Number.isFinite(x) ? (Math.round(x * 10) / 10).toString() : "0";
}

/**
 * A small hand-written SVG plot of quality (y) against cost per request (x): labelled dots for
 * single models and baselines, their hull, and policy curves (e.g. a λ sweep). No dependencies.
 */
export function renderSvg(options: SvgPlotOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 480;
  const logCost = options.logCost ?? true;
  const margin = { left: 64, right: 24, top: options.title ? 40 : 16, bottom: 48 };
  const dots = options.points ?? [];
  const curves = options.curves ?? [];
  const all = [...dots, ...curves.flatMap((c) => c.points)].filter(
    (p) => Number.isFinite(p.cost) && Number.isFinite(p.quality) && (!logCost || p.cost > 0),
  );
  const costs = all.map((p) => p.cost);
  const qualities = all.map((p) => p.quality);
  let xMin = Math.min(...costs, ...(options.markers ?? []).map((m) => m.cost));
  let xMax = Math.max(...costs, ...(options.markers ?? []).map((m) => m.cost));
  if (!Number.isFinite(xMin)) [xMin, xMax] = [1e-4, 1e-2];
  const fx = logCost ? (c: number) => Math.log10(Math.max(c, 1e-12)) : (c: number) => c;
  let x0 = fx(xMin);
  let x1 = fx(xMax);
  const padX = (x1 - x0 || 1) * 0.05;
  x0 -= padX;
  x1 += padX;
  let y0 = Math.min(...qualities, 1);
  let y1 = Math.max(...qualities, 0);
  if (!Number.isFinite(y0)) [y0, y1] = [0, 1];
  y0 = Math.max(0, Math.floor((y0 - 0.02) * 20) / 20);
  y1 = Math.min(1, Math.ceil((y1 + 0.02) * 20) / 20);
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (c: number) => margin.left + ((fx(c) - x0) / (x1 - x0)) * plotW;
  const sy = (q: number) => margin.top + (1 - (q - y0) / (y1 - y0 || 1)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title)
    out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${esc(options.title)}</text>`);
  // Axes and ticks.
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  for (let q = Math.ceil(y0 * 20) / 20; q <= y1 + 1e-9; q += 0.05) {
    const y = sy(q);
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${num(y)}" y2="${num(y)}" stroke="#eee"/>`);
    out.push(`<text x="${margin.left - 6}" y="${num(y + 4)}" text-anchor="end">${q.toFixed(2)}</text>`);
  }
  if (logCost) {
    for (let e = Math.floor(x0); e <= Math.ceil(x1); e++) {
      for (const m of [1, 2, 5]) {
        const c = m * 10 ** e;
        if (fx(c) < x0 || fx(c) > x1) continue;
        const x = sx(c);
        out.push(`<line x1="${num(x)}" x2="${num(x)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#eee"/>`);
        out.push(
          `<text x="${num(x)}" y="${margin.top + plotH + 16}" text-anchor="middle">${c.toExponential(0)}</text>`,
        );
      }
    }
  } else {
    for (let i = 0; i <= 5; i++) {
      const c = xMin + ((xMax - xMin) * i) / 5;
      out.push(
        `<text x="${num(sx(c))}" y="${margin.top + plotH + 16}" text-anchor="middle">${c.toExponential(1)}</text>`,
      );
    }
  }
  out.push(
    `<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">USD per request${logCost ? " (log scale)" : ""}</text>`,
  );
  out.push(
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">quality (accuracy)</text>`,
  );
  for (const m of options.markers ?? []) {
    const x = sx(m.cost);
    out.push(
      `<line x1="${num(x)}" x2="${num(x)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#999" stroke-dasharray="2 3"/>`,
    );
    out.push(`<text x="${num(x + 3)}" y="${margin.top + 12}" fill="#666">${esc(m.label)}</text>`);
  }
  const path = (pts: readonly Point[]) =>
    pts.map((p, i) => `${i === 0 ? "M" : "L"}${num(sx(p.cost))},${num(sy(p.quality))}`).join(" ");
  const visible = (p: Point) => !logCost || p.cost > 0;
  if (dots.length > 1 && options.pointsHull !== false)
    out.push(
      `<path d="${path(nonDecreasingHull(dots.filter(visible)))}" fill="none" stroke="#888" stroke-dasharray="5 4"/>`,
    );
  for (const p of dots.filter(visible)) {
    out.push(`<circle cx="${num(sx(p.cost))}" cy="${num(sy(p.quality))}" r="3.5" fill="#555"/>`);
    if (p.label)
      out.push(
        `<text x="${num(sx(p.cost) + 5)}" y="${num(sy(p.quality) - 5)}" fill="#333">${esc(p.label.split("/").pop() ?? p.label)}</text>`,
      );
  }
  curves.forEach((c, i) => {
    const color = c.color ?? (PALETTE[i % PALETTE.length] as string);
    const pts = (c.hull ? nonDecreasingHull([...c.points]) : [...c.points].sort((a, b) => a.cost - b.cost)).filter(
      visible,
    );
    out.push(`<path d="${path(pts)}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of c.points.filter(visible))
      out.push(`<circle cx="${num(sx(p.cost))}" cy="${num(sy(p.quality))}" r="2.5" fill="${color}"/>`);
    const ly = margin.top + plotH - 12 - 16 * (curves.length - 1 - i);
    out.push(
      `<line x1="${margin.left + plotW - 190}" x2="${margin.left + plotW - 170}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${margin.left + plotW - 165}" y="${ly}">${esc(c.label)}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
