const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)/gy;
const PLAIN_NUMBER = /^(\d+(?:\.\d+)?|\.\d+)$/;

/**
 * A YAML duration in milliseconds. Plain numbers are seconds, as in the seed (`ttl: 3600`,
 * `check_interval: 300`); strings may carry units (`"500ms"`, `"30s"`, `"5m"`, `"1h30m"`, `"1d"`).
 * `undefined` when the value is not a duration.
 */
export function parseDuration(value: unknown): number | undefined {
  // A number of seconds too large for milliseconds (1e308 × 1000 is Infinity) is not a duration either.
  if (typeof value === "number") return value >= 0 && Number.isFinite(value * 1000) ? value * 1000 : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (PLAIN_NUMBER.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (text === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let at = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? Number.NaN);
    at = PART.lastIndex;
    while (text[at] === " ") at++;
    PART.lastIndex = at;
  }
  return at === text.length && Number.isFinite(total) ? total : undefined;
}

export const DURATION_HINT = 'a number of seconds (300) or a number with a unit: "500ms", "30s", "5m", "1h"';
