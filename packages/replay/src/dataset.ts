import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { ConfigError } from "@orchestrator-ts/core";
import { parseCsv } from "./csv";

/** One prompt of a full-information routing dataset: every model's recorded quality and cost. */
export interface ReplayRow {
  id: string;
  /** Task tag (RouterBench `eval_name`: arc_challenge, mbpp, winograde…). */
  task: string;
  prompt: string;
  /** Per model (in `ReplayDataset.models` order): quality in [0, 1]. */
  quality: Float64Array;
  /** Per model: USD. */
  cost: Float64Array;
  /** Per model: the text it answered (`<model>|model_response`), when the data has it; what a cascade replay extracts answers from. */
  responses?: (string | undefined)[];
}

export interface ReplayDataset {
  models: string[];
  rows: ReplayRow[];
  /** Rows left out because a score was blank, with where they were. */
  skipped: { source: string; line: number; reason: string }[];
}

/** RouterBench's prompt column is a Python list literal holding the text: `['…']`. */
function promptText(raw: string): string {
  const m = /^\[\s*(['"])([\s\S]*)\1\s*\]$/.exec(raw.trim());
  if (!m) return raw;
  // Undo the Python repr's escapes (\n, \t, \', \", \\).
  return (m[2] ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}

/**
 * Loads RouterBench-style CSVs (`sample_id, prompt, eval_name, <model>…, <model>|total_cost…`)
 * from a file, a folder (every `*.csv`, or those matching `split`: `*_train.csv`), or a list.
 */
export function loadReplayCsv(paths: string | string[], options: { split?: string } = {}): ReplayDataset {
  const files: string[] = [];
  for (const p of Array.isArray(paths) ? paths : [paths]) {
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) {
        if (f.endsWith(".csv") && (!options.split || f.endsWith(`_${options.split}.csv`))) files.push(join(p, f));
      }
    } else files.push(p);
  }
  if (files.length === 0)
    throw new ConfigError(
      `no CSV files found in ${Array.isArray(paths) ? paths.join(", ") : paths}${options.split ? ` for split "${options.split}"` : ""}`,
    );
  let models: string[] | undefined;
  const rows: ReplayRow[] = [];
  const skipped: ReplayDataset["skipped"] = [];
  for (const file of files) {
    const table = parseCsv(readFileSync(file, "utf8"));
    const header = table[0] ?? [];
    const costCols = new Map<string, number>();
    const scoreCols = new Map<string, number>();
    header.forEach((h, i) => {
      if (h.endsWith("|total_cost")) costCols.set(h.slice(0, -"|total_cost".length), i);
    });
    header.forEach((h, i) => {
      if (costCols.has(h)) scoreCols.set(h, i);
    });
    const fileModels = [...scoreCols.keys()].sort();
    if (fileModels.length === 0)
      throw new ConfigError([
        { path: "header", message: "no `<model>` / `<model>|total_cost` column pairs", source: file, line: 1 },
      ]);
    if (!models) models = fileModels;
    else if (models.join() !== fileModels.join())
      throw new ConfigError([
        {
          path: "header",
          message: `models differ from the first file's (${models.join(", ")})`,
          source: file,
          line: 1,
        },
      ]);
    const idCol = header.indexOf("sample_id");
    const promptCol = header.indexOf("prompt");
    const taskCol = header.indexOf("eval_name");
    const responseCols = fileModels.map((m) => header.indexOf(`${m}|model_response`));
    const hasResponses = responseCols.some((c) => c >= 0);
    for (let r = 1; r < table.length; r++) {
      const cells = table[r] as string[];
      const quality = new Float64Array(fileModels.length);
      const cost = new Float64Array(fileModels.length);
      let blank: string | undefined;
      fileModels.forEach((m, k) => {
        const q = cells[scoreCols.get(m) as number] ?? "";
        const c = cells[costCols.get(m) as number] ?? "";
        if (q === "" || c === "") blank ??= m;
        quality[k] = Number(q);
        cost[k] = Number(c);
      });
      if (blank) {
        skipped.push({ source: basename(file), line: r + 1, reason: `blank score or cost for ${blank}` });
        continue;
      }
      const row: ReplayRow = {
        id: cells[idCol] ?? String(r),
        task: cells[taskCol] ?? basename(file).replace(/_(train|test)\.csv$/, ""),
        prompt: promptText(cells[promptCol] ?? ""),
        quality,
        cost,
      };
      if (hasResponses) row.responses = responseCols.map((c) => (c >= 0 ? cells[c] : undefined));
      rows.push(row);
    }
  }
  return { models: models ?? [], rows, skipped };
}
