import { ProviderError, redact } from "@orchestrator-ts/core";

const MAX_DETAIL = 200;

/** Wall-clock time of day in UTC ("12:00:05 UTC"): the same text in every time zone and test run. */
export function formatClock(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(11, 19)} UTC`;
}

/**
 * A one-line, secret-free description of a failed call: "ProviderError 500: Internal server error".
 * Errors of ours are redacted at construction; anything else goes through `redact` here.
 */
export function describeError(error: unknown): string {
  let text: string;
  if (error instanceof Error) {
    const e = error;
    const status = ProviderError.isInstance(e) && e.status !== undefined ? ` ${e.status}` : "";
    text = `${e.name || "Error"}${status}: ${e.message}`;
  } else if (typeof error === "string") {
    text = error;
  } else {
    text = `non-error value thrown (${typeof error})`;
  }
  text = redact(text).replace(/\s+/g, " ").trim();
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}
