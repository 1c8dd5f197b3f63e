// What a provider reports (token counts, a price) is added into statistics that every later
// selection reads — shared through Redis in a fleet. One NaN there makes every mean NaN for good:
// scores stop comparing, a failing model stays first, and a sum Redis refuses is sent again and
// again. So a count or cost that is not a finite, non-negative number is treated as not reported.

/** `value` when it is a finite number ≥ 0, else `undefined` (unknown). */
export function countOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" && value >= 0 && value !== Number.POSITIVE_INFINITY ? value : undefined;
}

const USAGE_FIELDS = ["inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens"] as const;

/** `usage` with every count that is not a finite number ≥ 0 ("n/a", NaN, -1) left out; the same object when all are fine. */
export function checkedUsage<U extends object>(usage: U): U {
  const record = usage as Record<string, unknown>;
  let bad = false;
  for (const field of USAGE_FIELDS) {
    const value = record[field];
    if (value !== undefined && countOrUndefined(value) === undefined) bad = true;
  }
  if (!bad) return usage;
  const out: Record<string, unknown> = { ...record };
  for (const field of USAGE_FIELDS)
    if (out[field] !== undefined && countOrUndefined(out[field]) === undefined) delete out[field];
  return out as U;
}
