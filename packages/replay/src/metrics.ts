import type { ReplayDataset } from "./dataset";

export interface Point {
  cost: number;
  quality: number;
  label?: string;
}

/** Average quality and cost per prompt of always choosing model `k`. */
export function singleModelPoint(data: ReplayDataset, k: number): Point {
  let q = 0;
  let c = 0;
  for (const row of data.rows) {
    q += row.quality[k] as number;
    c += row.cost[k] as number;
  }
  return { quality: q / data.rows.length, cost: c / data.rows.length, label: data.models[k] as string };
}

/** The cheapest model that is right on each prompt (the cheapest overall when none is). */
export function oraclePoint(data: ReplayDataset): Point {
  let q = 0;
  let c = 0;
  for (const row of data.rows) {
    let best = -1;
    for (let k = 0; k < data.models.length; k++) {
      if ((row.quality[k] as number) >= 1 && (best < 0 || (row.cost[k] as number) < (row.cost[best] as number)))
        best = k;
    }
    if (best < 0) {
      let cheapest = 0;
      for (let k = 1; k < data.models.length; k++)
        if ((row.cost[k] as number) < (row.cost[cheapest] as number)) cheapest = k;
      c += row.cost[cheapest] as number;
    } else {
      q += 1;
      c += row.cost[best] as number;
    }
  }
  return { quality: q / data.rows.length, cost: c / data.rows.length, label: "oracle" };
}

export function randomPoint(data: ReplayDataset): Point {
  const points = data.models.map((_, k) => singleModelPoint(data, k));
  return {
    quality: points.reduce((s, p) => s + p.quality, 0) / points.length,
    cost: points.reduce((s, p) => s + p.cost, 0) / points.length,
    label: "uniform random",
  };
}

/**
 * The non-decreasing convex hull of (cost, quality) points: the frontier reachable by mixing
 * routers (any point between two is reachable by choosing between them at random).
 */
export function nonDecreasingHull(points: Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a.cost - b.cost || b.quality - a.quality);
  // Keep only points that improve quality as cost grows.
  const rising: Point[] = [];
  for (const p of sorted)
    if (rising.length === 0 || p.quality > (rising[rising.length - 1] as Point).quality) rising.push(p);
  // Upper hull (concave) over those.
  const hull: Point[] = [];
  for (const p of rising) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2] as Point;
      const b = hull[hull.length - 1] as Point;
      if ((b.quality - a.quality) * (p.cost - a.cost) <= (p.quality - a.quality) * (b.cost - a.cost)) hull.pop();
      else break;
    }
    hull.push(p);
  }
  return hull;
}

/**
 * AIQ (RouterBench, Hu et al. 2024): the area under the non-decreasing convex hull of quality
 * against cost, divided by the cost range [minCost, maxCost]. Below the hull's first point the
 * quality is taken as 0 (nothing cheaper is reachable), past its last point it stays flat.
 */
export function aiq(points: Point[], minCost: number, maxCost: number): number {
  const hull = nonDecreasingHull(points).filter((p) => p.cost <= maxCost);
  if (hull.length === 0 || maxCost <= minCost) return 0;
  let area = 0;
  const first = hull[0] as Point;
  let prev: Point = first.cost <= minCost ? first : { cost: first.cost, quality: first.quality };
  let start = Math.max(minCost, first.cost);
  for (let i = 1; i < hull.length; i++) {
    const p = hull[i] as Point;
    if (p.cost <= minCost) {
      prev = p;
      start = minCost;
      continue;
    }
    // Linear interpolation between prev and p, clipped at minCost.
    const x0 = Math.max(prev.cost, minCost);
    const q0 =
      prev.cost >= minCost
        ? prev.quality
        : prev.quality + ((p.quality - prev.quality) * (minCost - prev.cost)) / (p.cost - prev.cost);
    area += ((q0 + p.quality) / 2) * (p.cost - x0);
    prev = p;
  }
  area += prev.quality * (maxCost - Math.max(prev.cost, start));
  return area / (maxCost - minCost);
}
